"""Canned answers: a rule chooses the data of a success; merged into the fabricated result,
checked against the resource's result schema, after the fault rules (a failure still wins)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from aiohttp import web
from aiohttp.test_utils import TestClient

from sandbox.api.push import BY_NAME
from sandbox.config import Settings
from sandbox.http.app import create_app
from sandbox.model.canned import merge, result_problem
from sandbox.model.faults import FaultPlan, FaultSpecError
from sandbox.testing.handle import run
from tests.conftest import AUTH, ClientFactory, example, push_path

Client = TestClient[web.Request, web.Application]
TWEET = BY_NAME["twitter.post"]
VIDEO = BY_NAME["youtube.video"]
CHOSEN = "2000000000000000020"


async def push(client: Client, endpoint: Any = TWEET, **headers: str) -> tuple[int, Any]:
    response = await client.post(
        push_path(endpoint), json=example(endpoint), headers={"Authorization": AUTH, **headers}
    )
    answer = await response.json()
    if response.status != 200:
        return response.status, answer["response"]["request"]["status"]["info"]
    return response.status, answer["response"]["result"]["data"]


async def arm(client: Client, rule: Any) -> tuple[int, Any]:
    response = await client.post("/__sandbox/faults", json=rule)
    answer = await response.json()
    if response.status != 201:
        return response.status, answer["response"]["request"]["status"]["info"]
    return response.status, answer["rules"]


async def test_a_canned_answer_chooses_the_data_of_a_success(client: Client) -> None:
    status, rules = await arm(client, {"resource": "twitter.post", "answer": {"post_id": CHOSEN}})
    assert status == 201
    assert (rules[0]["effect"], rules[0]["answer"]) == ("answer", {"post_id": CHOSEN})
    status, data = await push(client)
    assert status == 200
    assert data["post_id"] == CHOSEN
    assert data["provider"] == "twitter" and data["post_location"].startswith("https://twitter")


async def test_times_and_after_as_for_every_rule(client: Client) -> None:
    await arm(client, {"resource": "twitter.post", "answer": {"post_id": CHOSEN}, "after": 1,
                       "times": 1})  # fmt: skip
    ids = [(await push(client))[1]["post_id"] for _ in range(3)]
    assert ids[1] == CHOSEN
    assert CHOSEN not in (ids[0], ids[2])
    listed = (await (await client.get("/__sandbox/faults")).json())["rules"]
    assert (listed[0]["matched"], listed[0]["fired"]) == (3, 1)


async def test_a_firing_fault_still_wins(client: Client) -> None:
    await arm(client, {"resource": "twitter.post", "preset": "rate_limited", "times": 1})
    await arm(client, {"resource": "twitter.post", "answer": {"post_id": CHOSEN}, "times": 1})
    assert (await push(client))[0] == 429
    status, data = await push(client)
    assert (status, data["post_id"]) == (200, CHOSEN)  # the failed call did not use it up


async def test_seeded_runs_stay_the_same_with_or_without_a_canned_answer(
    aiohttp_client: ClientFactory,
) -> None:
    async def post_ids(canned: bool) -> list[str]:
        client = await aiohttp_client(create_app(Settings(seed=11)))
        if canned:
            await arm(client, {"resource": "twitter.post", "answer": {"post_id": CHOSEN},
                               "times": 1})  # fmt: skip
        return [(await push(client))[1]["post_id"] for _ in range(3)]

    plain, with_canned = await post_ids(False), await post_ids(True)
    assert with_canned[0] == CHOSEN
    assert with_canned[1:] == plain[1:]


async def test_journaled_as_a_canned_answer(client: Client) -> None:
    await arm(client, {"resource": "twitter.post", "answer": {"post_id": CHOSEN}})
    await push(client)
    (entry,) = (await (await client.get("/__sandbox/journal")).json())["entries"]
    assert entry["fault"]["effect"] == "answer"
    assert entry["fault"]["answer"] == {"post_id": CHOSEN}
    assert entry["response"]["status"] == 200
    assert entry["response"]["data"]["post_id"] == CHOSEN


@pytest.mark.parametrize(
    ("rule", "named"),
    [
        ({"resource": "twitter.post", "answer": {"post_id": "20"}}, "/answer/post_id: "),
        (
            {"resource": "twitter.post", "answer": {"picture_id": "1"}},
            "/answer/picture_id: the result of twitter.post has no picture_id; its keys are",
        ),
        (
            {"resource": "twitter.*", "answer": {"post_id": CHOSEN}},
            "/answer/post_id: the result of twitter.picture has no post_id",
        ),
        ({"resource": "twitter.post", "answer": {"provider": "facebook"}}, "/answer/provider:"),
        ({"resource": "twitter.post", "answer": {}}, "/answer: must be an object"),
        ({"resource": "twitter.post", "answer": [CHOSEN]}, "/answer: must be an object"),
        ({"answer": {"post_id": CHOSEN}, "preset": "overloaded"}, "/answer: a canned answer is"),
        ({"answer": {"post_id": CHOSEN}, "resource": "twitter.post", "status": 500}, "/status:"),
    ],
)
async def test_data_that_can_never_validate_is_refused_when_armed_naming_the_key(
    client: Client, rule: dict[str, Any], named: str
) -> None:
    status, info = await arm(client, rule)
    assert status == 400
    assert named in info
    assert (await (await client.get("/__sandbox/faults")).json())["rules"] == []


async def test_the_header_gives_a_canned_answer_to_one_request(client: Client) -> None:
    data = quote(json.dumps({"post_id": CHOSEN}))
    status, answered = await push(client, **{"X-Sandbox-Fault": f"answer; data={data}"})
    assert (status, answered["post_id"]) == (200, CHOSEN)
    assert (await push(client))[1]["post_id"] != CHOSEN
    (first, _) = (await (await client.get("/__sandbox/journal")).json())["entries"]
    assert (first["fault"]["effect"], first["fault"]["source"]) == ("answer", "header")


@pytest.mark.parametrize(
    ("header", "named"),
    [
        (f"answer; data={quote(json.dumps({'post_id': 'x'}))}", "answer/post_id"),
        ("answer; data={not json", "must be URL-encoded JSON"),
        ("answer", "answer takes one parameter, data="),
    ],
)
async def test_a_bad_header_answer_is_refused(client: Client, header: str, named: str) -> None:
    status, info = await push(client, **{"X-Sandbox-Fault": header})
    assert status == 400
    assert named in info


async def test_an_asynchronous_video_keeps_the_chosen_id(client: Client) -> None:
    video_id = "dQw4w9WgXcQ"
    await arm(client, {"resource": "youtube.video", "answer": {"video_id": video_id}})
    status, data = await push(client, VIDEO)
    assert (status, data["video_id"]) == (200, video_id)
    (job,) = (await (await client.get("/__sandbox/jobs")).json())["jobs"]
    assert json.dumps(job).count(video_id) >= 1


def test_a_scenario_file_takes_canned_answers(tmp_path: Path) -> None:
    path = tmp_path / "answers.toml"
    path.write_text(
        f'[[rules]]\nresource = "twitter.post"\ntimes = 2\nanswer = {{ post_id = "{CHOSEN}" }}\n'
    )
    (rule,) = FaultPlan.from_files([path], seed=None).rules
    assert (rule.effect, rule.answer, rule.times) == ("answer", {"post_id": CHOSEN}, 2)


def test_the_handle_arms_a_canned_answer_and_refuses_bad_data() -> None:
    with run(seed=3) as handle:
        token = handle.identity("twitter")
        rule = handle.answer("twitter.post", {"post_id": CHOSEN}, times=1)
        url = handle.push_url("twitter/post.json", token)
        body = {"request": {"push": {"post": {"message": "canned"}}}}
        answer = requests.post(url, json=body, auth=handle.auth, timeout=5).json()
        assert answer["response"]["result"]["data"]["post_id"] == CHOSEN
        assert rule.fired == 1
        with pytest.raises(FaultSpecError, match="answer/post_id"):
            handle.answer("twitter.post", {"post_id": 20})
        handle.check_fired()


def test_merge_is_key_by_key_for_objects_and_the_result_is_checked() -> None:
    assert merge({"a": {"b": 1, "c": 2}, "d": 3}, {"a": {"b": 9}, "d": [4]}) == {
        "a": {"b": 9, "c": 2},
        "d": [4],
    }
    good = {"provider": "twitter", "object": "post", "post_id": CHOSEN,
            "post_location": f"https://twitter.com/someone/status/{CHOSEN}"}  # fmt: skip
    assert result_problem("twitter.post", good) is None
    problem = result_problem("twitter.post", {**good, "post_id": "1"})
    assert problem is not None and problem.startswith("post_id:")
