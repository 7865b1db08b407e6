"""Every size limit of Flint's public interfaces, in one place.

The HTTP APIs declare these in their OpenAPI schemas, the contract models in their JSON
schemas, and the domains enforce them; all three import them from here, so a limit never
differs between the API that accepts a value and the service that stores it.
"""

from __future__ import annotations

# --- orders -----------------------------------------------------------------------------------
MAX_LINE_ITEMS = 500
"""Line items of one order."""
MAX_DISCOUNTS = 50
"""Discounts of one order."""
MAX_TITLE_LENGTH = 500
"""A line item's title."""
MAX_SKU_LENGTH = 100
"""A line item's SKU."""
MAX_DISCOUNT_CODE_LENGTH = 100
"""A discount's code."""
MAX_EMAIL_LENGTH = 254
"""An email address (RFC 5321's path limit)."""
MAX_NAME_LENGTH = 200
"""A person's or a merchant's or an app's name."""
MAX_TAG_LENGTH = 64
"""One tag. Tags appear in URLs (``PUT /v1/orders/{id}/tags/{tag}``)."""
MAX_TAGS_PER_ORDER = 100
"""Tags on one order."""
MAX_NOTE_LENGTH = 5000
"""One note's body."""
MAX_NOTES_PER_ORDER = 50
"""Notes on one order. Every order event carries the whole order, notes included, so
notes cannot grow without bound: 50 notes of 5,000 characters keep an event well under
Kafka's default 1 MiB message size."""
MAX_REASON_LENGTH = 500
"""A cancel reason, a refund's or invoice's short reason."""
MAX_METADATA_BYTES = 16_384
"""One app's metadata namespace on one order, as compact JSON (UTF-8)."""

# --- invoices ---------------------------------------------------------------------------------
MAX_MEMO_LENGTH = 1000
"""An invoice's memo to the buyer: printed on the PDF, the hosted page and every email."""
MAX_REMINDERS = 10
"""Reminders in one invoice's reminder policy."""
MAX_REMINDER_DAYS_BEFORE_DUE = 60
"""The earliest reminder: this many days before the due date (offset -60)."""
MAX_REMINDER_DAYS_AFTER_DUE = 90
"""The latest reminder: this many days after the due date (offset +90)."""
MAX_DUE_DAYS_AHEAD = 365
"""How far ahead of today an invoice's due date may be."""
MAX_INVOICE_NUMBER = 999_999_999
"""An invoice's per-merchant number."""

# --- free-form JSON and text ------------------------------------------------------------------
MAX_JSON_DEPTH = 32
"""Nesting of free-form JSON (metadata, event data)."""
MAX_JSON_INTEGER = 2**53 - 1
"""Integers in free-form JSON: beyond this JavaScript (and so most plugin runtimes) reads a
different number. Money has the same bound (``flint_contracts.money.MAX_AMOUNT``)."""

# --- events -----------------------------------------------------------------------------------
MAX_EVENT_ID_LENGTH = 128
"""An envelope's ``id``, ``correlation_id`` and ``causation_id``."""
MAX_EVENT_NAME_LENGTH = 128
"""An envelope's ``type``, ``source``, ``merchant_id`` and ``subject``."""

# --- webhooks ---------------------------------------------------------------------------------
MAX_SIGNATURE_HEADER_LENGTH = 2048
"""A ``Flint-Signature`` header a verifier parses (room for ~30 ``v1`` signatures); longer is refused unread."""
WEBHOOK_RESPONSE_SNIPPET_BYTES = 2048
"""The first bytes of a receiver's answer kept in the delivery log; the rest is never read."""
MAX_WEBHOOK_ENDPOINTS_PER_INSTALL = 10
"""Webhook endpoints one install may have."""
MAX_SECRET_OVERLAP_SECONDS = 7 * 86400
"""How long the old secret may keep signing after a webhook secret rotation (a week)."""
DEFAULT_SECRET_OVERLAP_SECONDS = 86400
"""How long it does when the rotation does not say (a day)."""

# --- HTTP -------------------------------------------------------------------------------------
MAX_PAGE_SIZE = 100
"""``limit`` of every list."""
DEFAULT_PAGE_SIZE = 20
"""``limit`` when a list request gives none."""
MAX_IDEMPOTENCY_KEY_LENGTH = 255
"""An ``Idempotency-Key`` header."""
MAX_URL_LENGTH = 2000
"""A URL Flint stores (redirect URIs, hosted invoice pages, webhook endpoints)."""
