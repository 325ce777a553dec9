"""Asynchronous videos as an integration meets them: the immediate answer, the job's life, and
the callback POSTed to a real receiver (an aiohttp app on loopback that records what it gets).

Timings are lower bounds only. Jobs are finished through the control plane or the handle, or
run with ``processing_time=0``, so no test waits for processing except the one about it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import socket
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDict

from sandbox.api.push import BY_NAME, Endpoint
from sandbox.config import Settings
from sandbox.http.app import create_app
from sandbox.http.appkeys import SANDBOX
from sandbox.model import jobs as jobs_module
from sandbox.model.faults import PRESETS
from sandbox.testing.handle import SandboxHandle, run
from tests.conftest import AUTH, PATH_PARAMS, TOKENS, ClientFactory, example, push_path

Client = TestClient[web.Request, web.Application]
ServerFactory = Callable[..., Awaitable[TestServer]]
MakeClient = Callable[..., Awaitable[Client]]

YOUTUBE_VIDEO = BY_NAME["youtube.video"]
TWITTER_VIDEO = BY_NAME["twitter.video"]
TWEET = BY_NAME["twitter.post"]
PLAYLIST_VIDEO = BY_NAME["youtube.playlist.video"]
VIDEOS = [YOUTUBE_VIDEO, TWITTER_VIDEO]
NETWORK = {"youtube": "YouTube", "twitter": "Twitter"}
FAIL_PROCESSING_PRESETS = [
    name for name, rule in PRESETS.items() if rule["effect"] == "fail_processing"
]
NEVER = 3600.0  # a processing time no test waits for: the job ends only when finished
SLACK = 0.005  # timers may fire this much early on a coarse clock


# --- a callback receiver ------------------------------------------------------------------------


@dataclass(slots=True)
class Received:
    headers: CIMultiDict[str]
    body: Any
    at: float  # the event loop's clock


@dataclass
class Receiver:
    """Records every callback; answers 500 to the first ``fail_first``, and waits ``slow_s``
    before answering the first ``slow_first``."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    fail_first: int = 0
    slow_first: int = 0
    slow_s: float = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        loop = asyncio.get_running_loop()
        self.received.append(Received(request.headers.copy(), await request.json(), loop.time()))
        count = len(self.received)
        if count <= self.slow_first:
            await asyncio.sleep(self.slow_s)
        if count <= self.fail_first:
            return web.json_response({"error": "try again later"}, status=500)
        return web.json_response({"ok": True})

    async def wait(self, count: int = 1, timeout: float = 5.0) -> list[Received]:
        await eventually(lambda: len(self.received) >= count, timeout, f"{count} callback(s)")
        return self.received


@pytest.fixture
async def receiver(aiohttp_server: ServerFactory) -> Receiver:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    server = await aiohttp_server(app)
    receiver.url = str(server.make_url("/hook"))
    return receiver


# --- helpers --------------------------------------------------------------------------------------


async def eventually(check: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or check}")
        await asyncio.sleep(0.005)


@pytest.fixture
def make_client(aiohttp_client: ClientFactory) -> MakeClient:
    """A sandbox app with quick videos: processing at once, one delivery try; override any."""

    async def make(**overrides: Any) -> Client:
        settings = Settings(seed=7, processing_time=0, callback_retries=1).replace(**overrides)
        return await aiohttp_client(create_app(settings))

    return make


def video_body(endpoint: Endpoint, callback_url: str | None) -> dict[str, Any]:
    body = copy.deepcopy(example(endpoint))
    node = body["request"]["push"]["video"]
    node.pop("callback_url", None)
    if callback_url is not None:
        node["callback_url"] = callback_url
    return body


async def post_video(
    client: Client,
    callback_url: str | None,
    endpoint: Endpoint = YOUTUBE_VIDEO,
    **headers: str,
) -> tuple[aiohttp.ClientResponse, dict[str, Any]]:
    response = await client.post(
        push_path(endpoint),
        json=video_body(endpoint, callback_url),
        headers={"Authorization": AUTH, **headers},
    )
    answer: dict[str, Any] = await response.json()
    return response, answer


