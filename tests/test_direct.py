"""The served sandbox answers plain pushes without aiohttp's router (``direct_pushes``): every
answer, header and journal entry must be the one the application's own routes give."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from sandbox.api.push import BY_NAME, ENDPOINTS
from sandbox.config import Settings
from sandbox.http.app import create_app
from sandbox.http.appkeys import SANDBOX
from sandbox.http.server import Running, start
from tests.conftest import AUTH, ENDPOINT_IDS, TOKENS, ClientFactory, example, push_path

Answer = tuple[int, dict[str, str], Any, list[dict[str, Any]]]
# Headers that differ between two servers or two moments whatever the code does.
VARYING_HEADERS = {"Date", "Server"}


@pytest.fixture
async def served() -> AsyncIterator[Running]:
    running = await start(Settings(port=0, seed=7))
    yield running
    await running.stop()


@pytest.fixture
async def routed(aiohttp_client: ClientFactory) -> TestClient[web.Request, web.Application]:
    return await aiohttp_client(create_app(Settings(seed=7)))


def comparable(status: int, headers: Any, text: str, journal: list[Any]) -> Answer:
    try:
        body = json.loads(text)
        body["response"]["request"].pop("date")
    except (ValueError, KeyError, TypeError):
        body = text
    kept = {name: value for name, value in headers.items() if name not in VARYING_HEADERS}
    entries = [
        {key: entry[key] for key in ("method", "path", "resource", "identity", "response", "fault")}
        | {"body": entry["request"]["body"]}
        for entry in journal
    ]
    return status, kept, body, entries


async def through_server(running: Running, method: str, path: str, **kwargs: Any) -> Answer:
    before = len(running.sandbox.journal)
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, running.url + path, **kwargs) as response,
    ):
        text = await response.text()
    journal = [entry.to_json() for entry in running.sandbox.journal][before:]
    return comparable(response.status, response.headers, text, journal)


async def through_routes(
    client: TestClient[web.Request, web.Application], method: str, path: str, **kwargs: Any
) -> Answer:
    state = client.app[SANDBOX]  # type: ignore[index]
    before = len(state.journal)
    response = await client.request(method, path, **kwargs)
    text = await response.text()
    journal = [entry.to_json() for entry in state.journal][before:]
    return comparable(response.status, response.headers, text, journal)


async def same_answer(
    served: Running,
    routed: TestClient[web.Request, web.Application],
    method: str,
    path: str,
    **kwargs: Any,
) -> Answer:
    direct = await through_server(served, method, path, **kwargs)
    assert direct == await through_routes(routed, method, path, **kwargs)
    return direct


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
async def test_every_example_is_answered_as_by_the_routes(
    served: Running, routed: TestClient[web.Request, web.Application], endpoint: Any
) -> None:
    path = push_path(endpoint)
    status, _, body, journal = await same_answer(
        served, routed, "POST", path, json=example(endpoint), headers={"Authorization": AUTH}
    )
    assert status == 200
    assert body["response"]["result"]["data"]["provider"] == endpoint.provider
    assert [entry["resource"] for entry in journal] == [endpoint.name]


TWEET = push_path(next(endpoint for endpoint in ENDPOINTS if endpoint.name == "twitter.post"))
TWEET_BODY = {"request": {"push": {"post": {"message": "Hello"}}}}


@pytest.mark.parametrize(
    "case",
    [
        ("POST", TWEET, {}, 401),
        ("POST", TWEET, {"Authorization": AUTH, "X-Sandbox-Fault": "rate_limited"}, 429),
        ("POST", TWEET, {"Authorization": AUTH, "Expect": "100-continue"}, 200),
        ("POST", TWEET + "?page=2", {"Authorization": AUTH}, 200),
        ("POST", TWEET.replace("post.json", "%70ost.json"), {"Authorization": AUTH}, 200),
        ("POST", TWEET.replace("/twitter/", "/./twitter/"), {"Authorization": AUTH}, 200),
        ("POST", TWEET + "/", {"Authorization": AUTH}, 404),
        ("POST", TWEET.replace(TOKENS["twitter"], "{token}"), {"Authorization": AUTH}, 404),
        ("POST", TWEET.replace("twitter", "twiter", 1), {"Authorization": AUTH}, 404),
        ("PUT", TWEET, {"Authorization": AUTH}, 405),
        ("GET", TWEET, {"Authorization": AUTH}, 405),
    ],
    ids=[
        *("no-auth", "fault", "expect", "query", "escaped", "dot", "slash", "braces", "typo"),
        *("put", "get"),
    ],
)
async def test_what_is_not_a_plain_push_is_answered_as_by_the_routes(
    served: Running,
    routed: TestClient[web.Request, web.Application],
    case: tuple[str, str, dict[str, str], int],
) -> None:
    method, path, headers, expected = case
    status, _, _, journal = await same_answer(
        served, routed, method, path, json=TWEET_BODY, headers=headers
    )
    assert status == expected
    assert len(journal) == 1


async def test_a_refused_body_is_journaled_as_sent(
    served: Running, routed: TestClient[web.Request, web.Application]
) -> None:
    raw = b'\xef\xbb\xbf{"request": {"push": {"post": {"message": "Hi", "colour": 1}}}}'
    status, _, body, journal = await same_answer(
        served,
        routed,
        "POST",
        TWEET,
        data=raw,
        headers={"Authorization": AUTH, "X-Sandbox-Validation": "strict"},
    )
    assert status == 400
    assert "[request->push->post->colour]" in body["response"]["request"]["status"]["info"]
    assert journal[0]["body"] == {"request": {"push": {"post": {"message": "Hi", "colour": 1}}}}


async def test_a_plain_push_on_a_real_connection_skips_the_router(
    served: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path engages: a push resolves no route; anything else still does."""
    resolved: list[str] = []
    router = served.runner.app.router
    real_resolve = router.resolve

    async def counting(request: web.Request) -> Any:
        resolved.append(request.path)
        return await real_resolve(request)

    monkeypatch.setattr(router, "resolve", counting)
    path = push_path(BY_NAME["twitter.post"])
    pushed = await through_server(
        served, "POST", path, json=example(BY_NAME["twitter.post"]), headers={"Authorization": AUTH}
    )
    assert pushed[0] == 200
    assert resolved == []
    health = await through_server(served, "GET", "/__sandbox/health")
    assert health[0] == 200
    assert resolved == ["/__sandbox/health"]
