"""The sender against a real local HTTP receiver: what a receiver gets, and what the delivery
log records for every way a receiver can answer, fail or misbehave."""

from __future__ import annotations

import pytest

from flint_contracts.text import text_problem
from flint_contracts.webhooks import new_secret
from flint_installs.delivery.config import DeliverySettings
from flint_installs.delivery.outcome import FailureReason
from flint_installs.delivery.sender import WebhookSender
from flint_sdk import InvalidSignature, verify
from tests.installs.delivery.conftest import CONNECT_TIMEOUT, TOTAL_TIMEOUT, dev_settings, message_to
from tests.installs.delivery.receiver import HUGE_BODY_BYTES, certificate_for, start_receiver
from tests.installs.delivery.resolvers import HangingResolver, ScriptedResolver
from tests.support.polling import eventually


def test_the_default_timeouts_are_two_seconds_to_connect_and_ten_in_all():
    settings = DeliverySettings()
    assert (settings.connect_timeout, settings.total_timeout, settings.allow_loopback) == (2.0, 10.0, False)


async def test_a_2xx_answer_is_delivered_and_the_receiver_gets_the_signed_body(receiver, sender):
    # given
    secret = new_secret()
    message = message_to(receiver.url("/ok"), secrets=(secret,))
    # when
    result = await sender.send(message)
    # then the log records a delivery
    assert result.delivered and result.reason is None
    assert result.status_code == 200
    assert result.response_snippet == '{"received": true}'
    assert 0 <= result.latency_ms < TOTAL_TIMEOUT * 1000
    # and the receiver got the exact body, verifiable with the SDK, and the ids
    [request] = receiver.requests
    assert request.method == "POST" and request.body == message.body
    assert verify(request.body, request.headers["flint-signature"], secret) > 0
    assert request.headers["flint-event-id"] == message.event_id
    assert request.headers["flint-delivery-id"] == message.delivery_id
    assert request.headers["flint-event-type"] == "order.paid"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["host"] == f"127.0.0.1:{receiver.port}"


async def test_during_a_secret_rotation_the_receiver_can_verify_with_either_secret(receiver, sender):
    old, new = new_secret(), new_secret()
    await sender.send(message_to(receiver.url("/ok"), secrets=(new, old)))
    [request] = receiver.requests
    header = request.headers["flint-signature"]
    assert header.count("v1=") == 2
    assert verify(request.body, header, old) and verify(request.body, header, new)
    with pytest.raises(InvalidSignature):
        verify(request.body, header, new_secret())


@pytest.mark.parametrize(("path", "status", "snippet"),
                         [("/error", 500, "database is down, try later"), ("/gone", 410, "no such hook")])
async def test_a_4xx_or_5xx_answer_is_a_failure_with_its_status_and_body(receiver, sender, path, status, snippet):
    result = await sender.send(message_to(receiver.url(path)))
    assert not result.delivered
    assert (result.reason, result.status_code, result.response_snippet) == (FailureReason.HTTP_STATUS, status, snippet)
    assert result.detail == f"answered {status}"


async def test_a_receiver_that_never_answers_times_out_after_the_total_timeout(receiver, sender):
    result = await sender.send(message_to(receiver.url("/hang")))
    assert result.reason is FailureReason.TIMEOUT and result.status_code is None
    assert result.detail == f"no answer within {TOTAL_TIMEOUT:g}s"
    assert TOTAL_TIMEOUT * 1000 * 0.9 <= result.latency_ms < (TOTAL_TIMEOUT + 1) * 1000
    assert len(receiver.requests) == 1  # it did get the request


async def test_a_receiver_that_closes_the_connection_without_answering_is_a_failure(receiver, sender):
    result = await sender.send(message_to(receiver.url("/close")))
    assert result.reason is FailureReason.CONNECTION_CLOSED and result.status_code is None
    assert result.detail


async def test_nothing_listening_is_a_connection_failure(sender):
    # a port of the range that was free a moment ago and that nobody listens on
    receiver = await start_receiver()
    url = receiver.url("/ok")
    await receiver.close()
    result = await sender.send(message_to(url))
    assert result.reason is FailureReason.CONNECTION_FAILED and result.status_code is None
    assert result.latency_ms < CONNECT_TIMEOUT * 1000 + 500


async def test_a_redirect_is_not_followed(receiver, sender):
    result = await sender.send(message_to(receiver.url("/redirect")))
    assert (result.reason, result.status_code) == (FailureReason.REDIRECT, 302)
    assert result.detail == "answered 302; redirects are not followed"
    assert [r.path for r in receiver.requests] == ["/redirect"]  # the Location was never requested


async def test_a_huge_answer_is_cut_at_the_snippet_limit_and_never_read_further(receiver, sender):
    # when the receiver answers 200 with a 50 MiB body
    result = await sender.send(message_to(receiver.url("/huge")))
    # then the status counts, the log keeps the first bytes only, and the sender hung up
    assert result.delivered and result.status_code == 200
    assert result.response_snippet == "x" * DeliverySettings().response_snippet_bytes
    await eventually(lambda: not receiver.open_writers, timeout=5, message="the receiver to see the sender hang up")
    assert receiver.huge_bytes_written < HUGE_BODY_BYTES / 2


