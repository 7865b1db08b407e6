"""The hosted pages in Debian's headless Chromium with JavaScript off: the form posts what the
service needs, and a phone-sized screen needs no sideways scrolling."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

from playwright.async_api import async_playwright

from flint_invoicing.pages import render_pay_page, render_receipt_page
from tests.invoicing.pages import CHROMIUM_ARGS, CSRF, SCREENS, pay_page, receipt_page


@contextlib.asynccontextmanager
async def page_server(html: str) -> AsyncIterator[tuple[str, list[dict[str, list[str]]]]]:
    """Serves ``html`` on GET and records the form of every POST, answering with the receipt."""
    posted: list[dict[str, list[str]]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        method = (await reader.readline()).split(b" ")[0]
        headers = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", 0)))
        answer = html
        if method == b"POST":
            posted.append(parse_qs(body.decode(), keep_blank_values=True))
            answer = render_receipt_page(receipt_page())
        data = answer.encode()
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: %d\r\n"
                     b"connection: close\r\n\r\n%s" % (len(data), data))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", posted
    finally:
        server.close()
        await server.wait_closed()


async def test_the_card_form_works_without_javascript_and_posts_the_csrf_token():
    page_model = pay_page()
    async with page_server(render_pay_page(page_model)) as (url, posted), async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(java_script_enabled=False)
            await page.goto(f"{url}{page_model.pay_action}")
            await page.fill("#card_number", "4242 4242 4242 4242")
            await page.fill("#card_expiry", "12 / 30")
            await page.fill("#card_cvc", "123")
            await page.fill("#cardholder_name", "Zofia Łukasiewicz")
            await page.click("#pay")
            await page.wait_for_selector("text=Payment received")
        finally:
            await browser.close()
    [form] = posted
    assert form == {"csrf_token": [CSRF], "card_number": ["4242 4242 4242 4242"], "card_expiry": ["12 / 30"],
                    "card_cvc": ["123"], "cardholder_name": ["Zofia Łukasiewicz"]}  # fmt: skip


async def test_every_page_fits_a_phone_screen():
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 360, "height": 740})
            for name, render in SCREENS.items():
                await page.set_content(render())
                overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"{name} scrolls sideways by {overflow}px on a phone"
                if name == "invoice-pay-page":
                    pay_button = await page.locator("#pay").bounding_box()
                    assert pay_button["width"] >= 280  # a thumb-sized button across the screen
        finally:
            await browser.close()
