"""Webhook delivery to plugins: the parts that do not depend on the router or the HTTP API.

- :mod:`~flint_installs.delivery.url_policy`, :mod:`~.addresses`, :mod:`~.resolver`: which
  endpoint URLs and addresses Flint sends to, checked at creation and on every connection;
- :mod:`~.connect` and :mod:`~.sender`: one signed POST, bounded in time and in what it reads;
- :mod:`~.retry`: backoff with full jitter, the give-up window, the endpoint-disable rule;
- :mod:`~.repository` (tables of migration 0003): endpoints, encrypted secrets, deliveries
  claimed one per order at a time, and every attempt;
- :mod:`~.dispatch`: one delivery round (claim, send, record, disable), for the worker to run.

The signature scheme itself is ``flint_contracts.webhooks``, shared with the SDK.
"""