async def video_id_of(client: Client, endpoint: Endpoint = YOUTUBE_VIDEO, **headers: str) -> str:
    response, answer = await post_video(client, None, endpoint, **headers)
    assert response.status == 200, answer
    video_id: str = answer["response"]["result"]["data"]["video_id"]
    return video_id


async def tweet(client: Client, attachments: list[str]) -> tuple[int, dict[str, Any]]:
    body = {"request": {"push": {"post": {"message": "Look", "attachments": attachments}}}}
    response = await client.post(push_path(TWEET), json=body, headers={"Authorization": AUTH})
    return response.status, await response.json()


async def list_jobs(client: Client, query: str = "") -> list[dict[str, Any]]:
    response = await client.get(f"/__sandbox/jobs{query}")
    assert response.status == 200, await response.text()
    listed: list[dict[str, Any]] = (await response.json())["jobs"]
    return listed


async def finish(client: Client, job_id: str | None = None) -> list[dict[str, Any]]:
    path = "/__sandbox/jobs/finish" if job_id is None else f"/__sandbox/jobs/{job_id}/finish"
    response = await client.post(path)
    assert response.status == 200, await response.text()
    finished: list[dict[str, Any]] = (await response.json())["jobs"]
    return finished


async def outbound(client: Client) -> list[dict[str, Any]]:
    response = await client.get("/__sandbox/journal?direction=outbound")
    entries: list[dict[str, Any]] = (await response.json())["entries"]
    return entries


async def wait_outbound(client: Client, count: int = 1) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    async def poll() -> None:
        while len(found) < count:
            found[:] = await outbound(client)
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), 5)
    return found


