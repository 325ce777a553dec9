"""The dashboard in a real browser (Debian's chromium, driven by Playwright): what a user sees
and does, with the page open while the API is used. Screenshots of each view go to
build/screenshots/ (docs/dashboard.md shows copies)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest
import requests

from sandbox.api.datafiles import data_path
from sandbox.testing.handle import SandboxHandle, run
from tests.browser import screenshot
from tests.conftest import TOKENS

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

ADMIN_TOKEN = "s3cret-admin-token"


def example(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(
        (data_path("fixtures") / "requests" / f"{name}.json").read_text()
    )
    return body


def push(
    handle: SandboxHandle, path: str, provider: str, body: dict[str, Any]
) -> requests.Response:
    return requests.post(
        handle.push_url(path, TOKENS[provider]), json=body, auth=handle.auth, timeout=10
    )


def tweet(handle: SandboxHandle, message: str) -> requests.Response:
    return push(
        handle,
        "twitter/post.json",
        "twitter",
        {"request": {"push": {"post": {"message": message}}}},
    )


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    # Videos wait for their buttons: processing takes longer than any test.
    with run(seed=7, processing_time=600) as handle:
        yield handle


def ui(handle: SandboxHandle, view: str = "") -> str:
    return f"{handle.url}/__sandbox/ui/{view}"


def wait_live(page: Page) -> None:
    """The page's event stream is open: what happens next arrives without a reload."""
    page.wait_for_selector('#live-status[data-state="live"]')


def publish_one_of_each(handle: SandboxHandle) -> None:
    for path, provider, name in [
        ("twitter/post.json", "twitter", "twitter.post"),
        ("facebook/page/picture.json", "facebook", "facebook.page.picture"),
        ("facebook/page/post.json", "facebook", "facebook.page.post"),
        ("linkedin/company/post.json", "linkedin", "linkedin.company.post"),
        ("pinterest/pin.json", "pinterest", "pinterest.pin"),
        ("youtube/video.json", "youtube", "youtube.video"),
    ]:
        assert push(handle, path, provider, example(name)).status_code == 200


def test_a_post_published_through_the_api_appears_in_the_feed_without_a_reload(
    sandbox: SandboxHandle, page: Page
) -> None:
    page.goto(ui(sandbox))
    wait_live(page)
    page.evaluate("window.notReloaded = true")
    assert tweet(sandbox, "Hello from the live feed").status_code == 200
    card = page.locator(".card-tweet", has_text="Hello from the live feed")
    card.wait_for()
    assert page.evaluate("window.notReloaded") is True
    assert "Alan Turing" in card.inner_text()
    assert "@alanturing" in card.inner_text()
    card.get_by_role("link", name=re.compile("Journal entry")).click()
    page.wait_for_url(re.compile(r"/__sandbox/ui/journal/\d+$"))
    assert "Hello from the live feed" in page.locator("pre").nth(2).inner_text()


def test_the_feed_shows_each_network_its_own_way(sandbox: SandboxHandle, page: Page) -> None:
    publish_one_of_each(sandbox)
    page.goto(ui(sandbox))
    assert "Analytical Engines Ltd" in page.locator(".card-facebook").first.inner_text()
    assert "Compiler Works" in page.locator(".card-linkedin").inner_text()
    assert "Frequency Hopping" in page.locator(".card-pin").inner_text()
    assert "queued" in page.locator(".card-youtube").inner_text()
    # Pictures are not fetched: a placeholder names the URL, and no <img> points anywhere.
    assert page.locator("img.media").count() == 0
    placeholder = page.get_by_role("img", name=re.compile("mill-and-store.jpeg"))
    assert placeholder.count() == 1
    screenshot(page, "feed")


def test_a_rate_limit_armed_from_the_form_fails_the_next_push_with_429_in_the_journal(
    sandbox: SandboxHandle, page: Page
) -> None:
    page.goto(ui(sandbox, "faults"))
    page.get_by_label("Preset", exact=True).select_option("rate_limited")
    page.get_by_label("Resource", exact=True).select_option("twitter.post")
    page.get_by_role("button", name="Arm", exact=True).click()
    page.get_by_text("Armed rule 1: rate_limited").wait_for()
    faults = page
    journal = page.context.new_page()
    journal.goto(ui(sandbox, "journal"))
    wait_live(journal)
    wait_live(faults)

    answer = tweet(sandbox, "Too many")
    assert answer.status_code == 429

    row = journal.locator("#journal-rows tr").first
    row.locator(".badge", has_text="429").wait_for()
    assert "rate_limited" in row.inner_text()
    assert "twitter.post" in row.inner_text()
    # The faults page counts it live.
    faults.locator('tr[data-rule="1"] [data-counter="fired"]', has_text="1").wait_for()
    screenshot(journal, "journal")
    screenshot(faults, "faults")


