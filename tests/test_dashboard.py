"""The dashboard over plain HTTP: pages, forms and their Origin check, the login cookie and the
admin token, the event stream and its bounds, --no-ui. The browser tests are in
test_dashboard_browser.py.

These tests use aiohttp's test client directly: the suite's checked client holds every answer
under /__sandbox/ to the OpenAPI document, which describes the API, not these HTML pages.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from sandbox.api.datafiles import data_path
from sandbox.api.push import ENDPOINTS
from sandbox.config import Settings
from sandbox.http.app import create_app
from sandbox.http.dashboard.live import HUB, Hub, event
from sandbox.http.dashboard.views import web_url
from sandbox.http.server import banner, start
from sandbox.model.bounds import REFUSE, Bound
from sandbox.model.journal import Entry, Journal
from tests.conftest import AUTH, TOKENS, push_path
from tests.conftest import example as conftest_example

Client = TestClient[web.Request, web.Application]
ADMIN = "admin-token-for-tests"
UI = "/__sandbox/ui/"


async def make_client(**settings: Any) -> Client:
    client: Client = TestClient(TestServer(create_app(Settings(seed=7, **settings))))
    await client.start_server()
    return client


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    client = await make_client(processing_time=600)
    yield client
    await client.close()


@pytest.fixture
async def guarded() -> AsyncIterator[Client]:
    client = await make_client(admin_token=ADMIN)
    yield client
    await client.close()


def origin(client: Client) -> dict[str, str]:
    return {"Origin": f"http://{client.host}:{client.port}"}


def example(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(
        (data_path("fixtures") / "requests" / f"{name}.json").read_text()
    )
    return body


async def push(client: Client, path: str, provider: str, body: dict[str, Any]) -> int:
    answer = await client.post(
        f"/push/identities/{TOKENS[provider]}/{path}", json=body, headers={"Authorization": AUTH}
    )
    return answer.status


# --- pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["", "journal", "faults", "jobs", "identities"])
async def test_each_view_is_an_html_page_that_loads_nothing_from_elsewhere(
    client: Client, view: str
) -> None:
    answer = await client.get(UI + view)
    assert answer.status == 200
    assert answer.content_type == "text/html"
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "img-src 'self' data:;" in policy
    text = await answer.text()
    assert f'href="{UI}static/dashboard.css"' in text
    assert not re.search(r"(src|href)=\"https?://", text)  # no CDN


async def test_static_files_are_served_from_the_package(client: Client) -> None:
    for name in ("dashboard.css", "dashboard.js"):
        answer = await client.get(f"{UI}static/{name}")
        assert answer.status == 200
        assert len(await answer.read()) > 1000


async def test_the_feed_renders_each_network_and_never_embeds_a_picture_by_default(
    client: Client,
) -> None:
    assert (
        await push(
            client, "facebook/page/picture.json", "facebook", example("facebook.page.picture")
        )
        == 200
    )
    assert await push(client, "pinterest/pin.json", "pinterest", example("pinterest.pin")) == 200
    assert await push(client, "twitter/post.json", "twitter", example("twitter.post")) == 200
    text = await (await client.get(UI)).text()
    assert "Analytical Engines Ltd" in text  # the page posted to, by its name
    assert "Frequency Hopping" in text  # the pin's board
    assert "@alanturing" in text
    assert "https://analytical-engines.example.com/img/mill-and-store.jpeg" in text
    assert "<img" not in text
    assert f'href="{UI}journal/1"' in text


async def test_with_ui_fetch_images_the_feed_shows_pictures() -> None:
    client = await make_client(ui_fetch_images=True)
    try:
        await push(client, "pinterest/pin.json", "pinterest", example("pinterest.pin"))
        answer = await client.get(UI)
        assert '<img class="media" src="https://images.example.com/hedy/piano-roll.jpg"' in (
            await answer.text()
        )
        assert "img-src 'self' http: https: data:" in answer.headers["Content-Security-Policy"]
    finally:
        await client.close()


async def test_the_feed_fragment_is_the_live_part_only(client: Client) -> None:
    text = await (await client.get(UI + "?fragment=1")).text()
    assert "<html" not in text and "Nothing published yet" in text


async def test_a_journal_entry_shows_bodies_redacted_and_a_curl_command(client: Client) -> None:
    await push(client, "twitter/post.json", "twitter", example("twitter.post"))
    text = await (await client.get(UI + "journal/1")).text()
    assert "[redacted]" in text and AUTH.split()[1] not in text
    curl = re.search(r'<pre id="curl"[^>]*>(.*?)</pre>', text, re.S)
    assert curl is not None
    command = curl.group(1).replace("&#39;", "'").replace("&#34;", '"').replace("&amp;", "&")
    assert command.startswith("curl -X POST -u ")
    assert f"/push/identities/{TOKENS['twitter']}/twitter/post.json" in command
    assert "We can only see a short distance ahead" in command


async def test_an_entry_no_longer_kept_is_a_404(client: Client) -> None:
    assert (await client.get(UI + "journal/99")).status == 404


async def test_an_entry_is_shown_by_its_id_until_the_bound_drops_it() -> None:
    client = await make_client(journal_size=3)
    try:
        for index in range(5):
            body = {"request": {"push": {"post": {"message": f"number {index + 1}"}}}}
            await push(client, "twitter/post.json", "twitter", body)
        for entry_id in (1, 2, 6):
            assert (await client.get(f"{UI}journal/{entry_id}")).status == 404
        for entry_id in (3, 4, 5):
            page = await client.get(f"{UI}journal/{entry_id}")
            assert page.status == 200 and f"number {entry_id}" in await page.text()
        await client.delete("/__sandbox/journal")
        await push(client, "twitter/post.json", "twitter", example("twitter.post"))
        assert (await client.get(f"{UI}journal/5")).status == 404  # ids go on after a reset
        assert (await client.get(f"{UI}journal/6")).status == 200
    finally:
        await client.close()


async def test_the_journal_filters_by_status(client: Client) -> None:
    await push(client, "twitter/post.json", "twitter", example("twitter.post"))
    await push(client, "twitter/post.json", "twitter", {"request": {}})
    text = await (await client.get(UI + "journal?status=400")).text()
    assert 'data-id="2"' in text and 'data-id="1"' not in text


# --- forms and their Origin check -----------------------------------------------------------


async def test_a_form_arms_a_preset_and_says_so(client: Client) -> None:
    answer = await client.post(
        UI + "faults",
        data={"preset": "rate_limited", "resource": "twitter.post", "times": "1"},
        headers=origin(client),
        allow_redirects=False,
    )
    assert answer.status == 303
    assert answer.headers["Location"].startswith(UI + "faults?done=Armed+rule+1")
    assert await push(client, "twitter/post.json", "twitter", example("twitter.post")) == 429
    assert await push(client, "twitter/post.json", "twitter", example("twitter.post")) == 200


async def test_a_bad_rule_is_refused_with_the_reason(client: Client) -> None:
    answer = await client.post(
        UI + "faults", data={"preset": "nope"}, headers=origin(client), allow_redirects=False
    )
    assert "error=Cannot+arm+the+rule" in answer.headers["Location"]
    assert (await (await client.get("/__sandbox/faults")).json())["rules"] == []


@pytest.mark.parametrize("sent", [None, "http://evil.example", "null"])
async def test_a_form_from_another_origin_changes_nothing(client: Client, sent: str | None) -> None:
    headers = {} if sent is None else {"Origin": sent}
    answer = await client.post(
        UI + "faults", data={"preset": "server_error"}, headers=headers, allow_redirects=False
    )
    assert answer.status == 403
    assert "must come from a page of this sandbox" in (await answer.text())
    assert (await (await client.get("/__sandbox/faults")).json())["rules"] == []


async def test_disarm_and_reset(client: Client) -> None:
    for _ in range(2):
        await client.post(UI + "faults", data={"preset": "overloaded"}, headers=origin(client))
    await client.post(UI + "faults/1/disarm", data={}, headers=origin(client))
    rules = (await (await client.get("/__sandbox/faults")).json())["rules"]
    assert [rule["id"] for rule in rules] == [2]
    await client.post(UI + "faults/reset", data={"action": "clear"}, headers=origin(client))
    assert (await (await client.get("/__sandbox/faults")).json())["rules"] == []


async def test_finish_and_fail_buttons(client: Client) -> None:
    for _ in range(2):
        await push(client, "youtube/video.json", "youtube", example("youtube.video"))
    await client.post(UI + "jobs/job-1/finish", data={}, headers=origin(client))
    await client.post(UI + "jobs/job-2/fail", data={}, headers=origin(client))
    jobs = (await (await client.get("/__sandbox/jobs")).json())["jobs"]
    assert [job["state"] for job in jobs] == ["succeeded", "failed"]
    again = await client.post(
        UI + "jobs/job-2/finish", data={}, headers=origin(client), allow_redirects=False
    )
    assert "already+ended" in again.headers["Location"]


async def test_an_identity_registered_from_the_form(client: Client) -> None:
    answer = await client.post(
        UI + "identities",
        data={
            "provider": "facebook",
            "name": "Mary Somerville",
            "screen_name": "mary.somerville",
            "target_kind": "pages",
            "targets": "1234567890, Connexion of the Sciences\n",
            "consent": "on",
        },
        headers=origin(client),
        allow_redirects=False,
    )
    assert "done=Registered+Facebook+identity" in answer.headers["Location"]
    known = (await (await client.get("/__sandbox/identities")).json())["identities"]
    mary = next(i for i in known if i["user"].get("name") == "Mary Somerville")
    assert mary["pages"] == [{"id": "1234567890", "name": "Connexion of the Sciences"}]


# --- the admin token and the login cookie ---------------------------------------------------


async def test_with_an_admin_token_pages_send_to_the_login_and_json_says_401(
    guarded: Client,
) -> None:
    page = await guarded.get(UI + "journal?status=429", allow_redirects=False)
    assert page.status == 303
    assert page.headers["Location"] == UI + "login?next=%2F__sandbox%2Fui%2Fjournal%3Fstatus%3D429"
    assert (await guarded.get("/__sandbox/journal")).status == 401
    assert (await guarded.get(UI + "events")).status == 401
    assert (await guarded.get(UI + "login")).status == 200
    assert (await guarded.get(UI + "static/dashboard.css")).status == 200


async def login(client: Client, token: str = ADMIN, **headers: str) -> Any:
    return await client.post(
        UI + "login",
        data={"token": token, "next": UI + "faults"},
        headers=headers or origin(client),
        allow_redirects=False,
    )


async def test_the_login_sets_a_strict_http_only_cookie_for_the_control_plane(
    guarded: Client,
) -> None:
    answer = await login(guarded)
    assert answer.status == 303 and answer.headers["Location"] == UI + "faults"
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/__sandbox/" in cookie
    assert ADMIN not in cookie  # an HMAC of it, never the token
    # The client keeps the cookie: pages, JSON and events open.
    assert (await guarded.get(UI + "faults")).status == 200
    assert (await guarded.get("/__sandbox/journal")).status == 200
    # A change on the strength of the cookie needs this sandbox's Origin ...
    rule = {"preset": "overloaded"}
    assert (await guarded.post("/__sandbox/faults", json=rule)).status == 403
    evil = {"Origin": "http://evil.example"}
    assert (await guarded.post("/__sandbox/faults", json=rule, headers=evil)).status == 403
    assert (
        await guarded.post("/__sandbox/faults", json=rule, headers=origin(guarded))
    ).status == 201
    # ... and logging out closes it again.
    await guarded.post(UI + "logout", headers=origin(guarded))
    assert (await guarded.get("/__sandbox/journal")).status == 401


async def test_a_wrong_token_or_a_foreign_origin_logs_nobody_in(guarded: Client) -> None:
    wrong = await login(guarded, "not-it")
    assert wrong.status == 401 and "Set-Cookie" not in wrong.headers
    foreign = await login(guarded, Origin="http://evil.example")
    assert foreign.status == 403 and "Set-Cookie" not in foreign.headers


async def test_the_bearer_token_still_works_without_an_origin(guarded: Client) -> None:
    bearer = {"Authorization": f"Bearer {ADMIN}"}
    answer = await guarded.post("/__sandbox/faults", json={"preset": "overloaded"}, headers=bearer)
    assert answer.status == 201


async def test_a_cookie_from_another_run_opens_nothing(guarded: Client) -> None:
    other = await make_client(admin_token=ADMIN)
    try:
        cookie = (await login(other)).cookies["sandbox_ui"].value
    finally:
        await other.close()
    answer = await guarded.get("/__sandbox/journal", headers={"Cookie": f"sandbox_ui={cookie}"})
    assert answer.status == 401


async def test_after_login_a_next_elsewhere_goes_to_the_dashboard(guarded: Client) -> None:
    answer = await guarded.post(
        UI + "login",
        data={"token": ADMIN, "next": "https://evil.example/"},
        headers=origin(guarded),
        allow_redirects=False,
    )
    assert answer.headers["Location"] == UI


# --- --no-ui --------------------------------------------------------------------------------


async def test_no_ui_serves_no_dashboard() -> None:
    client = await make_client(ui=False)
    try:
        for path in ("", "journal", "events", "static/dashboard.css", "login"):
            answer = await client.get(UI + path)
            assert answer.status == 404, path
            assert "Unknown control-plane path" in await answer.text()
        assert (await client.get("/__sandbox/health")).status == 200
    finally:
        await client.close()


async def test_the_banner_links_to_the_dashboard_unless_it_is_off() -> None:
    for ui, shown in ((True, True), (False, False)):
        running = await start(Settings(port=0, ui=ui))
        try:
            assert (f"dashboard:  {running.url}/__sandbox/ui/" in banner(running)) is shown
        finally:
            await running.stop()


# --- the event stream -----------------------------------------------------------------------


async def read_event(stream: Any) -> dict[str, Any]:
    """The data of the next ``event: entry`` of an SSE stream."""
    while True:
        line = await asyncio.wait_for(stream.content.readline(), 5)
        assert line, "the stream ended"
        if line.startswith(b"data: "):
            data: dict[str, Any] = json.loads(line[6:])
            return data


async def test_events_stream_each_new_entry_and_nothing_listens_once_the_tab_is_gone(
    client: Client,
) -> None:
    journal = client.app[HUB].journal if client.app else None
    assert journal is not None and not journal.watched
    stream = await client.get(UI + "events")
    assert stream.headers["Content-Type"] == "text/event-stream"
    assert journal.watched
    await push(client, "twitter/post.json", "twitter", example("twitter.post"))
    event = await read_event(stream)
    assert (event["id"], event["status"], event["resource"]) == (1, 200, "twitter.post")
    assert event["identity"] == TOKENS["twitter"]
    stream.close()
    for _ in range(100):
        if not journal.watched:
            break
        await asyncio.sleep(0.01)
    assert not journal.watched


async def test_a_reconnecting_tab_first_gets_what_it_missed(client: Client) -> None:
    for _ in range(3):
        await push(client, "twitter/post.json", "twitter", example("twitter.post"))
    stream = await client.get(UI + "events", headers={"Last-Event-ID": "1"})
    assert [(await read_event(stream))["id"] for _ in range(2)] == [2, 3]
    stream.close()


async def test_a_deprecated_resource_is_warned_about(client: Client) -> None:
    stream = await client.get(UI + "events")
    await push(client, "facebook/post.json", "facebook", example("facebook.post"))
    event = await read_event(stream)
    assert event["warnings"] and "deprecated" in event["warnings"][0]
    stream.close()


async def test_live_tabs_are_bounded() -> None:
    client = await make_client(ui_max_clients=1)
    try:
        first = await client.get(UI + "events")
        second = await client.get(UI + "events")
        assert second.status == 503
        assert "--ui-max-clients" in await second.text()
        health = await (await client.get("/__sandbox/health")).json()
        assert health["bounds"]["dashboard_clients"]["refused"] == 1
        first.close()
    finally:
        await client.close()


class Transport:
    """Stands for a tab's connection that no longer reads."""

    def __init__(self) -> None:
        self.aborted = False

    def abort(self) -> None:
        self.aborted = True


