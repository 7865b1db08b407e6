"""Resolvers for tests: answers chosen by the test, so a host name can be made to point at a
public address once and at 127.0.0.1 the next time (DNS rebinding) without a DNS server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from ipaddress import ip_address

from flint_installs.delivery.addresses import IPAddress


class ScriptedResolver:
    """Answers each lookup of a name with the next answer in its script; the last one repeats."""

    def __init__(self, script: dict[str, Sequence[Sequence[str]]]) -> None:
        self._script = {name: [[ip_address(a) for a in answer] for answer in answers]
                        for name, answers in script.items()}
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        self.lookups.append(host)
        answers = self._script.get(host)
        if not answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers.pop(0) if len(answers) > 1 else answers[0]


class HangingResolver:
    """A DNS server that never answers."""

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")