class Receiver(BaseHTTPRequestHandler):
    """A video callback receiver that accepts every callback."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/callback"
    server.shutdown()
    server.server_close()


def test_finish_and_fail_buttons_end_video_jobs(
    sandbox: SandboxHandle, page: Page, receiver: str
) -> None:
    body = example("youtube.video")
    body["request"]["push"]["video"]["callback_url"] = receiver
    assert push(sandbox, "youtube/video.json", "youtube", body).ok
    assert push(sandbox, "youtube/video.json", "youtube", example("youtube.video")).ok
    page.goto(ui(sandbox, "jobs"))
    page.get_by_role("button", name="Finish job-1").click()
    page.locator('[data-job="job-1"] .state', has_text="succeeded").wait_for()
    # Its callback goes out and its attempt appears (the page polls while jobs move on).
    page.locator('[data-job="job-1"] td', has_text="200").wait_for()
    screenshot(page, "jobs")
    page.get_by_role("button", name="Fail job-2").click()
    page.locator('[data-job="job-2"] .state', has_text="failed").wait_for()
    jobs = requests.get(f"{sandbox.url}/__sandbox/jobs", timeout=10).json()["jobs"]
    assert {job["id"]: job["state"] for job in jobs} == {"job-1": "succeeded", "job-2": "failed"}
    # The feed shows the video's processing state.
    page.goto(ui(sandbox))
    assert {*page.locator(".card-youtube .state").all_inner_texts()} == {"succeeded", "failed"}


def test_an_identity_registered_from_the_form_is_listed_and_can_publish(
    sandbox: SandboxHandle, page: Page
) -> None:
    page.goto(ui(sandbox, "identities"))
    page.get_by_label("Network").select_option("pinterest")
    page.get_by_label("User name").fill("Grace Pins")
    page.get_by_label("Handle").fill("gracepins")
    page.get_by_label("Targets").select_option("boards")
    page.get_by_label("One target a line").fill("123456789012345678, Compilers")
    page.get_by_role("button", name="Register").click()
    notice = page.locator(".notice.done")
    token = re.search(r"[0-9a-f-]{36}", notice.inner_text())
    assert token is not None
    item = page.locator(".identity", has_text="Grace Pins")
    assert "Compilers" in item.inner_text()
    screenshot(page, "identities")
    known = requests.get(f"{sandbox.url}/__sandbox/identities", timeout=10).json()["identities"]
    assert any(i["token"] == token.group(0) and i["boards"] for i in known)


def test_journal_entry_shows_the_exchange_and_copies_it_as_curl(
    sandbox: SandboxHandle, page: Page
) -> None:
    assert tweet(sandbox, "Copy me").ok
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(ui(sandbox, "journal/1"))
    assert "[redacted]" in page.locator("pre").nth(1).inner_text()  # Authorization
    page.get_by_role("button", name="Copy as curl").click()
    page.get_by_text("Copied").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("curl -X POST -u ")
    assert "Copy me" in copied and "/twitter/post.json" in copied
    screenshot(page, "journal-entry")


def test_every_view_is_usable_at_360_px_and_labels_every_control(
    sandbox: SandboxHandle, page: Page
) -> None:
    publish_one_of_each(sandbox)
    page.set_viewport_size({"width": 360, "height": 740})
    for view in ["", "journal", "journal/1", "faults", "jobs", "identities"]:
        page.goto(ui(sandbox, view))
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"/{view} is {overflow} px wider than a 360 px screen"
        unlabelled = page.evaluate(
            """[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
               .filter(e => e.labels.length === 0).map(e => e.name)"""
        )
        assert unlabelled == [], f"/{view}: controls without a label: {unlabelled}"
        unnamed = page.evaluate(
            "[...document.querySelectorAll('button')].filter(b => !b.innerText.trim()).length"
        )
        assert unnamed == 0
        screenshot(page, f"{view.replace('/', '-') or 'feed'}-360px")


def test_the_keyboard_reaches_the_navigation_and_the_forms(
    sandbox: SandboxHandle, page: Page
) -> None:
    page.goto(ui(sandbox, "faults"))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "a-preset"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "a-resource"
    # Focus is visible: an outline is drawn around the focused control.
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"


def test_with_an_admin_token_the_login_cookie_opens_the_dashboard_and_the_control_plane(
    browser: Any,
) -> None:
    with run(admin_token=ADMIN_TOKEN) as handle:
        context = browser.new_context()
        page = context.new_page()
        page.goto(ui(handle, "journal"))
        page.wait_for_url(re.compile(r"/__sandbox/ui/login\?next="))
        page.get_by_label("Admin token").fill("wrong")
        page.get_by_role("button", name="Log in").click()
        page.get_by_text("That is not the admin token.").wait_for()
        page.get_by_label("Admin token").fill(ADMIN_TOKEN)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(re.compile(r"/__sandbox/ui/journal$"))
        wait_live(page)
        cookie = next(c for c in context.cookies() if c["name"] == "sandbox_ui")
        assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (
            True,
            "Strict",
            "/__sandbox/",
        )
        assert page.evaluate("document.cookie") == ""  # HttpOnly: no script reads it
        # The same browser may now read the control plane's JSON.
        status = page.evaluate("fetch('/__sandbox/journal').then(r => r.status)")
        assert status == 200
        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(re.compile(r"/__sandbox/ui/login$"))
        assert page.evaluate("fetch('/__sandbox/journal').then(r => r.status)") == 401
        context.close()


@pytest.mark.parametrize(("ci", "outcome"), [(None, "skipped"), ("true", "errors")])
def test_without_chromium_browser_tests_skip_and_say_why_but_fail_under_ci(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None, outcome: str
) -> None:
    monkeypatch.setenv("PATH", str(pytester.path))  # no chromium there
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    pytester.makeconftest("pytest_plugins = ['tests.browser']")
    pytester.makepyfile("def test_looks(page):\n    page.goto('about:blank')\n")
    result = pytester.runpytest("-rsE", "-p", "no:randomly")
    result.assert_outcomes(**{outcome: 1})
    result.stdout.fnmatch_lines(["*no chromium on the PATH*apt-get install -y chromium*"])
