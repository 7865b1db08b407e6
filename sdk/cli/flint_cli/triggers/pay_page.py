"""A buyer on an invoice's hosted pay page, over plain HTTP as a browser without JavaScript
does it: open the link (the page sets its CSRF cookie and puts the signed form token in the
form), then post the card form with both. Nothing here is special to tests: it is what the
page asks of any browser (docs/invoicing.md, "The hosted pay page")."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from flint_cli.failures import CliError

TEST_CARD = "4242 4242 4242 4242"  # the sandbox's card that always pays
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class PaidPage:
    url: str
    status: int
    text: str


def pay_hosted_invoice(url: str, *, card: str = TEST_CARD, name: str = "Ada Lovelace",
                       timeout: float = 30.0) -> PaidPage:
    """Opens the pay link and pays with ``card``; the receipt page. A page that does not take
    the payment (declined, expired form, a dead link) is a :class:`CliError` saying so."""
    with httpx.Client(timeout=timeout, follow_redirects=True) as browser:  # its own cookie jar
        page = browser.get(url)
        token = _CSRF.search(page.text)
        if page.status_code != 200 or token is None:
            raise CliError(f"the pay page {url} shows no card form (HTTP {page.status_code})")
        answer = browser.post(url, data={"csrf_token": token.group(1), "card_number": card,
                                         "card_expiry": "12 / 30", "card_cvc": "123", "cardholder_name": name})
    if answer.status_code != 200:
        raise CliError(f"the pay page did not take the payment (HTTP {answer.status_code}): {_headline(answer.text)}")
    return PaidPage(url, answer.status_code, answer.text)


def _headline(html: str) -> str:
    """The page's first heading or error line, for a one-line error."""
    found = re.search(r'id="pay-error">(.*?)</div>', html, re.DOTALL) or re.search(r"<h1[^>]*>(.*?)</h1>", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found.group(1))).strip() if found else "no explanation"
