"""Runs an outbox relay that stops dead between publishing and marking rows sent, so a test
can SIGKILL it at exactly that moment. Usage: relay_process.py DATABASE_URL BOOTSTRAP MARKER"""

import asyncio
import sys
from pathlib import Path

import asyncpg

from flint_chassis.outbox import OutboxRelay


class FreezingRelay(OutboxRelay):
    async def before_mark(self, rows):
        Path(sys.argv[3]).write_text(str(len(rows)))
        await asyncio.sleep(3600)  # the test kills the process here


async def main() -> None:
    pool = await asyncpg.create_pool(sys.argv[1], min_size=1, max_size=2)
    relay = FreezingRelay(pool, sys.argv[2], name="doomed")
    await relay.start()
    await asyncio.sleep(3600)


asyncio.run(main())
