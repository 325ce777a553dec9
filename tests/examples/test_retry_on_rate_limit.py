"""How-to: check that your code survives a rate limit with a retry (shown in the README)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import aiohttp

from sandbox.testing.handle import SandboxHandle


async def publish_with_retry(url: str, headers: Mapping[str, str], body: object) -> int:
    """The code under test: retries once after a 429, honouring Retry-After (capped for tests)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(2):
            async with session.post(url, json=body, headers=headers) as response:
                if response.status != 429:
                    return response.status
                await asyncio.sleep(min(float(response.headers["Retry-After"]), 0.01))
    return 429


async def test_retry_after_rate_limit(sandbox: SandboxHandle) -> None:
    token = sandbox.identity("twitter")
    rule = sandbox.fail("twitter.post", preset="rate_limited", times=1, expect_fired=True)
    url = sandbox.push_url("twitter/post.json", token)
    body = {"request": {"push": {"post": {"message": "Try again"}}}}

    assert await publish_with_retry(url, sandbox.headers, body) == 200

    assert rule.fired == 1
    first, second = sandbox.assert_pushed("twitter.post", times=2)
    assert (first.status, second.status) == (429, 200)