async def arm(client: Client, rule: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/__sandbox/faults", json=rule)
    assert response.status == 201, await response.text()
    armed: dict[str, Any] = (await response.json())["rules"][0]
    return armed


async def rule_counters(client: Client) -> list[tuple[int, int]]:
    rules = (await (await client.get("/__sandbox/faults")).json())["rules"]
    return [(rule["matched"], rule["fired"]) for rule in rules]


def status_of(body: Any) -> dict[str, Any]:
    status: dict[str, Any] = body["response"]["request"]["status"]
    return status


# --- success --------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", VIDEOS, ids=lambda e: e.name)
async def test_the_success_callback(
    make_client: MakeClient, receiver: Receiver, endpoint: Endpoint
) -> None:
    client = await make_client()
    response, answer = await post_video(client, receiver.url, endpoint)

    assert response.status == 200
    data = answer["response"]["result"]["data"]
    assert data["processing_status"] == "queued"
    job_id = response.headers["X-Sandbox-Job"]
    assert job_id == "job-1"

    (callback,) = await receiver.wait(1)
    assert callback.headers["Content-Type"] == "application/json"
    assert callback.headers["User-Agent"].startswith("oneall-push-sandbox/")
    assert callback.headers["X-Sandbox-Job"] == job_id
    request = callback.body["response"]["request"]
    assert request["resource"] == push_path(endpoint)
    assert request["status"] == {
        "flag": "success",
        "code": 200,
        "info": "Your request has been processed successfully",
    }
    assert callback.body["response"]["result"]["data"] == {**data, "processing_status": "succeeded"}

    (entry,) = await wait_outbound(client)
    assert entry["direction"] == "outbound"
    assert (entry["method"], entry["path"]) == ("POST", receiver.url)
    assert (entry["resource"], entry["provider"]) == (endpoint.name, endpoint.provider)
    assert entry["request"]["headers"]["X-Sandbox-Job"] == job_id
    assert entry["request"]["body"] == callback.body
    assert entry["response"]["status"] == 200
    assert entry["response"]["info"] == f"callback delivered for {job_id}"

    (job,) = await list_jobs(client)
    assert (job["id"], job["state"], job["video_id"]) == (job_id, "succeeded", data["video_id"])
    assert job["callback_url"] == receiver.url
    assert [(d["attempt"], d["status"]) for d in job["deliveries"]] == [(1, 200)]


async def test_a_job_moves_through_processing_to_succeeded_on_its_own(
    make_client: MakeClient, receiver: Receiver
) -> None:
    client = await make_client(processing_time=0.6)
    loop = asyncio.get_running_loop()
    posted = loop.time()
    await post_video(client, receiver.url)
    states: list[str] = []

    async def state() -> str:
        (job,) = await list_jobs(client)
        if not states or states[-1] != job["state"]:
            states.append(job["state"])
        return str(job["state"])

    while await state() != "succeeded":
        await asyncio.sleep(0.01)
    assert loop.time() - posted >= 0.6 - SLACK
    assert states[-2:] == ["processing", "succeeded"]
    assert set(states) <= {"queued", "processing", "succeeded"}
    (callback,) = await receiver.wait(1)
    assert callback.body["response"]["result"]["data"]["processing_status"] == "succeeded"


# --- failed processing ------------------------------------------------------------------------


@pytest.mark.parametrize("preset", FAIL_PROCESSING_PRESETS)
async def test_a_failed_processing_callback(
    make_client: MakeClient, receiver: Receiver, preset: str
) -> None:
    client = await make_client()
    await arm(client, {"resource": "youtube.video", "preset": preset})
    response, answer = await post_video(client, receiver.url)

    assert response.status == 200  # the request itself succeeds: processing fails later
    assert answer["response"]["result"]["data"]["processing_status"] == "queued"
    (callback,) = await receiver.wait(1)
    expected_info = PRESETS[preset]["info"].replace("{provider}", "YouTube")
    assert status_of(callback.body) == {
        "flag": "error",
        "code": PRESETS[preset]["status"],
        "info": expected_info,
    }
    assert "result" not in callback.body["response"]
    assert callback.body["response"]["request"]["resource"] == push_path(YOUTUBE_VIDEO)
    assert callback.headers["X-Sandbox-Job"] == "job-1"
    (job,) = await list_jobs(client)
    assert job["state"] == "failed"
    assert [d["status"] for d in job["deliveries"]] == [200]  # the receiver took the bad news


def test_every_fail_processing_preset_is_covered() -> None:
    assert set(FAIL_PROCESSING_PRESETS) >= {"processing_failed", "video_rejected"}


async def test_a_fail_processing_rule_without_status_or_info(
    make_client: MakeClient, receiver: Receiver
) -> None:
    client = await make_client()
    await arm(client, {"resource": "twitter.video", "effect": "fail_processing"})
    await post_video(client, receiver.url, TWITTER_VIDEO)
    (callback,) = await receiver.wait(1)
    assert status_of(callback.body)["flag"] == "error"
    assert status_of(callback.body)["code"] == 403
    assert "could not be processed" in status_of(callback.body)["info"]


@pytest.mark.parametrize("endpoint", VIDEOS, ids=lambda e: e.name)
async def test_the_fault_header_rejects_a_video(
    make_client: MakeClient, receiver: Receiver, endpoint: Endpoint
) -> None:
    client = await make_client()
    response, _ = await post_video(
        client, receiver.url, endpoint, **{"X-Sandbox-Fault": "video_rejected"}
    )
    assert response.status == 200
    (callback,) = await receiver.wait(1)
    status = status_of(callback.body)
    assert (status["flag"], status["code"]) == ("error", 403)
    assert f"The provider {NETWORK[endpoint.provider]} has rejected the video" in status["info"]
    assert "result" not in callback.body["response"]
    journal = await (await client.get("/__sandbox/journal?direction=inbound")).json()
    (inbound,) = journal["entries"]
    assert inbound["fault"]["preset"] == "video_rejected"
    assert inbound["fault"]["source"] == "header"
    assert (await list_jobs(client))[0]["state"] == "failed"


@pytest.mark.parametrize("fault", ["fail_processing", "video_rejected", "callback_drop"])
async def test_video_faults_by_header_on_a_synchronous_resource_are_refused(
    make_client: MakeClient, fault: str
) -> None:
    client = await make_client()
    body = {"request": {"push": {"post": {"message": "hello"}}}}
    response = await client.post(
        push_path(TWEET), json=body, headers={"Authorization": AUTH, "X-Sandbox-Fault": fault}
    )
    assert response.status == 400
    info = status_of(await response.json())["info"]
    assert "applies to the asynchronous video resources only" in info
    assert "twitter/video.json, youtube/video.json" in info


async def test_a_fail_processing_rule_never_touches_a_synchronous_resource(
    make_client: MakeClient,
) -> None:
    client = await make_client()
    await arm(client, {"effect": "fail_processing"})
    assert (await tweet(client, []))[0] == 200
    assert await rule_counters(client) == [(0, 0)]


# --- delivery retries -----------------------------------------------------------------------------


async def test_delivery_retries_with_backoff_until_the_receiver_accepts(
    make_client: MakeClient, receiver: Receiver
) -> None:
    client = await make_client(callback_retries=3)
    receiver.fail_first = 2
    await post_video(client, receiver.url)

    first, second, third = await receiver.wait(3)
    assert second.at - first.at >= 0.5 - SLACK
    assert third.at - second.at >= 1.0 - SLACK
    assert first.body == second.body == third.body  # the same result, date included
    entries = await wait_outbound(client, 3)
    assert [entry["response"]["status"] for entry in entries] == [500, 500, 200]
    assert entries[0]["response"]["info"] == (
        "callback for job-1 not accepted: the receiver answered 500"
    )
    (job,) = await list_jobs(client)
    assert [(d["attempt"], d["status"]) for d in job["deliveries"]] == [
        (1, 500),
        (2, 500),
        (3, 200),
    ]
    await asyncio.sleep(0.05)
    assert len(receiver.received) == 3  # accepted: no more tries


async def test_delivery_gives_up_after_the_configured_tries(
    make_client: MakeClient, receiver: Receiver
) -> None:
    client = await make_client(callback_retries=2)
    receiver.fail_first = 10
    await post_video(client, receiver.url)
    await receiver.wait(2)
    ended = client.app[SANDBOX].jobs.all()[0]
    await eventually(lambda: ended.task is None, what="the job's task to end")  # dropped when done
    assert len(receiver.received) == 2
    (job,) = await list_jobs(client)
    assert [d["status"] for d in job["deliveries"]] == [500, 500]
    assert job["state"] == "succeeded"  # processing succeeded; only its callback failed


async def test_a_receiver_that_times_out_is_retried(
    make_client: MakeClient, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs_module, "CALLBACK_TIMEOUT_S", 0.1)
    client = await make_client(callback_retries=2)
    receiver.slow_first, receiver.slow_s = 1, 0.3
    await post_video(client, receiver.url)
    first, second = await receiver.wait(2)
    assert second.at - first.at >= 0.1 + 0.5 - SLACK  # the timeout, then the back-off
    entries = await wait_outbound(client, 2)
    assert entries[0]["response"]["status"] is None
    assert "Timeout" in entries[0]["response"]["info"]
    assert entries[1]["response"]["status"] == 200


async def test_an_unreachable_receiver_is_an_error_delivery(make_client: MakeClient) -> None:
    client = await make_client()
    with closed_port() as port:
        await post_video(client, f"http://127.0.0.1:{port}/hook")
        (entry,) = await wait_outbound(client)
    assert entry["response"]["status"] is None
    assert entry["response"]["info"].startswith("ClientConnectorError")


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port with nothing listening on it (bound, never listened)."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield bound.getsockname()[1]


# --- where callbacks may go -----------------------------------------------------------------------

REFUSED = [
    "https://hooks.example.com/video",
    "http://localhost.example.com/cb",
    "http://localhost@evil.example/cb",
    "http://10.0.0.1/cb",
    "http://[2001:db8::1]:8080/cb",
]
LOOPBACK = [
    "http://localhost:9/cb",
    "http://127.0.0.1:9/cb",
    "http://127.5.6.7/cb",
    "http://[::1]:9/cb",
    "http://app.localhost/cb",
]


@pytest.mark.parametrize("endpoint", VIDEOS, ids=lambda e: e.name)
@pytest.mark.parametrize("url", REFUSED)
async def test_a_callback_url_off_loopback_is_refused(
    make_client: MakeClient, endpoint: Endpoint, url: str
) -> None:
    client = await make_client()
    response, answer = await post_video(client, url, endpoint)
    assert response.status == 400
    info = status_of(answer)["info"]
    assert info.startswith("[request->push->video->callback_url] must point to a loopback address")
    assert "--callback-allow" in info
    assert "X-Sandbox-Job" not in response.headers
    assert await list_jobs(client) == []


@pytest.mark.parametrize("url", LOOPBACK)
async def test_loopback_callback_urls_are_accepted(make_client: MakeClient, url: str) -> None:
    client = await make_client(processing_time=NEVER)
    response, _ = await post_video(client, url)
    assert response.status == 200
    (job,) = await list_jobs(client)
    assert (job["callback_url"], job["state"]) == (url, "queued")


async def test_callback_allow_lets_a_named_host_receive(make_client: MakeClient) -> None:
    client = await make_client(processing_time=NEVER, callback_allow=("hooks.example.com",))
    for url in ("https://hooks.example.com/video", "https://HOOKS.Example.com/other"):
        response, _ = await post_video(client, url)
        assert response.status == 200
    response, answer = await post_video(client, "https://other.example.com/video")
    assert response.status == 400
    assert "'other.example.com'" in status_of(answer)["info"]
    listed = await list_jobs(client)
    assert [(job["state"], job["deliveries"]) for job in listed] == [("queued", [])] * 2


# --- finishing, listing, forgetting -------------------------------------------------------------


async def test_finishing_jobs_through_the_control_plane(
    make_client: MakeClient, receiver: Receiver
) -> None:
    client = await make_client(processing_time=NEVER)
    await post_video(client, receiver.url)
    await post_video(client, receiver.url, TWITTER_VIDEO)
    assert [job["state"] for job in await list_jobs(client)] == ["queued", "queued"]

    (one,) = await finish(client, "job-2")
    assert (one["id"], one["state"]) == ("job-2", "succeeded")
    (callback,) = await receiver.wait(1)
    assert callback.headers["X-Sandbox-Job"] == "job-2"
    assert [job["state"] for job in await list_jobs(client)] == ["queued", "succeeded"]

    finished = await finish(client)  # only the job it finished, not job-2 again
    assert [(job["id"], job["state"]) for job in finished] == [("job-1", "succeeded")]
    await receiver.wait(2)
    assert receiver.received[1].headers["X-Sandbox-Job"] == "job-1"
    await asyncio.sleep(0.05)
    assert len(receiver.received) == 2  # finishing a finished job sends nothing again

    response = await client.post("/__sandbox/jobs/job-9/finish")
    assert response.status == 404
    assert "No job with id job-9" in status_of(await response.json())["info"]


async def test_listing_jobs_and_filtering_by_state(make_client: MakeClient) -> None:
    client = await make_client(processing_time=NEVER)
    await video_id_of(client)
    await video_id_of(client, TWITTER_VIDEO, **{"X-Sandbox-Fault": "processing_failed"})
    await video_id_of(client, TWITTER_VIDEO)
    await finish(client, "job-1")
    await finish(client, "job-2")

    listed = await list_jobs(client)
    assert [(job["id"], job["resource"], job["state"]) for job in listed] == [
        ("job-1", "youtube.video", "succeeded"),
        ("job-2", "twitter.video", "failed"),
        ("job-3", "twitter.video", "queued"),
    ]
    assert set(listed[0]) >= {"identity", "provider", "video_id", "created", "finished"}
    assert listed[0]["finished"] is not None and listed[2]["finished"] is None
    for state, ids in [
        ("succeeded", ["job-1"]),
        ("failed", ["job-2"]),
        ("queued", ["job-3"]),
        ("processing", []),
    ]:
        assert [job["id"] for job in await list_jobs(client, f"?state={state}")] == ids
    response = await client.get("/__sandbox/jobs?state=done")
    assert response.status == 400
    assert "queued, processing, succeeded, failed" in status_of(await response.json())["info"]


async def test_a_job_without_callback_url_finishes_with_no_delivery(
    make_client: MakeClient,
) -> None:
    client = await make_client()
    await arm(client, {"resource": "*", "effect": "callback_drop"})
    response, _ = await post_video(client, None, TWITTER_VIDEO)
    assert response.status == 200
    await eventually(lambda: bool(client.app[SANDBOX].jobs.all()[0].done))
    (job,) = await list_jobs(client)
    assert (job["state"], job["callback_url"], job["deliveries"]) == ("succeeded", None, [])
    await asyncio.sleep(0.02)
    assert await outbound(client) == []
    assert await rule_counters(client) == [(0, 0)]  # no delivery, so no callback rule asked


async def test_reset_cancels_the_jobs_and_their_callbacks(
    make_client: MakeClient, receiver: Receiver
) -> None:
    client = await make_client(processing_time=0.2)
    await post_video(client, receiver.url)
    assert (await client.post("/__sandbox/reset")).status == 200
    assert await list_jobs(client) == []
    await asyncio.sleep(0.4)
    assert receiver.received == []
    response, _ = await post_video(client, None)
    assert response.headers["X-Sandbox-Job"] == "job-1"


async def test_a_finished_job_keeps_no_task_and_close_stops_the_others(
    make_client: MakeClient, receiver: Receiver
) -> None:
    """Up to max_jobs jobs are kept, so a finished one holds no task once its callback is
    out; close() stops the processing of those still going."""
    client = await make_client(processing_time=0.2)
    await post_video(client, receiver.url)
    await post_video(client, None)
    queue = client.app[SANDBOX].jobs
    first, second = queue.all()
    assert (first.state, first.waiting, first.task) == ("queued", True, None)  # no task yet
    assert queue.finish([first]) == [first]
    assert (first.state, first.waiting) == ("succeeded", False) and first.task is not None
    await receiver.wait(1)
    await eventually(lambda: first.task is None, what="the delivery task to be dropped")
    await queue.close()
    await asyncio.sleep(0.3)  # past the processing time: nothing moves the second job on
    assert (second.state, second.waiting) == ("queued", False)
    assert queue.finish([second]) == []  # closed: nothing left to finish


async def test_jobs_move_on_in_time_whatever_their_number(make_client: MakeClient) -> None:
    """One timer serves every job: each goes queued -> processing -> succeeded, those posted
    later too, and a job finished early is not moved on again."""
    client = await make_client(processing_time=0.2)
    for _ in range(3):
        await video_id_of(client)
    queue = client.app[SANDBOX].jobs
    first, second, third = queue.all()
    queue.finish([second])
    ended = second.finished
    await eventually(lambda: third.state == "processing", what="the third job to process")
    assert first.state in ("processing", "succeeded")
    await video_id_of(client)
    await eventually(
        lambda: [job.state for job in queue.all()] == ["succeeded"] * 4, what="every job to end"
    )
    assert second.finished == ended


async def test_finished_jobs_are_forgotten_oldest_first(make_client: MakeClient) -> None:
    client = await make_client(processing_time=NEVER, max_jobs=2)
    for _ in range(3):
        await video_id_of(client)
    assert [job["id"] for job in await list_jobs(client)] == ["job-1", "job-2", "job-3"]
    await finish(client)
    await video_id_of(client)
    listed = await list_jobs(client)
    assert [(job["id"], job["state"]) for job in listed] == [
        ("job-3", "succeeded"),
        ("job-4", "queued"),
    ]


async def test_unfinished_jobs_stay_and_the_oldest_finished_go_first(
    make_client: MakeClient,
) -> None:
    client = await make_client(processing_time=NEVER, max_jobs=2)
    for _ in range(4):
        await video_id_of(client)
    await finish(client, "job-3")
    await finish(client, "job-2")  # finished last, but older: forgotten first
    await video_id_of(client)
    assert [job["id"] for job in await list_jobs(client)] == ["job-1", "job-4", "job-5"]
    await finish(client, "job-4")
    await video_id_of(client)
    assert [job["id"] for job in await list_jobs(client)] == ["job-1", "job-5", "job-6"]


# --- videos and the resources that use them -------------------------------------------------------


async def test_a_tweet_cannot_attach_a_video_still_processing(make_client: MakeClient) -> None:
    client = await make_client(processing_time=NEVER)
    video_id = await video_id_of(client, TWITTER_VIDEO)

    status, answer = await tweet(client, ["1234567890", video_id])
    assert status == 400
    assert status_of(answer)["info"] == (
        f"[request->push->post->attachments->1] the video {video_id} cannot be attached: its "
        "processing has not finished yet (queued), wait for its callback to report succeeded"
    )
    await finish(client, "job-1")
    status, answer = await tweet(client, ["1234567890", video_id])
    assert status == 200, answer


async def test_a_tweet_cannot_attach_a_failed_video(make_client: MakeClient) -> None:
    client = await make_client(processing_time=NEVER)
    video_id = await video_id_of(client, TWITTER_VIDEO, **{"X-Sandbox-Fault": "video_unsupported"})
    await finish(client)
    status, answer = await tweet(client, [video_id])
    assert status == 400
    assert "[request->push->post->attachments->0]" in status_of(answer)["info"]
    assert "its processing has failed" in status_of(answer)["info"]


async def test_a_playlist_accepts_a_video_still_processing(make_client: MakeClient) -> None:
    client = await make_client(processing_time=NEVER)
    video_id = await video_id_of(client)
    body = {"request": {"push": {"video": {"video_id": video_id}}}}
    response = await client.post(
        push_path(PLAYLIST_VIDEO), json=body, headers={"Authorization": AUTH}
    )
    assert response.status == 200
    data = (await response.json())["response"]["result"]["data"]
    assert (data["video_id"], data["playlist_id"]) == (video_id, PATH_PARAMS["playlist_id"])
    assert [job["state"] for job in await list_jobs(client)] == ["queued"]


# --- faults on the outbound side ----------------------------------------------------------------


async def test_callback_drop_delivers_nothing_and_says_so(
    make_client: MakeClient, receiver: Receiver
) -> None:
    client = await make_client()
    await arm(client, {"resource": "youtube.video", "effect": "callback_drop"})
    response, _ = await post_video(client, receiver.url)
    assert response.status == 200  # a callback rule never touches the request's own answer

    (entry,) = await wait_outbound(client)
    assert entry["response"] == {"status": None, "info": "dropped by fault rule", "data": None}
    assert entry["fault"]["effect"] == "callback_drop"
    await asyncio.sleep(0.05)
    assert receiver.received == []
    (job,) = await list_jobs(client)
    assert (job["state"], job["deliveries"]) == ("succeeded", [])
    assert await rule_counters(client) == [(1, 1)]


async def test_callback_duplicate_delivers_twice(
    make_client: MakeClient, receiver: Receiver
) -> None:
    client = await make_client()
    await arm(client, {"resource": "youtube.*", "effect": "callback_duplicate"})
    await post_video(client, receiver.url)
    first, second = await receiver.wait(2)
    assert first.body == second.body
    assert first.headers["X-Sandbox-Job"] == second.headers["X-Sandbox-Job"] == "job-1"
    entries = await wait_outbound(client, 2)
    assert [entry["fault"]["effect"] for entry in entries] == ["callback_duplicate"] * 2
    await asyncio.sleep(0.05)
    assert len(receiver.received) == 2


async def test_callback_delay_delivers_late(make_client: MakeClient, receiver: Receiver) -> None:
    client = await make_client()
    await arm(client, {"provider": "twitter", "effect": "callback_delay", "delay_ms": 300})
    posted = asyncio.get_running_loop().time()
    await post_video(client, receiver.url, TWITTER_VIDEO)
    (callback,) = await receiver.wait(1)
    assert callback.at - posted >= 0.3 - SLACK
    (entry,) = await wait_outbound(client)
    assert entry["fault"]["effect"] == "callback_delay"


async def test_a_callback_fault_by_header(make_client: MakeClient, receiver: Receiver) -> None:
    client = await make_client()
    await post_video(
        client, receiver.url, YOUTUBE_VIDEO, **{"X-Sandbox-Fault": "callback_duplicate"}
    )
    await receiver.wait(2)
    entries = await wait_outbound(client, 2)
    assert {entry["fault"]["source"] for entry in entries} == {"header"}


# --- the pytest handle --------------------------------------------------------------------------


@pytest.mark.sandbox(processing_time=NEVER, callback_retries=1)
async def test_the_sandbox_fixture_finishes_jobs_and_awaits_callbacks(
    sandbox: SandboxHandle, receiver: Receiver
) -> None:
    token = sandbox.identity("youtube")
    body = video_body(YOUTUBE_VIDEO, receiver.url)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            sandbox.push_url("youtube/video.json", token), json=body, headers=sandbox.headers
        ) as response,
    ):
        assert response.status == 200
        video_id = (await response.json())["response"]["result"]["data"]["video_id"]
    assert [job["state"] for job in sandbox.jobs] == ["queued"]

    finished = sandbox.finish_jobs()
    assert [(job["video_id"], job["state"]) for job in finished] == [(video_id, "succeeded")]
    assert sandbox.jobs[0]["state"] == "succeeded"  # final at once, before any await

    (call,) = await sandbox.callbacks(1)
    assert (call.direction, call.method, call.path, call.status) == (
        "outbound",
        "POST",
        receiver.url,
        200,
    )
    assert call.identity == token
    assert call.body["response"]["result"]["data"]["processing_status"] == "succeeded"
    (callback,) = await receiver.wait(1)
    assert callback.body == call.body
    assert sandbox.finish_jobs() == []  # nothing left to finish


