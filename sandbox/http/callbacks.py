"""Video callbacks over HTTP: the sandbox's only outbound traffic, with aiohttp's client."""

from __future__ import annotations

import socket
from collections.abc import Mapping

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from sandbox.model.jobs import CallbackFailed, loopback_name


class LoopbackResolver(AbstractResolver):
    """``localhost`` and ``*.localhost`` are 127.0.0.1 (RFC 6761), answered here: the system
    resolver may send such names to a DNS server, and a callback must never make the sandbox
    talk to the network unless a host was allowed with --callback-allow."""

    def __init__(self) -> None:
        self._other: AbstractResolver | None = None

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if loopback_name(host):
            return [
                {
                    "hostname": host,
                    "host": "127.0.0.1",
                    "port": port,
                    "family": socket.AF_INET,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            ]
        if self._other is None:
            self._other = aiohttp.ThreadedResolver()
        return await self._other.resolve(host, port, family)

    async def close(self) -> None:
        if self._other is not None:
            await self._other.close()


class CallbackPoster:
    """One client session for every callback, made on first use (most runs post none)."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        if self._session is None:
            # trust_env=False: never route callbacks through a proxy from the environment
            self._session = aiohttp.ClientSession(
                trust_env=False, connector=aiohttp.TCPConnector(resolver=LoopbackResolver())
            )
        try:
            async with self._session.post(
                url,
                data=body,
                headers=dict(headers),
                timeout=aiohttp.ClientTimeout(total=timeout),
                allow_redirects=False,
            ) as response:
                return response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise CallbackFailed(f"{type(error).__name__} {error}".strip()) from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
