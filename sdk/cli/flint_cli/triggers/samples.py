"""The orders triggers create: small, fixed, and easy to recognise in a listing."""

from __future__ import annotations

from typing import Any


def camping_order(email: str = "ada@example.com") -> dict[str, Any]:
    """A tent and two mugs: 129.00 + 2 × 12.50, 24.50 tax, 4.90 shipping = 183.40 EUR."""
    def eur(cents: int) -> dict[str, Any]:
        return {"amount": cents, "currency": "EUR"}

    return {
        "customer": {"email": email, "name": "Ada Lovelace"},
        "currency": "EUR",
        "line_items": [
            {"sku": "TENT-2", "title": "Two-person tent", "quantity": 1, "unit_price": eur(12900), "tax": eur(2000)},
            {"sku": "MUG-BLUE", "title": "Enamel mug", "quantity": 2, "unit_price": eur(1250), "tax": eur(450)},
        ],
        "shipping": eur(490),
    }
