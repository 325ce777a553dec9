"""Social Login in a real browser (Debian's chromium, driven by Playwright): the consent page a
person sees, and what the integration's callback receives when they click Allow or Deny
(oneall-api.md §2). The consent page's screenshot goes to build/screenshots/consent-facebook.png."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

import pytest
import requests

from sandbox.testing.handle import SandboxHandle, run
from tests.browser import screenshot
from tests.conftest import TOKENS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


class Receiver:
    """The integration's callback page: records each form POSTed to it."""

    def __init__(self) -> None:
        self.forms: list[dict[str, str]] = []
        received = self.forms

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                fields = parse_qs(self.rfile.read(length).decode())
                received.append({name: values[0] for name, values in fields.items()})
                page = (
                    b'<!DOCTYPE html><html lang="en"><head><link rel="icon" href="data:,">'
                    b"<title>Connected</title></head><body><h1>Connected</h1></body></html>"
                )
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/oneall/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with run(seed=7) as handle:
        yield handle


def consent_url(sandbox: SandboxHandle, provider: str, **query: str) -> str:
    return f"{sandbox.url}/socialize/connect/direct/{provider}/?{urlencode(query)}"


def test_allow_sends_the_connection_to_the_callback(
    page: Page, sandbox: SandboxHandle, receiver: Receiver
) -> None:
    page.goto(
        consent_url(
            sandbox, "facebook", service="social_login", callback_uri=receiver.url, nonce="n-1"
        )
    )
    assert page.get_by_role("heading", name="Facebook", exact=True).is_visible()
    new_user = page.get_by_role("radio", name="A new user")
    assert new_user.is_checked()  # the default choice
    ada = page.get_by_role("radio", name="Ada Lovelace")
    assert not ada.is_checked()
    screenshot(page, "consent-facebook")
    ada.check()
    with page.expect_navigation(url=receiver.url):
        page.get_by_role("button", name="Allow").click()
    assert page.get_by_role("heading", name="Connected").is_visible()
    [form] = receiver.forms
    assert set(form) == {
        "oa_action",
        "oa_social_login_token",
        "connection_token",
        "identity_vault_key",
    }
    assert form["oa_action"] == "social_login"
    assert form["connection_token"] == form["oa_social_login_token"]
    connection = requests.get(
        f"{sandbox.url}/connections/{form['connection_token']}.json",
        auth=sandbox.auth,
        timeout=10,
    ).json()["response"]["result"]["data"]
    assert connection["user"]["identity"]["identity_token"] == TOKENS["facebook"]
    assert connection["plugin"]["data"] == {"status": "success", "action": "login"}


def test_a_new_user_is_made_up_and_can_publish(
    page: Page, sandbox: SandboxHandle, receiver: Receiver
) -> None:
    page.goto(consent_url(sandbox, "twitter", callback_uri=receiver.url))
    with page.expect_navigation(url=receiver.url):
        page.get_by_role("button", name="Allow").click()
    [form] = receiver.forms
    connection = requests.get(
        f"{sandbox.url}/connections/{form['connection_token']}.json",
        auth=sandbox.auth,
        timeout=10,
    ).json()["response"]["result"]["data"]
    token = connection["user"]["identity"]["identity_token"]
    assert token not in TOKENS.values()
    pushed = requests.post(
        sandbox.push_url("twitter/post.json", token),
        json={"request": {"push": {"post": {"message": "Hello from a new user"}}}},
        auth=sandbox.auth,
        timeout=10,
    )
    assert pushed.status_code == 200
    sandbox.assert_pushed("twitter.post", identity=token, times=1)


def test_deny_sends_an_error_and_no_token(
    page: Page, sandbox: SandboxHandle, receiver: Receiver
) -> None:
    page.goto(consent_url(sandbox, "linkedin", callback_uri=receiver.url))
    with page.expect_navigation(url=receiver.url):
        page.get_by_role("button", name="Deny").click()
    assert receiver.forms == [{"oa_action": "social_login", "error": "access_denied"}]


def test_a_bad_callback_uri_is_an_error_page_not_a_redirect(
    browser: Browser, sandbox: SandboxHandle
) -> None:
    # A page of its own: the 400s are expected, which the page fixture would report as
    # console errors.
    context = browser.new_context()
    page = context.new_page()
    try:
        for bad in ("https://evil.example/steal", "/relative/path", "javascript:alert(1)"):
            url = consent_url(sandbox, "facebook", callback_uri=bad)
            response = page.goto(url)
            assert response is not None and response.status == 400
            assert page.url == url  # no redirect anywhere
            alert = page.get_by_role("alert")
            assert alert.is_visible() and "callback_uri cannot be used" in alert.inner_text()
        screenshot(page, "consent-refused")
    finally:
        context.close()
