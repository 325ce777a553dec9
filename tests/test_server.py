"""Stopping a started sandbox: requests in flight finish within --grace, waits are cut short."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from sandbox.config import Settings
from sandbox.http.app import create_app
from sandbox.http.appkeys import SANDBOX
from sandbox.http.server import Running, start

Handler = Callable[[web.Request], Awaitable[web.Response]]


async def stop_during_a_request(grace: float, handler: Handler) -> tuple[float, str | Exception]:
    """Start with an extra POST /slow, stop while it runs: (seconds the stop took, its answer)."""
    entered = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        entered.set()
        return await handler(request)

    settings = Settings(port=0, grace=grace)
    app = create_app(settings)
    app.router.add_post("/slow", slow)
    running: Running = await start(settings, app)

    async def call() -> str | Exception:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.post(running.url + "/slow") as response:
                    return f"{response.status} {await response.text()}"
            except aiohttp.ClientError as error:
                return error

    answer = asyncio.create_task(call())
    await entered.wait()
    started = time.monotonic()
    await running.stop()
    return time.monotonic() - started, await answer


async def test_a_request_in_flight_finishes_before_the_stop() -> None:
    async def short_work(request: web.Request) -> web.Response:
        await asyncio.sleep(0.3)
        return web.Response(text="done")

    seconds, answer = await stop_during_a_request(5.0, short_work)
    assert answer == "200 done"
    assert 0.2 < seconds < 2.0


async def test_a_request_still_running_after_the_grace_period_is_cut() -> None:
    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(60)
        return web.Response(text="too late")

    seconds, answer = await stop_during_a_request(0.2, hang)
    assert isinstance(answer, aiohttp.ServerDisconnectedError)
    assert seconds < 2.0


@pytest.mark.parametrize("grace", [5.0, 60.0])
async def test_a_wait_on_stopping_ends_as_soon_as_the_stop_begins(grace: float) -> None:
    async def injected_delay(request: web.Request) -> web.Response:
        if await request.app[SANDBOX].shutdown.sleep(60):
            return web.Response(text="waited the whole delay")
        return web.Response(text="cut short")

    seconds, answer = await stop_during_a_request(grace, injected_delay)
    assert answer == "200 cut short"
    assert seconds < 1.0
