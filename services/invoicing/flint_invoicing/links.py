"""Pay links kept sealed: the newest link of each invoice (so ``GET /v1/invoices/{id}`` can
show it) and the link each queued email carries are stored encrypted under the service's
secret (AES-GCM, bound to the invoice), never in the clear. The invoice itself keeps only the
tokens' hashes, so a copy of the database alone opens no pay page."""

from __future__ import annotations

from flint_chassis.service_secret import ServiceSecret


class LinkVault:
    def __init__(self, secret: ServiceSecret) -> None:
        self._secret = secret

    def seal(self, invoice_id: str, url: str) -> bytes:
        return self._secret.encrypt(url.encode(), context=_context(invoice_id))

    def open(self, invoice_id: str, sealed: bytes) -> str:
        return self._secret.decrypt(sealed, context=_context(invoice_id)).decode()


def _context(invoice_id: str) -> bytes:
    return f"pay-link\n{invoice_id}".encode()
