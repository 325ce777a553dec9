"""Bounds: every store stays within its count and bytes, says what it dropped or refused, and
the health report lists them (docs/limits.md)."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from sandbox.config import Settings
from sandbox.http.app import create_app
from sandbox.model.bounds import (
    FORGET_OLDEST,
    REFUSE,
    Bound,
    BoundedQueue,
    BoundedStore,
    BoundFull,
)
from sandbox.model.faults import FaultPlan
from tests.conftest import AUTH, TOKENS, ClientFactory

Client = TestClient[web.Request, web.Application]
TWEET = "/push/identities/{token}/twitter/post.json"
BOARD = "/push/identities/{token}/pinterest/board.json"


def tweet(message: str = "Hello") -> dict[str, Any]:
    return {"request": {"push": {"post": {"message": message}}}}


async def make(aiohttp_client: ClientFactory, **settings: Any) -> Client:
    return await aiohttp_client(create_app(Settings(seed=7, **settings)))


async def health(client: Client) -> dict[str, Any]:
    response = await client.get("/__sandbox/health")
    assert response.status == 200
    report: dict[str, Any] = await response.json()
    return report


# --- the mechanism ----------------------------------------------------------------------------


def test_a_store_forgets_its_oldest_items_past_its_count_and_counts_them() -> None:
    bound = Bound("things", max_count=3, policy=FORGET_OLDEST)
    dropped: list[str] = []
    store: BoundedStore[str, int] = BoundedStore(bound, on_drop=lambda k, v: dropped.append(k))
    for index in range(5):
        store.put(f"k{index}", index)
    assert list(store) == ["k2", "k3", "k4"]
    assert dropped == ["k0", "k1"]
    assert bound.report()["dropped"] == 2 and bound.report()["count"] == 3


def test_a_store_forgets_its_oldest_items_past_its_bytes() -> None:
    bound = Bound("texts", max_count=100, max_bytes=10)
    store: BoundedStore[int, str] = BoundedStore(bound, cost=len)
    for index, text in enumerate(["aaaa", "bbbb", "cccc", "dd"]):
        store.put(index, text)
    assert store.values() == ["bbbb", "cccc", "dd"]  # 10 bytes: the bound's own size
    assert (bound.size, bound.dropped, bound.dropped_bytes) == (10, 1, 4)


def test_a_queue_forgets_its_oldest_items_past_its_count_or_bytes_never_the_newest() -> None:
    bound = Bound("texts", max_count=3, max_bytes=10)
    queue: BoundedQueue[str] = BoundedQueue(bound, cost=len)
    for text in ["aa", "bb", "cc", "dd"]:
        queue.append(text)
    assert queue.values() == ["bb", "cc", "dd"] and (queue[0], len(queue)) == ("bb", 3)
    queue.append("eeeeeeee")
    assert queue.values() == ["dd", "eeeeeeee"]  # 10 bytes
    queue.append("f" * 50)  # larger than the bound: kept alone
    assert queue.values() == ["f" * 50]
    assert (bound.count, bound.size, bound.dropped, bound.dropped_bytes) == (1, 50, 5, 16)
    queue.clear()
    assert (len(queue), bound.count, bound.size, bound.dropped) == (0, 0, 0, 0)
    with pytest.raises(ValueError, match="FORGET_OLDEST"):
        BoundedQueue(Bound("rules", max_count=1, policy=REFUSE))


def test_a_refusing_store_keeps_what_it_has_and_names_the_flag() -> None:
    bound = Bound("rules", max_count=2, policy=REFUSE, flags=("--max-rules",))
    store: BoundedStore[int, str] = BoundedStore(bound)
    store.put(1, "a")
    store.put(2, "b")
    store.put(2, "b again")  # a replacement always fits
    with pytest.raises(BoundFull, match=r"holds at most 2 items \(raise it with --max-rules\)"):
        store.put(3, "c", what="rule")
    assert store.values() == ["a", "b again"]
    assert bound.refused == 1


# --- the journal ------------------------------------------------------------------------------


async def test_the_journal_holds_at_most_its_bytes_counted_as_served(
    aiohttp_client: ClientFactory,
) -> None:
    client = await make(aiohttp_client, journal_max_bytes=40_000, journal_max_body=4096)
    for index in range(60):
        response = await client.post(
            TWEET.format(token=TOKENS["twitter"]),
            json=tweet(f"{index} " + "x" * (index * 50)),
            headers={"Authorization": AUTH},
        )
        assert response.status in (200, 400)
    raw = await (await client.get("/__sandbox/journal")).read()
    served = json.loads(raw)
    sizes = [
        len(json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode())
        for entry in served["entries"]
    ]
    assert sum(sizes) <= 40_000
    assert served["dropped"] > 0 and served["dropped"] + len(served["entries"]) == 60
    journal = (await health(client))["bounds"]["journal"]
    assert journal["bytes"] <= journal["max_bytes"] == 40_000
    assert journal["dropped"] == served["dropped"]
    assert sum(sizes) <= journal["bytes"]  # the cost counted is never below what is served


async def test_a_body_over_the_entry_cap_is_kept_truncated_with_its_size_and_digest(
    aiohttp_client: ClientFactory,
) -> None:
    client = await make(aiohttp_client, journal_max_body=1000, allow_unknown_keys=True)
    body = json.dumps(tweet("é" * 3000)).encode()
    await client.post(
        TWEET.format(token=TOKENS["twitter"]), data=body, headers={"Authorization": AUTH}
    )
    entry = (await (await client.get("/__sandbox/journal")).json())["entries"][-1]
    assert entry["request"]["body_truncated"] == {
        "size": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
        "kept": 1000,
    }
    kept = entry["request"]["body"]
    assert isinstance(kept, str) and body.decode().startswith(kept) and len(kept.encode()) <= 1000


# --- the other stores -------------------------------------------------------------------------


async def test_registered_identities_past_their_bound_are_refused_507(
    aiohttp_client: ClientFactory,
) -> None:
    client = await make(aiohttp_client, max_identities=2)
    statuses = [
        (await client.post("/__sandbox/identities", json={"provider": "twitter"})).status
        for _ in range(3)
    ]
    assert statuses == [201, 201, 507]
    refused = await (await client.post("/__sandbox/identities", json={"provider": "x"})).json()
    assert refused["response"]["request"]["status"]["code"] == 400  # bad ones still say why
    report = (await health(client))["bounds"]["identities"]
    assert (report["count"], report["refused"]) == (2, 1)


async def test_registered_identities_are_bounded_in_bytes(aiohttp_client: ClientFactory) -> None:
    client = await make(aiohttp_client, identities_max_bytes=5000)
    big = {"provider": "facebook", "pages": [{"id": str(n), "name": "p" * 100} for n in range(20)]}
    first = await client.post("/__sandbox/identities", json=big)
    second = await client.post("/__sandbox/identities", json=big)
    assert (first.status, second.status) == (201, 507)
    info = (await second.json())["response"]["request"]["status"]["info"]
    assert "--identities-max-bytes" in info


async def test_created_boards_are_bounded_across_identities(aiohttp_client: ClientFactory) -> None:
    client = await make(aiohttp_client, max_created_targets=3)
    tokens = [f"00000000-0000-4000-8000-00000000000{n}" for n in range(5)]
    for token in tokens:
        response = await client.post(
            BOARD.format(token=token),
            json={"request": {"push": {"board": {"name": "b " + token}}}},
            headers={"Authorization": AUTH},
        )
        assert response.status == 200, await response.text()
    listed = (await (await client.get("/__sandbox/identities")).json())["identities"]
    boards = [
        board["name"]
        for item in listed
        if item["token"] in tokens
        for board in item.get("boards", [])
    ]
    assert boards == ["b " + token for token in tokens[2:]]
    report = (await health(client))["bounds"]["created_targets"]
    assert (report["count"], report["dropped"]) == (3, 2)


async def test_boards_of_an_identity_that_is_gone_leave_the_bound_with_it(
    aiohttp_client: ClientFactory,
) -> None:
    client = await make(aiohttp_client, max_created_targets=3, max_auto_identities=2)
    forgotten = [f"00000000-0000-4000-8000-00000000000{n}" for n in range(4)]
    for token in forgotten:  # the first two automatic identities are forgotten by the last two
        response = await client.post(
            BOARD.format(token=token),
            json={"request": {"push": {"board": {"name": "b " + token}}}},
            headers={"Authorization": AUTH},
        )
        assert response.status == 200, await response.text()
    report = (await health(client))["bounds"]["created_targets"]
    assert (report["count"], report["dropped"]) == (2, 0)
    deleted = await client.delete(
        f"/identities/{forgotten[3]}.json?confirm_deletion=true", headers={"Authorization": AUTH}
    )
    assert deleted.status == 200
    assert (await health(client))["bounds"]["created_targets"]["count"] == 1
    for name in ("one", "two"):  # room for the boards of the identities still there
        await client.post(
            BOARD.format(token=TOKENS["pinterest"]),
            json={"request": {"push": {"board": {"name": name}}}},
            headers={"Authorization": AUTH},
        )
    report = (await health(client))["bounds"]["created_targets"]
    assert (report["count"], report["dropped"]) == (3, 0)
    listed = (await (await client.get("/__sandbox/identities")).json())["identities"]
    boards = {item["token"]: [b["name"] for b in item.get("boards", [])] for item in listed}
    assert boards[forgotten[2]] == ["b " + forgotten[2]]
    assert boards[TOKENS["pinterest"]][-2:] == ["one", "two"]


async def test_created_targets_are_bounded_in_bytes_whatever_the_name_length(
    aiohttp_client: ClientFactory,
) -> None:
    client = await make(aiohttp_client, created_targets_max_bytes=50_000)
    for _ in range(10):
        await client.post(
            BOARD.format(token=TOKENS["pinterest"]),
            json={"request": {"push": {"board": {"name": "n" * 20_000}}}},
            headers={"Authorization": AUTH},
        )
    report = (await health(client))["bounds"]["created_targets"]
    assert report["bytes"] <= 50_000 and report["dropped"] >= 8


async def test_video_pushes_past_the_unfinished_bound_are_503_with_retry_after(
    aiohttp_client: ClientFactory,
) -> None:
    client = await make(aiohttp_client, max_unfinished_jobs=2, processing_time=3600)
    path = "/push/identities/{token}/youtube/video.json".format(token=TOKENS["youtube"])
    body = {
        "request": {"push": {"video": {"video_url": "https://example.com/v.mp4", "title": "t"}}}
    }
    answers = [
        await client.post(path, json=body, headers={"Authorization": AUTH}) for _ in range(3)
    ]
    assert [answer.status for answer in answers] == [200, 200, 503]
    assert answers[2].headers["Retry-After"] == "1"
    await client.post("/__sandbox/jobs/finish")
    again = await client.post(path, json=body, headers={"Authorization": AUTH})
    assert again.status == 200


async def test_fault_rules_past_their_bound_are_refused_and_none_is_armed(
    aiohttp_client: ClientFactory,
) -> None:
    client = await make(aiohttp_client, max_fault_rules=3)
    rule = {"resource": "twitter.post", "preset": "rate_limited"}
    assert (await client.post("/__sandbox/faults", json=[rule, rule])).status == 201
    refused = await client.post("/__sandbox/faults", json=[rule, rule])
    assert refused.status == 507
    assert len((await (await client.get("/__sandbox/faults")).json())["rules"]) == 2


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ({"resource": "*" + "?" * 200, "preset": "rate_limited"}, "at most 100 characters"),
        ({"preset": "rate_limited", "info": "i" * 5000}, "info: must be at most 2000"),
        (
            {"preset": "rate_limited", "headers": {f"X-{n}": "v" for n in range(30)}},
            "at most 20 headers",
        ),
    ],
    ids=["long-pattern", "long-info", "many-headers"],
)
async def test_fault_rules_are_bounded_in_length(
    aiohttp_client: ClientFactory, rule: dict[str, Any], words: str
) -> None:
    client = await make(aiohttp_client)
    refused = await client.post("/__sandbox/faults", json=rule)
    assert refused.status == 400
    assert words in (await refused.json())["response"]["request"]["status"]["info"]


def test_many_rules_for_other_identities_do_not_slow_the_pick() -> None:
    plan = FaultPlan(max_rules=100_000)
    plan.reset()
    other = [
        {"identity": f"00000000-0000-4000-8000-{n:012d}", "preset": "rate_limited"}
        for n in range(100_000)
    ]
    plan.arm(other)
    plan.pick("twitter.post", "twitter", TOKENS["twitter"])  # the index is made once
    started = time.perf_counter()
    for _ in range(100):
        assert plan.pick("twitter.post", "twitter", TOKENS["twitter"]) is None
    assert (time.perf_counter() - started) / 100 < 0.001  # was ~0.1 s a pick, trying them all


async def test_fault_counters_forget_the_least_recently_seen_identities(
    aiohttp_client: ClientFactory,
) -> None:
    client = await make(aiohttp_client, max_fault_counters=5)
    await client.post(
        "/__sandbox/faults",
        json={"resource": "twitter.post", "preset": "rate_limited", "after": 10**6},
    )
    for n in range(20):
        await client.post(
            TWEET.format(token=f"00000000-0000-4000-8000-{n:012d}"),
            json=tweet(),
            headers={"Authorization": AUTH},
        )
    report = (await health(client))["bounds"]["fault_counters"]
    assert (report["count"], report["dropped"]) == (5, 15)


async def test_published_objects_are_bounded_in_bytes(aiohttp_client: ClientFactory) -> None:
    client = await make(aiohttp_client, objects_max_bytes=3000)
    for _ in range(30):
        await client.post(
            TWEET.format(token=TOKENS["twitter"]), json=tweet(), headers={"Authorization": AUTH}
        )
    objects = await (await client.get("/__sandbox/objects")).json()
    assert 0 < len(objects["objects"]) < 30 and objects["dropped"] == 30 - len(objects["objects"])
    assert len(json.dumps(objects["objects"])) <= 3000


async def test_health_lists_every_bound_with_its_limits(aiohttp_client: ClientFactory) -> None:
    client = await make(aiohttp_client)
    report = await health(client)
    assert report["status"] == "ok" and report["reasons"] == []
    assert set(report["bounds"]) == {
        "journal",
        "objects",
        "identities",
        "auto_identities",
        "created_targets",
        "jobs",
        "unfinished_jobs",
        "fault_rules",
        "fault_counters",
        "bodies_in_flight",
        "dashboard_clients",
        "tombstones",
        "connections",
        "sharing_messages",
    }
    assert report["bounds"]["journal"]["max_bytes"] == 64 * 1024 * 1024
