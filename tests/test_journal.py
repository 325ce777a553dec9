"""The journal and the control plane around it: what a test can learn of what was sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from sandbox.api.push import BY_NAME
from sandbox.config import Settings
from sandbox.http.app import create_app
from sandbox.model.journal import Entry, Journal
from tests.conftest import AUTH, TOKENS, ClientFactory, example, push_path

Client = TestClient[web.Request, web.Application]


async def tweet(client: Client, message: str = "hello", **headers: str) -> int:
    endpoint = BY_NAME["twitter.post"]
    body = {"request": {"push": {"post": {"message": message}}}}
    response = await client.post(
        push_path(endpoint), json=body, headers={"Authorization": AUTH, **headers}
    )
    return response.status


async def journal(client: Client, query: str = "") -> dict[str, Any]:
    response = await client.get(f"/__sandbox/journal{query}")
    assert response.status == 200
    data: dict[str, Any] = await response.json()
    return data


async def test_an_entry_records_the_whole_exchange_with_authorization_redacted(
    client: Client,
) -> None:
    assert await tweet(client, "hi", **{"X-Trace": "abc"}) == 200
    (entry,) = (await journal(client))["entries"]
    assert entry["method"] == "POST"
    assert entry["path"] == push_path(BY_NAME["twitter.post"])
    assert (entry["resource"], entry["identity"], entry["provider"]) == (
        "twitter.post",
        TOKENS["twitter"],
        "twitter",
    )
    assert entry["direction"] == "inbound"
    assert entry["request"]["headers"]["Authorization"] == "[redacted]"
    assert entry["request"]["headers"]["X-Trace"] == "abc"
    assert entry["request"]["body"] == {"request": {"push": {"post": {"message": "hi"}}}}
    assert entry["response"]["status"] == 200
    assert entry["response"]["data"]["post_id"].isdigit()
    assert entry["fault"] is None
    assert entry["duration_ms"] >= 0
    assert entry["time"].endswith("+00:00")


async def test_refusals_unknown_paths_and_raw_bodies_are_recorded(client: Client) -> None:
    assert await tweet(client, "x" * 300) == 400
    await client.post("/push/nowhere.json", data=b"not json {")
    await client.get("/__sandbox/health")  # the control plane's own calls are not journaled
    entries = (await journal(client))["entries"]
    assert [e["response"]["status"] for e in entries] == [400, 404]
    assert "[request->push->post->message]" in entries[0]["response"]["info"]
    assert entries[1]["request"]["body"] == "not json {"
    assert entries[1]["resource"] is None


async def test_filters_select_by_resource_identity_status_and_since(client: Client) -> None:
    await tweet(client)
    await tweet(client, "")
    picture = BY_NAME["twitter.picture"]
    await client.post(push_path(picture), json=example(picture), headers={"Authorization": AUTH})
    everything = (await journal(client))["entries"]
    assert len(everything) == 3
    posts = (await journal(client, "?resource=twitter.post"))["entries"]
    assert [e["resource"] for e in posts] == ["twitter.post", "twitter.post"]
    refused = (await journal(client, "?status=400"))["entries"]
    assert [e["id"] for e in refused] == [everything[1]["id"]]
    later = (await journal(client, f"?since={everything[0]['id']}"))["entries"]
    assert [e["id"] for e in later] == [everything[1]["id"], everything[2]["id"]]
    assert (await journal(client, f"?identity={TOKENS['facebook']}"))["entries"] == []


async def test_bad_filter_is_a_400_naming_it(client: Client) -> None:
    response = await client.get("/__sandbox/journal?status=teapot")
    assert response.status == 400
    info = (await response.json())["response"]["request"]["status"]["info"]
    assert "status must be a whole number" in info


def test_the_bound_drops_the_oldest_first_and_counts_them() -> None:
    journal = Journal(size=3)
    for index in range(5):
        journal.record(Entry("POST", f"/{index}", 0.0, {}))
    assert [entry.path for entry in journal] == ["/2", "/3", "/4"]
    assert [entry.id for entry in journal] == [3, 4, 5]
    assert journal.dropped == 2


async def test_dropped_counter_is_reported(aiohttp_client: ClientFactory) -> None:
    client = await aiohttp_client(create_app(Settings(journal_size=2)))
    for _ in range(5):
        await tweet(client)
    data = await journal(client)
    assert len(data["entries"]) == 2 and data["dropped"] == 3


async def test_delete_clears_the_journal_and_ids_keep_growing(client: Client) -> None:
    await tweet(client)
    first_id = (await journal(client))["entries"][0]["id"]
    assert (await client.delete("/__sandbox/journal")).status == 200
    assert (await journal(client))["entries"] == []
    await tweet(client)
    assert (await journal(client))["entries"][0]["id"] > first_id


async def test_journal_file_gets_every_entry_as_a_json_line(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    path = tmp_path / "journal.jsonl"
    client = await aiohttp_client(create_app(Settings(journal_file=path)))
    await tweet(client)
    await tweet(client, "")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["response"]["status"] for line in lines] == [200, 400]
    assert lines[0]["request"]["headers"]["Authorization"] == "[redacted]"


async def test_objects_lists_what_was_published_per_identity(client: Client) -> None:
    await tweet(client)
    board = BY_NAME["pinterest.board"]
    await client.post(push_path(board), json=example(board), headers={"Authorization": AUTH})
    objects = (await (await client.get("/__sandbox/objects")).json())["objects"]
    assert [(o["resource"], o["object"]) for o in objects] == [
        ("twitter.post", "post"),
        ("pinterest.board", "board"),
    ]
    assert objects[1]["identity"] == TOKENS["pinterest"]
    assert objects[1]["board_location"].startswith("https://www.pinterest.com/")
    mine = await (await client.get(f"/__sandbox/objects?identity={TOKENS['twitter']}")).json()
    assert len(mine["objects"]) == 1


async def test_reset_returns_to_the_start_up_state(client: Client) -> None:
    await client.post("/__sandbox/faults", json={"preset": "server_error", "resource": "youtube.*"})
    await client.post("/__sandbox/identities", json={"provider": "twitter"})
    board = BY_NAME["pinterest.board"]
    await client.post(push_path(board), json=example(board), headers={"Authorization": AUTH})
    first = (await journal(client))["entries"][0]["response"]["data"]
    assert (await client.post("/__sandbox/reset")).status == 200
    assert (await journal(client))["entries"] == []
    assert (await (await client.get("/__sandbox/faults")).json())["rules"] == []
    assert (await (await client.get("/__sandbox/objects")).json())["objects"] == []
    identities = (await (await client.get("/__sandbox/identities")).json())["identities"]
    assert {i["origin"] for i in identities} == {"fixture"}
    pinterest = next(i for i in identities if i["provider"] == "pinterest")
    assert len(pinterest["boards"]) == 2  # the created board is gone
    # the seed restarts too: the same call gives the same ids again
    await client.post(push_path(board), json=example(board), headers={"Authorization": AUTH})
    assert (await journal(client))["entries"][0]["response"]["data"] == first


async def test_seed_restarts_every_random_source(client: Client) -> None:
    assert (await client.post("/__sandbox/seed", json={"seed": 5})).status == 200
    await tweet(client)
    await client.post("/__sandbox/seed", json={"seed": 5})
    await tweet(client)
    first, second = (await journal(client))["entries"]
    assert first["response"]["data"] == second["response"]["data"]
    response = await client.post("/__sandbox/seed", json={"seed": "five"})
    assert response.status == 400


async def test_admin_token_closes_the_control_plane_but_health(
    aiohttp_client: ClientFactory,
) -> None:
    client = await aiohttp_client(create_app(Settings(admin_token="s3cret")))
    assert (await client.get("/__sandbox/health")).status == 200
    refused = await client.get("/__sandbox/journal")
    assert refused.status == 401
    info = (await refused.json())["response"]["request"]["status"]["info"]
    assert "Authorization: Bearer" in info and "--admin-token" in info
    wrong = await client.get("/__sandbox/journal", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401
    allowed = await client.get("/__sandbox/journal", headers={"Authorization": "Bearer s3cret"})
    assert allowed.status == 200
    assert await tweet(client) == 200  # the push API keeps its own HTTP Basic keys


async def test_a_body_no_answer_could_carry_is_journaled_as_text(client: Client) -> None:
    endpoint = BY_NAME["twitter.post"]
    raw = b'{"request": {"push": {"post": {"message": "\\ud800"}}}}'
    for path in (push_path(endpoint), "/push/nowhere.json"):
        response = await client.post(path, data=raw, headers={"Authorization": AUTH})
        assert response.status in (400, 404)
    entries = (await journal(client))["entries"]
    assert [entry["request"]["body"] for entry in entries] == [raw.decode()] * 2


def test_a_recorded_entry_is_compact_and_reads_back_the_same() -> None:
    from multidict import CIMultiDict, CIMultiDictProxy

    headers = CIMultiDictProxy(
        CIMultiDict([("Host", "h"), ("Authorization", "Basic secret"), ("X-A", "1"), ("x-a", "2")])
    )
    body = {"request": {"push": {"post": {"message": "héllo \U0001f600", "n": [1, 2.5, None]}}}}
    entry = Entry("POST", "/p", 0.0, headers, body=body, provider="".join(["twit", "ter"]))
    expected = entry.to_json()
    Journal().record(entry)
    assert isinstance(entry.request_headers, tuple)
    assert "Basic secret" not in entry.request_headers  # redacted when kept
    assert isinstance(entry.body, bytes)
    assert entry.provider is "twitter"  # noqa: F632 - interned, one string for every entry
    assert entry.to_json() == {**expected, "id": entry.id}
    headers = expected["request"]["headers"]
    assert headers == {"Host": "h", "Authorization": "[redacted]", "X-A": "1"}


def test_a_text_body_stays_text() -> None:
    entry = Entry("POST", "/p", 0.0, {}, body="not json {")
    Journal().record(entry)
    assert entry.to_json()["request"]["body"] == "not json {"
