"""Waiting for asynchronous effects without sleeps: poll with a deadline."""

from __future__ import annotations

import asyncio

import pytest


async def eventually(check, *, timeout: float = 20.0, interval: float = 0.05, message: str = "condition"):
    """Poll ``check`` (sync or async) until it returns a truthy value; fail after ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {message}")
        await asyncio.sleep(interval)
