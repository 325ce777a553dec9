"""Video callbacks over HTTP: the sandbox's only outbound traffic, with aiohttp's client."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp

from sandbox.model.jobs import CallbackFailed


class CallbackPoster:
    """One client session for every callback, made on first use (most runs post none)."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        if self._session is None:
            # trust_env=False: never route callbacks through a proxy from the environment
            self._session = aiohttp.ClientSession(trust_env=False)
        try:
            async with self._session.post(
                url,
                data=body,
                headers=dict(headers),
                timeout=aiohttp.ClientTimeout(total=timeout),
                allow_redirects=False,
            ) as response:
                return response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            raise CallbackFailed(f"{type(error).__name__} {error}".strip()) from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
