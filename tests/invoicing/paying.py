"""A buyer on the pay page without a browser: open the link (its cookie and form token), post
the card. (The browser tests do the same in Chromium.)"""

from __future__ import annotations

import re

import httpx

from tests.invoicing.service import InvoicingService

GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def buyer(service: InvoicingService) -> httpx.AsyncClient:
    """A browser of its own: its own cookies."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(service.app), base_url=service.url)


def csrf_of(page: httpx.Response) -> str:
    match = _CSRF.search(page.text)
    assert match, f"no form on the page ({page.status_code}): {page.text[:500]}"
    return match.group(1)


def card_form(csrf: str, card: str = GOOD_CARD, **fields: str) -> dict[str, str]:
    return {"csrf_token": csrf, "card_number": card, "card_expiry": "12 / 30", "card_cvc": "123",
            "cardholder_name": "Ada Lovelace", **fields}


async def pay(service: InvoicingService, url: str, card: str = GOOD_CARD, **fields: str) -> httpx.Response:
    """Opens ``url`` and pays with ``card``; the page that answers."""
    async with buyer(service) as client:
        page = await client.get(url)
        return await client.post(url, data=card_form(csrf_of(page), card, **fields))
