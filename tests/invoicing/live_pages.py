"""A buyer in Debian's headless Chromium (Playwright, no downloaded browser) on the running
invoicing service, and the screenshots of its pages for docs/images/:

    set -a; . /path/to/stack.env; set +a          # KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL
    .venv/bin/python -m tests.invoicing.live_pages docs/images

starts the orders and invoicing services in-process on the real Kafka and PostgreSQL, makes a
merchant, an order and an invoice, and photographs the pay page (desktop and phone) and the
receipt after paying with 4242 4242 4242 4242, with JavaScript off.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

from tests.invoicing.service import InvoicingService

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic"]
CAMPING_ORDER = {
    "customer": {"email": "zofia@example.pl", "name": "Zofia Łukasiewicz"},
    "line_items": [
        {"title": "Trail tent, two person", "sku": "TENT-2", "quantity": 1,
         "unit_price": {"amount": 18900, "currency": "EUR"}, "tax": {"amount": 3591, "currency": "EUR"}},
        {"title": "Sleeping mat", "sku": "MAT-1", "quantity": 2,
         "unit_price": {"amount": 3450, "currency": "EUR"}, "tax": {"amount": 1311, "currency": "EUR"}},
        {"title": "Tent pegs, set of 10", "sku": "PEG-10", "quantity": 1,
         "unit_price": {"amount": 900, "currency": "EUR"}, "tax": {"amount": 171, "currency": "EUR"}},
    ],
    "shipping": {"amount": 595, "currency": "EUR"},
}
MEMO = "Thank you for shopping with Acme Outdoor! Questions? Just reply to the email."


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def fill_card(page: Page, number: str = "4242 4242 4242 4242", name: str = "Zofia Łukasiewicz") -> None:
    await page.fill("#card_number", number)
    await page.fill("#card_expiry", "12 / 30")
    await page.fill("#card_cvc", "123")
    await page.fill("#cardholder_name", name)


async def photograph(invoicing: InvoicingService, folder: Path) -> list[Path]:
    """The pay page (desktop, phone) and the receipt of a fresh invoice, as PNG files in ``folder``."""
    merchant = await invoicing.merchant("Acme Outdoor")
    order = await invoicing.order(merchant, **CAMPING_ORDER)
    invoice = await invoicing.create_invoice(merchant, order["id"], memo=MEMO)
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "invoice-pay-page.png", folder / "invoice-pay-page-phone.png", folder / "invoice-receipt.png"]
    async with chromium() as browser:
        desktop = await browser.new_page(viewport={"width": 1200, "height": 900}, java_script_enabled=False)
        await desktop.goto(invoice["hosted_url"])
        await desktop.screenshot(path=str(written[0]), full_page=True)
        phone = await browser.new_page(viewport={"width": 390, "height": 844}, java_script_enabled=False)
        await phone.goto(invoice["hosted_url"])
        await phone.screenshot(path=str(written[1]), full_page=True)
        await fill_card(desktop)
        await desktop.click("#pay")
        await desktop.wait_for_selector("text=Payment received")
        await desktop.screenshot(path=str(written[2]), full_page=True)
    return written


async def main(folder: Path) -> list[Path]:
    from flint_payments import SandboxProcessor, SandboxSettings
    from tests.invoicing.service import drop_database, running_invoicing_service, running_mail_sink
    from tests.orders.service import running_orders_service
    from tests.support import stack

    env, _ = stack.resolve()
    server, kafka = env["DATABASE_URL"], env["KAFKA_BOOTSTRAP_SERVERS"]
    ledger = SandboxSettings(DATABASE_URL=server, FLINT_SANDBOX_DATABASE=f"test_sbx_{secrets.token_hex(6)}")
    try:
        with tempfile.TemporaryDirectory() as mail:
            async with running_orders_service(server, kafka) as orders, await SandboxProcessor.open(ledger) as sandbox, \
                    running_mail_sink(Path(mail)) as sink, \
                    running_invoicing_service(server, kafka, orders, sink, sandbox) as invoicing:
                return await photograph(invoicing, folder)
    finally:
        await drop_database(server, ledger.database)


if __name__ == "__main__":
    for path in asyncio.run(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images"))):
        print(path)
