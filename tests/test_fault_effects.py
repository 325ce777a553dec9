"""Each fault effect as a real HTTP client sees it, and the control plane that arms them.

Timings are lower bounds only (an effect is at least as slow as asked); the one upper bound
is on normal requests served beside a hang, far below the hang's own length.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from sandbox.api import live
from sandbox.api.errors import SettingsError
from sandbox.api.push import BY_NAME, Endpoint
from sandbox.config import Settings
from sandbox.http.app import create_app
from sandbox.http.appkeys import SANDBOX
from sandbox.http.server import start
from sandbox.model.faults import ANSWER_EFFECTS, PRESETS
from tests.conftest import AUTH, TOKENS, ClientFactory, example, push_path

Client = TestClient[web.Request, web.Application]
TWEET = BY_NAME["twitter.post"]
PAGE_POST = BY_NAME["facebook.page.post"]

# name -> (status, words of the info); None for the presets that send no envelope.
PRESET_ANSWERS: dict[str, tuple[int, str] | None] = {
    "rate_limited": (429, "Too many requests"),
    "invalid_credentials": (401, "Invalid API credentials"),
    "identity_not_found": (404, "connection to Twitter"),
    "no_publish_consent": (403, "reconnect the Twitter account"),
    "provider_token_expired": (403, "Twitter access token"),
    "provider_refused": (403, "The provider Twitter has refused"),
    "duplicate_post": (403, "duplicates a recent publication"),
    "quota_exceeded": (403, "daily upload quota"),
    "media_too_large": (400, "Twitter accepts pictures of at most 5 MB"),
    "media_unsupported": (400, "unsupported format"),
    "server_error": (500, "internal error"),
    "maintenance": (502, "maintenance"),
    "overloaded": (503, "overloaded"),
    "timeout": (504, "The request to Twitter timed out"),
    "connection_reset": None,
    "malformed_response": None,
}


async def post(
    client: Client,
    endpoint: Endpoint = TWEET,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> aiohttp.ClientResponse:
    return await client.post(
        push_path(endpoint, token),
        json=example(endpoint),
        headers={"Authorization": AUTH, **(headers or {})},
        **kwargs,
    )


async def arm(client: Client, rules: Any) -> list[dict[str, Any]]:
    response = await client.post("/__sandbox/faults", json=rules)
    assert response.status == 201, await response.text()
    armed: list[dict[str, Any]] = (await response.json())["rules"]
    return armed


async def listed(client: Client) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = (await (await client.get("/__sandbox/faults")).json())["rules"]
    return rules


async def journal(client: Client) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = (await (await client.get("/__sandbox/journal")).json())[
        "entries"
    ]
    return entries


async def statuses(client: Client, calls: int, endpoint: Endpoint = TWEET) -> list[int]:
    return [(await post(client, endpoint)).status for _ in range(calls)]


def status_of(answer: Any) -> dict[str, Any]:
    status: dict[str, Any] = answer["response"]["request"]["status"]
    return status


# --- every preset -----------------------------------------------------------------------------


# The presets that emulate a case whose live sentence is known (spec §7), on a tweet.
LIVE_INFO = {
    "invalid_credentials": live.UNAUTHORIZED,
    "identity_not_found": live.IDENTITY_NOT_FOUND,
    "provider_token_expired": live.PROVIDER_REFUSED.format(object="post"),
    "provider_refused": live.PROVIDER_REFUSED.format(object="post"),
}
assert LIVE_INFO["provider_refused"] == (
    "The post cannot be published. The provider send back an unknown response. Our quality "
    "assurance team will immediately have a look at this issue."
)

# Presets that fail a video's processing answer normally; tests/test_videos.py covers them.
ANSWER_PRESETS = [name for name, rule in PRESETS.items() if rule["effect"] in ANSWER_EFFECTS]


@pytest.mark.parametrize("name", ANSWER_PRESETS)
async def test_each_preset_over_http(client: Client, name: str) -> None:
    assert name in PRESET_ANSWERS, f"preset {name} has no expected answer in this test"
    await arm(client, {"preset": name, "max_ms": 20})  # max_ms: the timeout preset hangs 20 ms
    expected = PRESET_ANSWERS[name]
    if name == "connection_reset":
        with pytest.raises(aiohttp.ClientConnectionError):
            await post(client)
    elif name == "malformed_response":
        response = await post(client)
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("application/json")
        with pytest.raises(json.JSONDecodeError):
            await response.json()
    else:
        assert expected is not None
        response = await post(client)
        status, words = expected
        assert response.status == status
        assert response.headers["Content-Type"].startswith("application/json")
        answer = await response.json()
        assert status_of(answer)["flag"] == "error"
        assert status_of(answer)["code"] == status
        if name in LIVE_INFO:  # the live API's sentence; the sandbox's in the detail header
            assert status_of(answer)["info"] == LIVE_INFO[name]
            assert words in response.headers["X-Sandbox-Detail"]
        else:
            assert words in status_of(answer)["info"]
        assert answer["response"]["request"]["resource"] == push_path(TWEET)
        assert "result" not in answer["response"]
        if name == "rate_limited":
            assert response.headers["Retry-After"] == "60"
    [entry] = await journal(client)
    assert entry["fault"]["preset"] == name
    assert entry["fault"]["id"] == 1


# --- each effect ------------------------------------------------------------------------------


async def test_delay_answers_normally_after_the_latency(client: Client) -> None:
    await arm(client, {"effect": "delay", "delay_ms": 200})
    started = time.perf_counter()
    response = await post(client)
    assert time.perf_counter() - started >= 0.19
    assert response.status == 200
    assert status_of(await response.json())["flag"] == "success"


async def test_delay_with_a_status_answers_the_error_after_the_latency(client: Client) -> None:
    await arm(client, {"effect": "delay", "delay_ms": 100, "jitter_ms": 50, "status": 503})
    started = time.perf_counter()
    response = await post(client)
    assert time.perf_counter() - started >= 0.09
    assert response.status == 503
    assert status_of(await response.json())["code"] == 503


async def test_an_error_can_be_delayed_too(client: Client) -> None:
    await arm(client, {"preset": "server_error", "delay_ms": 100})
    started = time.perf_counter()
    response = await post(client)
    assert time.perf_counter() - started >= 0.09
    assert response.status == 500


async def test_error_with_chosen_status_info_and_headers(client: Client) -> None:
    await arm(
        client,
        {
            "effect": "error",
            "status": 418,
            "info": "{provider} is a teapot",
            "headers": {"X-A": "b"},
        },
    )
    response = await post(client)
    assert response.status == 418
    assert response.headers["X-A"] == "b"
    assert status_of(await response.json()) == {
        "flag": "error",
        "code": 418,
        "info": "Twitter is a teapot",
    }


async def test_reset_closes_the_connection_with_no_answer(client: Client) -> None:
    await arm(client, {"effect": "reset", "times": 1})
    with pytest.raises(aiohttp.ClientConnectionError):
        await post(client)
    assert (await post(client)).status == 200  # the server is fine, the next call answers
    entries = await journal(client)
    assert entries[0]["response"]["status"] is None
    assert entries[0]["response"]["info"] == "no answer: the connection was closed"
    assert entries[0]["fault"]["effect"] == "reset"


async def test_hang_until_the_client_gives_up(client: Client) -> None:
    await arm(client, {"effect": "hang", "max_ms": 10_000, "times": 1})
    started = time.perf_counter()
    with pytest.raises(TimeoutError):
        await post(client, timeout=aiohttp.ClientTimeout(total=0.2))
    assert time.perf_counter() - started >= 0.19
    assert (await post(client)).status == 200
    entries = await journal(client)
    assert [entry["response"]["status"] for entry in entries] == [None, 200]
    assert entries[0]["fault"]["effect"] == "hang"


async def test_hang_without_status_ends_in_a_closed_connection_after_max_ms(
    client: Client,
) -> None:
    await arm(client, {"effect": "hang", "max_ms": 100})
    started = time.perf_counter()
    with pytest.raises(aiohttp.ClientConnectionError):
        await post(client)
    assert time.perf_counter() - started >= 0.09


async def test_timeout_preset_ends_in_a_504_if_the_client_waits(client: Client) -> None:
    await arm(client, {"preset": "timeout", "max_ms": 100})
    started = time.perf_counter()
    response = await post(client)
    assert time.perf_counter() - started >= 0.09
    assert response.status == 504
    assert status_of(await response.json())["code"] == 504


async def test_empty_is_a_200_with_no_body(client: Client) -> None:
    await arm(client, {"effect": "empty"})
    response = await post(client)
    assert response.status == 200
    assert response.headers["Content-Length"] == "0"
    assert await response.read() == b""


async def test_malformed_is_truncated_json(client: Client) -> None:
    await arm(client, {"effect": "malformed"})
    response = await post(client)
    raw = await response.read()
    assert response.status == 200
    assert raw.startswith(b'{"response":')
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)


@pytest.mark.parametrize(
    ("status", "title"),
    [(502, "Bad Gateway"), (503, "Service Temporarily Unavailable"), (504, "Gateway Time-out")],
)
async def test_html_is_a_load_balancer_page(client: Client, status: int, title: str) -> None:
    await arm(client, {"effect": "html", "status": status})
    response = await post(client)
    assert response.status == status
    assert response.headers["Content-Type"].startswith("text/html")
    page = await response.text()
    assert f"<title>{status} {title}</title>" in page
    with pytest.raises(json.JSONDecodeError):
        json.loads(page)
    [entry] = await journal(client)
    assert entry["response"] == {"status": status, "info": "Injected fault: html", "data": None}


async def test_slow_body_dribbles_the_whole_answer(client: Client) -> None:
    await arm(client, {"effect": "slow_body", "chunks": 4, "duration_ms": 300})
    started = time.perf_counter()
    response = await post(client)
    assert response.status == 200
    arrivals, body = [], b""
    async for chunk in response.content.iter_any():
        arrivals.append(time.perf_counter() - started)
        body += chunk
    assert len(arrivals) >= 2
    assert arrivals[-1] - arrivals[0] >= 0.15
    assert arrivals[-1] >= 0.29
    assert int(response.headers["Content-Length"]) == len(body)
    answer = json.loads(body)
    assert status_of(answer)["flag"] == "success"
    assert answer["response"]["result"]["data"]["post_id"]


# --- when rules fire --------------------------------------------------------------------------


async def test_after_and_times_count_exactly(client: Client) -> None:
    await arm(client, {"preset": "server_error", "after": 2, "times": 2})
    assert await statuses(client, 6) == [200, 200, 500, 500, 200, 200]
    [rule] = await listed(client)
    assert (rule["id"], rule["matched"], rule["fired"]) == (1, 6, 2)


async def test_rules_narrowed_by_resource_identity_and_provider(client: Client) -> None:
    await arm(
        client,
        [
            {"resource": "facebook.page.*", "preset": "provider_refused"},
            {"identity": TOKENS["twitter"], "resource": "twitter.picture", "preset": "overloaded"},
            {"provider": "youtube", "preset": "quota_exceeded"},
        ],
    )
    assert (await post(client, PAGE_POST)).status == 403
    assert (await post(client, BY_NAME["facebook.group.post"])).status == 200
    assert (await post(client, BY_NAME["twitter.picture"])).status == 503
    assert (await post(client, TWEET)).status == 200
    assert (await post(client, BY_NAME["youtube.video"])).status == 403
    assert (await post(client, BY_NAME["linkedin.post"])).status == 200


async def seeded_pattern(client: Client, interleave: bool) -> list[int]:
    await arm(client, {"preset": "server_error", "probability": 0.5})
    pattern = []
    for _ in range(20):
        if interleave:
            await statuses(client, 2, PAGE_POST)
        pattern.append((await post(client)).status)
    return pattern


async def test_seeded_probability_fails_the_same_calls_in_two_runs(
    aiohttp_client: ClientFactory,
) -> None:
    first = await aiohttp_client(create_app(Settings(seed=42)))
    second = await aiohttp_client(create_app(Settings(seed=42)))
    alone = await seeded_pattern(first, interleave=False)
    assert alone == await seeded_pattern(second, interleave=True)
    assert set(alone) == {200, 500}
    other = await aiohttp_client(create_app(Settings(seed=7)))
    assert await seeded_pattern(other, interleave=False) != alone


async def ids_of(client: Client, calls: int) -> list[str]:
    ids = []
    for _ in range(calls):
        raw = await (await post(client)).read()
        # the faulted call has no id: an error envelope, an empty body, truncated JSON, HTML
        with contextlib.suppress(ValueError, KeyError):
            ids.append(json.loads(raw)["response"]["result"]["data"]["post_id"])
    return ids


@pytest.mark.parametrize(
    "rule",
    [
        {"preset": "server_error"},
        {"preset": "timeout", "max_ms": 10},
        {"preset": "connection_reset"},
        {"preset": "malformed_response"},
        {"effect": "empty"},
        {"effect": "html", "status": 503},
    ],
    ids=["error", "timeout", "reset", "malformed", "empty", "html"],
)
async def test_a_faulted_call_consumes_no_ids(
    aiohttp_client: ClientFactory, rule: dict[str, Any]
) -> None:
    plain = await aiohttp_client(create_app(Settings(seed=42)))
    faulted = await aiohttp_client(create_app(Settings(seed=42)))
    await arm(faulted, {**rule, "after": 2, "times": 1})
    expected = await ids_of(plain, 4)
    if rule.get("preset") == "connection_reset":
        got = await ids_of(faulted, 2)
        with pytest.raises(aiohttp.ClientConnectionError):
            await post(faulted)
        got += await ids_of(faulted, 2)
    else:
        got = await ids_of(faulted, 5)
    assert got == expected
    assert len(set(got)) == 4


async def test_delay_and_slow_body_do_answer_and_use_ids(aiohttp_client: ClientFactory) -> None:
    plain = await aiohttp_client(create_app(Settings(seed=42)))
    slow = await aiohttp_client(create_app(Settings(seed=42)))
    await arm(
        slow,
        [
            {"effect": "delay", "delay_ms": 10, "times": 1},
            {"effect": "slow_body", "duration_ms": 10, "times": 1},
        ],
    )
    assert await ids_of(slow, 3) == await ids_of(plain, 3)


# --- the X-Sandbox-Fault header ---------------------------------------------------------------


async def test_header_fails_that_request_only(client: Client) -> None:
    response = await post(client, headers={"X-Sandbox-Fault": "rate_limited"})
    assert response.status == 429
    assert response.headers["Retry-After"] == "60"
    assert (await post(client)).status == 200
    entries = await journal(client)
    assert entries[0]["fault"]["source"] == "header"
    assert entries[0]["fault"]["preset"] == "rate_limited"
    assert entries[1]["fault"] is None


async def test_header_with_parameters(client: Client) -> None:
    started = time.perf_counter()
    response = await post(client, headers={"X-Sandbox-Fault": "delay; delay_ms=150"})
    assert time.perf_counter() - started >= 0.14
    assert response.status == 200
    response = await post(client, headers={"X-Sandbox-Fault": "error; status=502; info=Gone"})
    assert (response.status, status_of(await response.json())["info"]) == (502, "Gone")


async def test_header_applies_first_and_alone(client: Client) -> None:
    await arm(client, {"preset": "server_error"})
    response = await post(client, headers={"X-Sandbox-Fault": "overloaded"})
    assert response.status == 503
    [rule] = await listed(client)
    assert (rule["matched"], rule["fired"]) == (0, 0)
    assert (await post(client)).status == 500


async def test_bad_header_is_400_naming_the_key(client: Client) -> None:
    response = await post(client, headers={"X-Sandbox-Fault": "delay; delay_ms=soon"})
    assert response.status == 400
    info = status_of(await response.json())["info"]
    assert "X-Sandbox-Fault: delay_ms: must be a whole number" in info


# --- auth, identity and validation come first -------------------------------------------------


async def test_caller_mistakes_are_answered_before_any_fault(client: Client) -> None:
    await arm(client, {"preset": "server_error"})
    no_auth = await client.post(push_path(TWEET), json=example(TWEET))
    assert no_auth.status == 401
    wrong_provider = await post(client, token=TOKENS["facebook"])
    assert wrong_provider.status == 403
    bad_body = await client.post(
        push_path(TWEET),
        json={"request": {"push": {"post": {}}}},
        headers={"Authorization": AUTH},
    )
    assert bad_body.status == 400
    header_but_no_auth = await client.post(
        push_path(TWEET), json=example(TWEET), headers={"X-Sandbox-Fault": "timeout"}
    )
    assert header_but_no_auth.status == 401
    [rule] = await listed(client)
    assert (rule["matched"], rule["fired"]) == (0, 0)
    assert (await post(client)).status == 500


# --- the control plane ------------------------------------------------------------------------


async def test_control_plane_lists_removes_and_clears(client: Client) -> None:
    armed = await arm(
        client, {"rules": [{"preset": "server_error", "times": 1}, {"effect": "empty"}]}
    )
    assert [rule["id"] for rule in armed] == [1, 2]
    assert [rule["source"] for rule in armed] == ["api", "api"]
    await statuses(client, 2)
    assert [(r["id"], r["matched"], r["fired"]) for r in await listed(client)] == [
        (1, 2, 1),
        (2, 1, 1),
    ]
    response = await client.delete("/__sandbox/faults/1")
    assert (response.status, await response.json()) == (200, {"removed": 1})
    response = await client.delete("/__sandbox/faults/1")
    assert response.status == 404
    assert "No fault rule with id 1" in status_of(await response.json())["info"]
    assert [rule["id"] for rule in await listed(client)] == [2]
    response = await client.delete("/__sandbox/faults")
    assert await response.json() == {"removed": 1}
    assert await listed(client) == []


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"rules": [{"preset": "server_error"}, {"preset": "nope"}]}, "/rules/1/preset"),
        ([{"effect": "delay", "colour": "red"}], "/0/colour"),
        ({"effect": "error", "status": 200}, "/status"),
        ({"preset": "server_error", "probability": 2}, "/probability"),
        ({"rules": [{"preset": "server_error", "resource": "tweeter.*"}]}, "/rules/0/resource"),
        ({"rules": "server_error"}, "/rules must be a list"),
    ],
)
async def test_bad_rules_are_400_naming_the_pointer(
    client: Client, body: Any, pointer: str
) -> None:
    response = await client.post("/__sandbox/faults", json=body)
    assert response.status == 400
    info = status_of(await response.json())["info"]
    assert info.startswith(f"Cannot arm the faults: {pointer}")
    assert await listed(client) == []


async def test_python_arms_the_same_rules(client: Client) -> None:
    client.app[SANDBOX].faults.arm(
        [{"resource": "twitter.post", "preset": "rate_limited", "times": 1}]
    )
    assert await statuses(client, 2) == [429, 200]


# --- start-up files, reset --------------------------------------------------------------------


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text('[[rules]]\npreset = "overloaded"\ntimes = 1\n', encoding="utf-8")
    return path


async def test_reset_rearms_the_start_up_rules_and_delete_removes_them(
    aiohttp_client: ClientFactory, scenario: Path
) -> None:
    client = await aiohttp_client(create_app(Settings(seed=1, faults=(scenario,))))
    [rule] = await listed(client)
    assert (rule["id"], rule["source"], rule["preset"]) == (1, "file", "overloaded")
    await arm(client, {"effect": "empty"})
    assert await statuses(client, 3) == [503, 200, 200]
    assert await (await client.post("/__sandbox/reset")).json() == {"status": "reset", "seed": 1}
    assert [(r["id"], r["source"], r["matched"], r["fired"]) for r in await listed(client)] == [
        (1, "file", 0, 0)
    ]
    assert await statuses(client, 2) == [503, 200]
    assert (await client.delete("/__sandbox/faults")).status == 200
    assert await listed(client) == []
    assert await statuses(client, 1) == [200]
    await client.post("/__sandbox/reset")
    assert await statuses(client, 2) == [503, 200]


async def test_shipped_rate_limited_scenario(aiohttp_client: ClientFactory) -> None:
    path = Path(__file__).parent.parent / "fixtures" / "faults" / "rate-limited.toml"
    client = await aiohttp_client(create_app(Settings(faults=(path,))))
    assert await statuses(client, 7) == [200] * 5 + [429] * 2


def test_bad_start_up_file_names_file_rule_and_key(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text(
        '{"rules": [{"preset": "server_error"}, {"preset": "overloaded", "after": -1}]}',
        encoding="utf-8",
    )
    with pytest.raises(SettingsError, match=r"broken\.json: rules\[1\]\.after"):
        create_app(Settings(faults=(path,)))


# --- nothing left behind ----------------------------------------------------------------------


async def test_a_hang_leaves_nothing_behind_and_blocks_nobody() -> None:
    """On a real server (no handler cancellation): normal requests are served at full speed
    beside a long hang, and stopping the server ends the hang at once."""
    before = asyncio.all_tasks()
    running = await start(Settings(port=0, seed=1))
    try:
        async with aiohttp.ClientSession(running.url) as session:

            async def call(fault: str | None = None) -> aiohttp.ClientResponse:
                headers = {"Authorization": AUTH}
                if fault:
                    headers["X-Sandbox-Fault"] = fault
                response = await session.post(
                    push_path(TWEET), json=example(TWEET), headers=headers
                )
                await response.read()
                return response

            hang = asyncio.create_task(call("timeout; max_ms=60000"))
            await asyncio.sleep(0.05)
            started = time.perf_counter()
            answers = await asyncio.gather(*(call() for _ in range(20)))
            assert [response.status for response in answers] == [200] * 20
            assert time.perf_counter() - started < 10  # nowhere near the hang's 60 s
            assert not hang.done()
            await running.stop()
            try:
                ended = await asyncio.wait_for(hang, 10)
                assert ended.status == 504
            except aiohttp.ClientConnectionError:
                pass  # the server may close the connection first: the hang ended either way
    finally:
        await running.stop()
    await asyncio.sleep(0)
    assert {task for task in asyncio.all_tasks() - before if not task.done()} == set()


async def test_a_hang_ends_when_the_client_gives_up() -> None:
    """On a real server: the hang notices the client left and is journaled long before max_ms."""
    running = await start(Settings(port=0))
    try:
        async with aiohttp.ClientSession(running.url) as session:
            with pytest.raises(TimeoutError):
                await session.post(
                    push_path(TWEET),
                    json=example(TWEET),
                    headers={"Authorization": AUTH, "X-Sandbox-Fault": "hang; max_ms=30000"},
                    timeout=aiohttp.ClientTimeout(total=0.1),
                )
            for _ in range(100):
                if len(running.sandbox.journal):
                    break
                await asyncio.sleep(0.05)
            [entry] = running.sandbox.journal
            assert entry.info == "no answer: the connection was closed"
            assert entry.duration_ms < 10_000
    finally:
        await running.stop()