async def test_an_answer_with_control_characters_and_invalid_utf8_is_logged_safely(receiver, sender):
    result = await sender.send(message_to(receiver.url("/garbled")))
    snippet = result.response_snippet
    assert result.status_code == 500 and text_problem(snippet) is None
    assert snippet.startswith("bad\ufffd\ufffd\ufffd\ufffdZürich")
    assert snippet.endswith(("Zürich", "Z", "Zü", "Zür", "Züri", "Zürc"))  # no half character at the cut
    assert len(snippet.encode()) <= DeliverySettings().response_snippet_bytes + 12  # U+FFFD is 3 bytes for 1


async def test_when_the_status_arrived_but_the_body_stalls_the_status_decides(receiver, sender):
    result = await sender.send(message_to(receiver.url("/slow-body")))
    assert result.delivered and result.status_code == 200
    assert result.response_snippet == "accepted, still typing"
    assert result.latency_ms >= TOTAL_TIMEOUT * 1000 * 0.9


async def test_without_the_development_setting_http_is_refused_before_connecting(receiver):
    async with WebhookSender(DeliverySettings(total_timeout=TOTAL_TIMEOUT)) as sender:
        result = await sender.send(message_to(receiver.url("/ok")))
    assert result.reason is FailureReason.URL_REFUSED and "https" in result.detail
    assert receiver.connections == 0


async def test_with_the_development_setting_http_still_reaches_only_loopback(receiver):
    resolver = ScriptedResolver({"public.example.test": [["93.184.215.14"]]})
    async with WebhookSender(dev_settings(), resolver=resolver) as sender:
        result = await sender.send(message_to(f"http://public.example.test:{receiver.port}/ok"))
    assert result.reason is FailureReason.ADDRESS_REFUSED
    assert "http:// is allowed only to a loopback address" in result.detail


async def test_a_dns_server_that_does_not_answer_is_bounded_by_the_connect_timeout(receiver):
    async with WebhookSender(dev_settings(), resolver=HangingResolver()) as sender:
        result = await sender.send(message_to(f"http://slow-dns.example.test:{receiver.port}/ok"))
    assert result.reason is FailureReason.TIMEOUT
    assert result.detail == f"no connection within {CONNECT_TIMEOUT:g}s"
    assert result.latency_ms < (CONNECT_TIMEOUT + 0.5) * 1000


async def test_a_name_that_does_not_resolve_is_a_dns_failure(receiver):
    async with WebhookSender(dev_settings(), resolver=ScriptedResolver({})) as sender:
        result = await sender.send(message_to(f"http://gone.example.test:{receiver.port}/ok"))
    assert result.reason is FailureReason.DNS_FAILED and "does not resolve" in result.detail


async def test_each_checked_address_is_tried_in_turn(receiver):
    # given a name whose first address has nothing listening (the receiver binds 127.0.0.1 only)
    resolver = ScriptedResolver({"two.example.test": [["127.0.0.2", "127.0.0.1"]]})
    async with WebhookSender(dev_settings(), resolver=resolver) as sender:
        result = await sender.send(message_to(f"http://two.example.test:{receiver.port}/ok"))
    assert result.delivered
    assert receiver.requests[0].headers["host"] == f"two.example.test:{receiver.port}"


async def test_https_connects_to_the_checked_address_but_names_the_host_in_sni_and_host_header():
    # given a TLS receiver with a certificate for hooks.example.test, a name only our resolver knows
    certificate = certificate_for("hooks.example.test")
    receiver = await start_receiver(certificate.server)
    resolver = ScriptedResolver({"hooks.example.test": [["127.0.0.1"]]})
    try:
        async with WebhookSender(dev_settings(), resolver=resolver, ssl_context=certificate.client) as sender:
            # when
            result = await sender.send(message_to(f"https://hooks.example.test:{receiver.port}/ok"))
    finally:
        await receiver.close()
    # then TLS verified the certificate for the name, though the socket went to 127.0.0.1
    assert result.delivered, result.detail
    assert receiver.server_names == ["hooks.example.test"]
    assert receiver.requests[0].headers["host"] == f"hooks.example.test:{receiver.port}"
    assert resolver.lookups == ["hooks.example.test"]


async def test_a_certificate_that_does_not_verify_is_a_connection_failure():
    certificate = certificate_for("hooks.example.test")
    receiver = await start_receiver(certificate.server)
    resolver = ScriptedResolver({"hooks.example.test": [["127.0.0.1"]]})
    try:
        async with WebhookSender(dev_settings(), resolver=resolver) as sender:  # the system's trust store
            result = await sender.send(message_to(f"https://hooks.example.test:{receiver.port}/ok"))
    finally:
        await receiver.close()
    assert result.reason is FailureReason.CONNECTION_FAILED
    assert "CERTIFICATE_VERIFY_FAILED" in result.detail
    assert receiver.requests == []

