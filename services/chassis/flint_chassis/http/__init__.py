"""The HTTP side of every Flint service: ``service_app`` builds a FastAPI app with the error
contract, edge checks, rate limits, correlation ids, idempotency, signed list cursors,
health routes and the OpenAPI conventions in place. See docs/chassis.md ("HTTP")."""

from flint_chassis.http.app import ServiceHttp, service_app, service_http
from flint_chassis.http.idempotency import IdempotencyKey, caller_of
from flint_chassis.http.lists import DEFAULT_LIMIT, After, Limit, Page, StartingAfter, page_json, split_page
from flint_chassis.http.parameters import Timestamp, raw_query
from flint_chassis.http.responses import json_response

__all__ = [
    "DEFAULT_LIMIT", "After", "IdempotencyKey", "Limit", "Page", "ServiceHttp", "StartingAfter", "Timestamp",
    "caller_of", "json_response", "page_json", "raw_query", "service_app", "service_http", "split_page",
]
