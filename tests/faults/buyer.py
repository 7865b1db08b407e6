"""A buyer paying a hosted invoice while something is broken: opens the invoice's link, posts
the sandbox's good card, and tries again as a patient buyer would (reload the page, pay
again) until the receipt or "This invoice is paid" is shown, or the load's deadline passes.

The pay page is HTML, not the API: a 503 *page* is the page's own answer when the processor's
outcome is unknown or another payment holds the invoice (docs/invoicing.md) and is retried;
any other 503 must be problem+json with ``Retry-After`` (the chassis' answer while the
database is down). A 500, or a page refusing the good card (402, 403, 404, 409, 422), is a
failure of the test. The buyer has no Idempotency-Key to send: paying once is the page's
job (the invoice's row lock and the payment id derived from the attempt), and a second post
after a lost answer is exactly what the ledger checks (one charge per invoice).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from tests.invoicing.paying import GOOD_CARD, card_form, csrf_of

if TYPE_CHECKING:
    from tests.faults.load import Load

PAID = ("Payment received", "This invoice is paid")  # the receipt; the page of a paid invoice


async def pay_hosted_invoice(load: Load, invoice: dict[str, Any]) -> bool:
    """True once the buyer saw the invoice paid; a failure or giving up is recorded in ``load``."""
    path = urlsplit(invoice["hosted_url"]).path  # the link names the public URL; any API process serves it
    async with httpx.AsyncClient(timeout=10) as browser:  # a browser of its own: its own cookie
        while time.monotonic() < load.ends:
            base = load.next_api("invoicing")
            try:
                settled = await _page_then_pay(load, browser, f"{base}{path}")
            except httpx.TransportError:
                load.statuses["pay:connection"] += 1
                settled = None
            if settled is not None:
                return settled
            await asyncio.sleep(0.2)
    load.gave_up.append(f"pay {invoice['id']}")
    return False


async def _page_then_pay(load: Load, browser: httpx.AsyncClient, url: str) -> bool | None:
    page = await browser.get(url)
    settled = _settled(load, page, "page")
    if settled is not None or page.status_code != 200:
        return settled
    return _settled(load, await browser.post(url, data=card_form(csrf_of(page), GOOD_CARD)), "post")


def _settled(load: Load, response: httpx.Response, step: str) -> bool | None:
    """True: paid; False: refused for good (recorded); None: try again (a form to post, or a 503)."""
    load.statuses[f"pay:{response.status_code}"] += 1
    if response.status_code == 200:
        if any(text in response.text for text in PAID):
            return True
        if step == "page" and 'name="csrf_token"' in response.text:
            return None  # the form: post it
    elif response.status_code == 503:
        if not response.headers.get("content-type", "").startswith("text/html"):
            load.check_unavailable("invoicing", response)
        return None
    load.server_errors.append(f"pay {step}: unexpected {response.status_code} {response.text[:300]}")
    return False
