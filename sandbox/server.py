"""Running the application on a socket: start, announce, stop cleanly."""

from __future__ import annotations

import asyncio
import errno
import signal
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import web

from sandbox.accesslog import AccessLines
from sandbox.app import create_app, direct_pushes
from sandbox.catalog import PROVIDERS
from sandbox.config import Settings
from sandbox.errors import SettingsError
from sandbox.state import SANDBOX, Sandbox

EXAMPLE_TWEET = '{"request": {"push": {"post": {"message": "Hello from the sandbox"}}}}'


@dataclass(slots=True)
class Running:
    """A started sandbox: its URL and what is needed to stop it."""

    runner: web.AppRunner
    url: str
    sandbox: Sandbox

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start(settings: Settings, app: web.Application | None = None) -> Running:
    """Bind and serve; SettingsError with one clear sentence when the address is unusable.

    Stopping gives requests in flight ``settings.grace`` seconds to finish, then cancels them.
    """
    if app is None:
        app = create_app(settings)
    runner = web.AppRunner(
        app, access_log=None, handle_signals=False, shutdown_timeout=settings.grace
    )
    await runner.setup()
    assert runner.server is not None
    runner.server.request_handler = direct_pushes(app, runner.server.request_handler)
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await site.start()
    except OSError as error:
        await runner.cleanup()
        reason = (
            "the port is already in use (choose another with --port, or --port 0 for a free one)"
            if error.errno == errno.EADDRINUSE
            else error.strerror or str(error)
        )
        raise SettingsError(f"cannot listen on {settings.host}:{settings.port}: {reason}") from None
    host, port = runner.addresses[0][:2]
    shown_host = f"[{host}]" if ":" in host else host
    return Running(runner, f"http://{shown_host}:{port}", app[SANDBOX])


def banner(running: Running) -> str:
    """What a person needs to call the sandbox at once: keys, tokens, one curl command."""
    sandbox, url = running.sandbox, running.url
    settings = sandbox.settings
    lines = [
        f"  site keys:  public {settings.public_key}  private {settings.private_key}",
        "  identities:",
    ]
    for provider in PROVIDERS:
        identity = sandbox.identities.first_of(provider)
        if identity is not None:
            lines.append(f"    {provider:<10} {identity.token}")
    twitter = sandbox.identities.first_of("twitter")
    if twitter is not None:
        lines += [
            "  try:",
            f"    curl -u {settings.public_key}:{settings.private_key} \\",
            f"      -d '{EXAMPLE_TWEET}' \\",
            f"      {url}/push/identities/{twitter.token}/twitter/post.json",
        ]
    lines.append(f"  control plane: {url}/__sandbox/health   (Ctrl-C to stop)")
    return "\n".join(lines) + "\n"


async def _flush(lines: AccessLines) -> None:
    lines.flush()


async def serve(settings: Settings, stop_signals: Iterable[signal.Signals] = ()) -> None:
    """Serve until one of ``stop_signals`` arrives, then stop accepting and finish."""
    # Handlers first: a signal sent as soon as the ready line appears must stop, not kill.
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in stop_signals:
        loop.add_signal_handler(signum, stopped.set)
    app = create_app(settings)
    lines = app[SANDBOX].access_lines = AccessLines(sys.stderr)
    app.on_cleanup.append(lambda _: _flush(lines))
    running = await start(settings, app)
    print(f"Sandbox listening on {running.url}", flush=True)
    if not settings.quiet:
        sys.stdout.write(banner(running))
        sys.stdout.flush()
    try:
        await stopped.wait()
    finally:
        await running.stop()