@pytest.mark.sandbox(processing_time=NEVER, callback_retries=1)
async def test_the_handle_fails_a_video_and_reports_missing_callbacks(
    sandbox: SandboxHandle, receiver: Receiver
) -> None:
    with pytest.raises(AssertionError, match=r"expected 1 callback deliveries within 0\.05 s"):
        await sandbox.callbacks(1, timeout=0.05)
    sandbox.fail("youtube.video", preset="processing_failed", expect_fired=True)
    async with aiohttp.ClientSession() as session:
        url = sandbox.push_url("youtube/video.json", TOKENS["youtube"])
        body = video_body(YOUTUBE_VIDEO, receiver.url)
        async with session.post(url, json=body, headers=sandbox.headers) as response:
            assert response.status == 200
    assert [job["state"] for job in sandbox.finish_jobs()] == ["failed"]
    (call,) = await sandbox.callbacks()
    assert status_of(call.body)["code"] == 502
    assert "YouTube failed to fetch or transcode it" in status_of(call.body)["info"]


async def test_the_threaded_handle_finishes_jobs(receiver: Receiver) -> None:
    with run(processing_time=NEVER, callback_retries=1, log_level="warning") as handle:
        async with aiohttp.ClientSession() as session:
            url = handle.push_url("twitter/video.json", TOKENS["twitter"])
            body = video_body(TWITTER_VIDEO, receiver.url)
            async with session.post(url, json=body, headers=handle.headers) as response:
                assert response.status == 200
        assert [job["state"] for job in handle.finish_jobs()] == ["succeeded"]
        (call,) = await handle.callbacks(1)
        assert call.status == 200
    assert len(receiver.received) == 1
