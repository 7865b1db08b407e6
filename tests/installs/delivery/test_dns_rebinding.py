"""DNS rebinding: a name that is public when the endpoint is created and points inside when a
delivery is sent is refused at send time, before any connection to the inside is made."""

from __future__ import annotations

from flint_installs.delivery.config import DeliverySettings
from flint_installs.delivery.outcome import FailureReason
from flint_installs.delivery.resolver import check_endpoint_url
from flint_installs.delivery.sender import WebhookSender
from tests.installs.delivery.conftest import TOTAL_TIMEOUT, message_to
from tests.installs.delivery.receiver import certificate_for, start_receiver
from tests.installs.delivery.resolvers import ScriptedResolver

PUBLIC = "93.184.215.14"


async def test_a_name_rebound_to_loopback_after_creation_is_refused_at_send_time():
    # given an internal service on 127.0.0.1 that would accept the request
    certificate = certificate_for("rebind.example.test")
    internal = await start_receiver(certificate.server)
    url = f"https://rebind.example.test:{internal.port}/ok"
    # and a name that answers a public address first, then 127.0.0.1
    resolver = ScriptedResolver({"rebind.example.test": [[PUBLIC], ["127.0.0.1"]]})
    try:
        # when the endpoint is created, the check passes: the name is public right now
        endpoint = await check_endpoint_url(url, resolver)
        assert endpoint.host == "rebind.example.test"
        # and when a delivery is sent (production settings)
        settings = DeliverySettings(total_timeout=TOTAL_TIMEOUT)
        async with WebhookSender(settings, resolver=resolver, ssl_context=certificate.client) as sender:
            result = await sender.send(message_to(url))
    finally:
        await internal.close()
    # then the send resolved the name again, refused the new address, and never connected
    assert resolver.lookups == ["rebind.example.test", "rebind.example.test"]
    assert result.reason is FailureReason.ADDRESS_REFUSED
    assert "loopback" in result.detail
    assert internal.connections == 0


async def test_a_name_rebound_to_the_metadata_service_is_refused_even_in_development():
    # given a name public at creation, the cloud metadata service at send time
    resolver = ScriptedResolver({"meta.example.test": [[PUBLIC], ["169.254.169.254"]]})
    url = "https://meta.example.test/latest/meta-data/"
    await check_endpoint_url(url, resolver, allow_loopback=True)
    # when a delivery is sent with the development setting on
    async with WebhookSender(DeliverySettings(allow_loopback=True, total_timeout=TOTAL_TIMEOUT),
                             resolver=resolver) as sender:
        result = await sender.send(message_to(url))
    # then the development setting does not open anything but loopback
    assert result.reason is FailureReason.ADDRESS_REFUSED
    assert "metadata" in result.detail
