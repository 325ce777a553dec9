"""Worked example (docs/api/around-the-push.md): a tiny aiohttp web app wired to the sandbox as
it would be to OneAll. A person logs in through the consent page in a real browser, the app
reads the connection, lists the person's Facebook pages with the Pull API, publishes to one,
survives an expired token by synchronizing the identity, and the test asserts with
``assert_pushed``. All offline."""

from __future__ import annotations

import asyncio
import base64
import html
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web

from sandbox.testing.handle import SandboxHandle, run

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

# --- the integration: what an application has, with OneAll's base URL pointed at the sandbox --

ONEALL = web.AppKey("oneall", dict)  # base_url, public_key, private_key
SESSION = web.AppKey("session", dict)  # one visitor's session, enough for an example


async def oneall(app: web.Application, method: str, path: str, **options: Any) -> Any:
    """One call to the OneAll API; the answer's envelope as JSON."""
    config = app[ONEALL]
    keys = base64.b64encode(f"{config['public_key']}:{config['private_key']}".encode()).decode()
    async with aiohttp.ClientSession(headers={"Authorization": f"Basic {keys}"}) as client:
        url = config["base_url"] + path
        async with client.request(method, url, **options) as response:
            return await response.json()


async def home(request: web.Request) -> web.Response:
    config = request.app[ONEALL]
    callback = f"{request.url.origin()}/oneall/callback"
    query = urlencode({"service": "social_login", "callback_uri": callback})
    login = f"{config['base_url']}/socialize/connect/direct/facebook/?{query}"
    return page(f'<a href="{html.escape(login)}">Log in with Facebook</a>')


async def callback(request: web.Request) -> web.Response:
    """OneAll POSTs the connection token here; the app reads the connection, then the pages."""
    form = await request.post()
    if "connection_token" not in form:
        return page("<p role='alert'>Login cancelled</p>")
    answer = await oneall(request.app, "GET", f"/connections/{form['connection_token']}.json")
    identity = answer["response"]["result"]["data"]["user"]["identity"]
    token = identity["identity_token"]
    request.app[SESSION].update(identity_token=token, name=identity["displayName"])
    pulled = await oneall(request.app, "GET", f"/pull/identities/{token}/facebook/pages.json")
    pages = pulled["response"]["result"]["data"]["pages"]["entries"]
    buttons = "".join(
        f'<form method="post" action="/publish"><input type="hidden" name="page" '
        f'value="{p["page_id"]}"><button>Publish to {html.escape(p["name"])}</button></form>'
        for p in pages
    )
    return page(f"<h1>Hello {html.escape(identity['displayName'])}</h1>{buttons}")


async def publish(request: web.Request) -> web.Response:
    """Publish to the chosen page; on a 403 (an expired network token), synchronize the
    identity with a forced token update and try once more."""
    form = await request.post()
    token = request.app[SESSION]["identity_token"]
    body = {"request": {"push": {"page": {"id": form["page"], "message": "Launch day!"}}}}
    path = f"/push/identities/{token}/facebook/page/post.json"
    answer = await oneall(request.app, "POST", path, json=body)
    if answer["response"]["request"]["status"]["code"] == 403:
        sync = {"request": {"synchronize": {"force_token_update": True}}}
        await oneall(request.app, "PUT", f"/identities/{token}/synchronize.json", json=sync)
        answer = await oneall(request.app, "POST", path, json=body)
    location = answer["response"]["result"]["data"]["post_location"]
    return page(f'<p role="status">Published: <a href="{location}">{location}</a></p>')


def page(body: str) -> web.Response:
    text = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<link rel="icon" href="data:,"><title>My app</title></head><body>{body}</body></html>'
    )
    return web.Response(text=text, content_type="text/html")


def make_app(base_url: str, public_key: str, private_key: str) -> web.Application:
    app = web.Application()
    app[ONEALL] = {"base_url": base_url, "public_key": public_key, "private_key": private_key}
    app[SESSION] = {}
    app.router.add_get("/", home)
    app.router.add_post("/oneall/callback", callback)
    app.router.add_post("/publish", publish)
    return app


# --- the test -----------------------------------------------------------------------------


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with run(seed=7) as handle:
        yield handle


@pytest.fixture
def app_url(sandbox: SandboxHandle) -> Iterator[str]:
    """The integration served from a thread of its own, as a real app would be (the test's
    thread runs Playwright's loop)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner = web.AppRunner(make_app(sandbox.url, sandbox.public_key, sandbox.private_key))

    async def start() -> int:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port: int = runner.addresses[0][1]
        return port

    port = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    yield f"http://127.0.0.1:{port}"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def test_log_in_list_pages_publish_and_survive_an_expired_token(
    page: Page, sandbox: SandboxHandle, app_url: str
) -> None:
    page.goto(app_url)
    page.get_by_role("link", name="Log in with Facebook").click()
    page.get_by_role("radio", name="Ada Lovelace").check()  # on the consent page
    page.get_by_role("button", name="Allow").click()
    page.get_by_role("heading", name="Hello Ada Lovelace").wait_for()

    token = "5f2ff82c-882f-43f2-b1c4-28193402decf"  # Ada's Facebook identity
    sandbox.expire_token(token)  # her Facebook token expires while she looks at the page
    page.get_by_role("button", name="Publish to Difference Engine Fans").click()
    assert "Published: https://www.facebook.com/" in page.get_by_role("status").inner_text()

    refused, published = sandbox.assert_pushed("facebook.page.post", identity=token, times=2)
    assert (refused.status, published.status) == (403, 200)
    assert published.body == {
        "request": {"push": {"page": {"id": "112233445566778", "message": "Launch day!"}}}
    }
    [sync] = [call for call in sandbox.journal if call.resource == "identities.synchronize"]
    assert sync.status == 200
