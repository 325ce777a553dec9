"""How-to: publish from async code and assert what it sent (shown in the README)."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp

from sandbox.testing.handle import SandboxHandle


async def publish_tweet(base_url: str, headers: Mapping[str, str], token: str, text: str) -> str:
    """The code under test: an integration that tweets through OneAll and returns the tweet id."""
    body = {"request": {"push": {"post": {"message": text}}}}
    async with aiohttp.ClientSession() as session:
        url = f"{base_url}/push/identities/{token}/twitter/post.json"
        async with session.post(url, json=body, headers=headers) as response:
            answer = await response.json()
    post_id: str = answer["response"]["result"]["data"]["post_id"]
    return post_id


async def test_publish_and_assert(sandbox: SandboxHandle) -> None:
    token = sandbox.identity("twitter", user={"id": "1", "name": "Ada", "screen_name": "ada"})

    post_id = await publish_tweet(sandbox.url, sandbox.headers, token, "Hello, world")

    assert len(post_id) == 19
    sandbox.assert_pushed("twitter.post", times=1, identity=token, body={"message": "Hello, world"})