async def test_a_tab_that_falls_behind_is_cut_and_holds_nothing() -> None:
    journal = Journal()
    bound = Bound("dashboard_clients", max_count=2, policy=REFUSE)
    hub = Hub(journal, bound, flush_s=0, max_pending_bytes=4096)
    transport = Transport()
    stalled = hub.join(transport)  # type: ignore[arg-type]
    sent = 0
    while not stalled.dropped:  # one batch each, none read
        assert sent < 4096, "never dropped"
        entry = Entry("POST", f"/{sent}", 0.0, {})
        journal.record(entry)
        sent += 1
        await asyncio.sleep(0.001)
        assert stalled.size <= 4096
    assert transport.aborted
    assert sent * len(event(entry)) > 4096 and stalled.size == 0
    hub.leave(stalled)
    assert hub.bound.dropped == 1 and hub.bound.count == 0 and not journal.watched


async def test_a_stalled_tab_on_a_real_socket_is_cut(client: Client) -> None:
    """A tab whose browser stopped reading: the socket fills, then its waiting events, then it
    is disconnected; pushes are answered all along."""
    hub = client.app[HUB] if client.app else None
    assert hub is not None
    hub.flush_s, hub.max_pending_bytes = 0, 16 * 1024
    # Small socket buffers on both sides, so the test need not fill megabytes of them first.
    tab = socket.socket()
    tab.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    tab.setblocking(False)
    await asyncio.get_running_loop().sock_connect(tab, (client.host, client.port))
    await asyncio.get_running_loop().sock_sendall(
        tab, f"GET {UI}events HTTP/1.1\r\nHost: {client.host}\r\n\r\n".encode()
    )  # and never reads: the browser stopped reading
    while not hub.watchers:
        await asyncio.sleep(0.01)
    (watcher,) = hub.watchers
    assert watcher.transport is not None
    server_side = watcher.transport.get_extra_info("socket")
    server_side.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    body = {"request": {"push": {"post": {"message": "x" * 200}}}}
    for _ in range(5000):
        assert await push(client, "twitter/post.json", "twitter", body) == 200
        if hub.bound.dropped:
            break
    assert hub.bound.dropped == 1 and not hub.watchers
    tab.close()


async def test_every_resource_s_example_appears_in_the_feed(client: Client) -> None:
    for endpoint in ENDPOINTS:
        answer = await client.post(
            push_path(endpoint), json=conftest_example(endpoint), headers={"Authorization": AUTH}
        )
        assert answer.status == 200, endpoint.name
    text = await (await client.get(UI)).text()
    assert text.count('<li class="card ') == len(ENDPOINTS)
    for endpoint in ENDPOINTS:
        assert f'data-resource="{endpoint.name}"' in text


def test_only_web_urls_become_links_or_pictures() -> None:
    assert web_url("https://example.com/a.png") == "https://example.com/a.png"
    for sent in ("javascript:alert(1)", "data:image/png;base64,AAAA", "//evil.example/", None):
        assert web_url(sent) == ""
