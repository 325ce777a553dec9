"""The control plane says no rather than guess: a token already taken, a journal filter it does
not know; the journal matches bodies as the handle does; finishing jobs answers what it
finished; ``--help`` lists every control-plane path."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from sandbox.__main__ import build_parser
from sandbox.api.control import ROUTES
from sandbox.api.push import BY_NAME
from sandbox.config import Settings
from sandbox.testing.handle import SandboxHandle, run
from tests.conftest import AUTH, TOKENS, example, push_path

Client = TestClient[web.Request, web.Application]
TWEET = BY_NAME["twitter.post"]
VIDEO = BY_NAME["twitter.video"]


@pytest.fixture
def settings() -> Settings:
    return Settings(seed=7, processing_time=60)


async def register(client: Client, identity: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = await client.post("/__sandbox/identities", json=identity)
    return response.status, await response.json()


async def test_registering_a_known_token_is_a_conflict_unless_replace(client: Client) -> None:
    token = "0b0f7b6e-4a7d-4a83-9a43-8e8fa3a0c001"
    assert (await register(client, {"provider": "twitter", "token": token}))[0] == 201

    status, answer = await register(client, {"provider": "facebook", "token": token})
    assert status == 409
    info = answer["response"]["request"]["status"]["info"]
    assert f"{token} is already the token of a twitter identity" in info
    assert '"replace": true' in info

    status, answer = await register(
        client, {"provider": "facebook", "token": token, "replace": True}
    )
    assert status == 201
    assert answer["provider"] == "facebook"
    identities = (await (await client.get("/__sandbox/identities")).json())["identities"]
    assert [i["provider"] for i in identities if i["token"] == token] == ["facebook"]


async def test_a_built_in_token_is_taken_too(client: Client) -> None:
    status, _ = await register(client, {"provider": "twitter", "token": TOKENS["twitter"]})
    assert status == 409


async def test_a_token_only_seen_in_a_push_can_be_registered(client: Client) -> None:
    token = "0b0f7b6e-4a7d-4a83-9a43-8e8fa3a0c002"
    await client.post(push_path(TWEET, token), json=example(TWEET), headers={"Authorization": AUTH})
    assert (await register(client, {"provider": "twitter", "token": token}))[0] == 201


async def test_replace_must_be_a_boolean(client: Client) -> None:
    status, answer = await register(client, {"provider": "twitter", "replace": "yes"})
    assert status == 400
    assert "/replace: must be true or false" in answer["response"]["request"]["status"]["info"]


async def test_an_unknown_journal_filter_is_refused_naming_the_known_ones(client: Client) -> None:
    response = await client.get("/__sandbox/journal?resorce=twitter.post")
    assert response.status == 400
    info = (await response.json())["response"]["request"]["status"]["info"]
    assert info.startswith("Unknown journal filter resorce: the filters are resource, identity")
    assert "body" in info


async def tweet(client: Client, message: str) -> None:
    body = {"request": {"push": {"post": {"message": message, "location": "Paris"}}}}
    response = await client.post(push_path(TWEET), json=body, headers={"Authorization": AUTH})
    assert response.status == 200


async def journal_messages(client: Client, body: Any) -> tuple[int, list[str]]:
    response = await client.get("/__sandbox/journal?body=" + quote(json.dumps(body)))
    if response.status != 200:
        return response.status, []
    entries = (await response.json())["entries"]
    return 200, [
        entry["request"]["body"]["request"]["push"]["post"]["message"] for entry in entries
    ]


async def test_the_journal_filters_by_body_as_the_handle_does(client: Client) -> None:
    await tweet(client, "first")
    await tweet(client, "second")
    # part of the object node, of the whole body, a value that is not an object
    assert await journal_messages(client, {"message": "second"}) == (200, ["second"])
    whole = {"request": {"push": {"post": {"message": "first"}}}}
    assert await journal_messages(client, whole) == (200, ["first"])
    assert await journal_messages(client, {"location": "Paris"}) == (
        200,
        ["first", "second"],
    )
    assert await journal_messages(client, {"message": "third"}) == (200, [])
    assert await journal_messages(client, {"message": "fir"}) == (200, [])


async def test_a_body_filter_that_is_not_json_is_refused(client: Client) -> None:
    response = await client.get("/__sandbox/journal?body={message")
    assert response.status == 400
    info = (await response.json())["response"]["request"]["status"]["info"]
    assert "body must be URL-encoded JSON" in info


def test_the_handle_and_the_journal_agree_on_body_matching() -> None:
    import requests

    with run(seed=1) as handle:
        token = handle.identity("twitter")
        body = {"request": {"push": {"post": {"message": "same", "location": "Paris"}}}}
        requests.post(handle.push_url("twitter/post.json", token), json=body, auth=handle.auth)
        for wanted in ({"message": "same"}, body, {"message": "other"}, {"request": {}}):
            over_http = requests.get(
                f"{handle.url}/__sandbox/journal", params={"body": json.dumps(wanted)}, timeout=5
            ).json()["entries"]
            assert len(over_http) == len(handle.journal.filter(body=wanted)), wanted


async def post_video(client: Client) -> str:
    response = await client.post(
        push_path(VIDEO), json=example(VIDEO), headers={"Authorization": AUTH}
    )
    assert response.status == 200
    return response.headers["X-Sandbox-Job"]


async def finish(client: Client, path: str) -> list[str]:
    response = await client.post(path)
    assert response.status == 200
    return [job["id"] for job in (await response.json())["jobs"]]


async def test_finishing_jobs_answers_only_those_it_finished(client: Client) -> None:
    first, second = await post_video(client), await post_video(client)
    assert await finish(client, f"/__sandbox/jobs/{first}/finish") == [first]
    assert await finish(client, f"/__sandbox/jobs/{first}/finish") == []
    assert await finish(client, "/__sandbox/jobs/finish") == [second]
    assert await finish(client, "/__sandbox/jobs/finish") == []


def test_help_lists_every_control_plane_path() -> None:
    shown = " ".join(build_parser().format_help().split())
    for route in ROUTES:
        assert f" {route.path}" in shown, route.path
    assert "GET, POST identities" in shown
    assert "POST jobs/{id}/finish" in shown


def test_the_handle_refuses_a_taken_token_too() -> None:
    with run() as handle:
        token = handle.identity("twitter")
        with pytest.raises(ValueError, match="already the token of a twitter identity"):
            handle.identity("facebook", token=token)
        assert handle.identity("facebook", token=token, replace=True) == token


def test_sandbox_handle_is_what_run_yields() -> None:
    with run() as handle:
        assert isinstance(handle, SandboxHandle)
