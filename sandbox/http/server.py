"""Running the application on a socket: start, announce, stop cleanly."""

from __future__ import annotations

import asyncio
import ctypes
import errno
import gc
import logging
import signal
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from sandbox.api.errors import SettingsError
from sandbox.api.push import PROVIDERS
from sandbox.config import DEFAULT_PRIVATE_KEY, Settings
from sandbox.http.accesslog import AccessLines
from sandbox.http.app import create_app, direct_pushes
from sandbox.http.appkeys import ACCESS_LINES, SANDBOX
from sandbox.http.tls import prepare as prepare_tls
from sandbox.http.wire import announce_answer_path
from sandbox.model.sandbox import Sandbox

EXAMPLE_TWEET = '{"request": {"push": {"post": {"message": "Hello from the sandbox"}}}}'


@dataclass(slots=True)
class Running:
    """A started sandbox: its URL and what is needed to stop it."""

    runner: web.AppRunner
    url: str
    sandbox: Sandbox
    ca_path: Path | None = None  # with HTTPS, the CA clients must trust (None: one's own cert)

    async def stop(self) -> None:
        server = self.runner.server
        transports = [handler.transport for handler in server.connections] if server else []
        await self.runner.cleanup()
        if self.url.startswith("https"):
            # Closing a TLS connection waits (up to 30 s) for the client's close_notify, which
            # an idle keep-alive client never sends: cut what is left, or the caller closing
            # the loop leaves those sockets open.
            for transport in transports:
                if transport is not None:
                    transport.abort()


async def start(settings: Settings, app: web.Application | None = None) -> Running:
    """Bind and serve; SettingsError with one clear sentence when the address is unusable.

    Stopping gives requests in flight ``settings.grace`` seconds to finish, then cancels them.
    """
    tls = prepare_tls(settings) if settings.serves_tls else None  # before binding anything
    if app is None:
        app = create_app(settings)
    runner = web.AppRunner(
        app,
        access_log=None,
        handle_signals=False,
        shutdown_timeout=settings.grace,
        keepalive_timeout=settings.idle_timeout,
    )
    await runner.setup()
    assert runner.server is not None
    runner.server.request_handler = direct_pushes(app, runner.server.request_handler)
    site = web.TCPSite(
        runner, settings.host, settings.port, ssl_context=None if tls is None else tls.context
    )
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
    scheme = "http" if tls is None else "https"
    ca_path = None if tls is None else tls.ca_path
    return Running(runner, f"{scheme}://{shown_host}:{port}", app[SANDBOX], ca_path)


def banner(running: Running) -> str:
    """What a person needs to call the sandbox at once: keys, tokens, one curl command."""
    sandbox, url = running.sandbox, running.url
    settings = sandbox.settings
    # The private key is shown only when it is the built-in one the README publishes.
    private = (
        settings.private_key
        if settings.private_key == DEFAULT_PRIVATE_KEY
        else "(the one you gave; not shown)"
    )
    shown_key = settings.private_key if private == settings.private_key else "<private key>"
    lines = [
        f"  site keys:  public {settings.public_key}  private {private}",
        "  identities:",
    ]
    for provider in PROVIDERS:
        identity = sandbox.identities.first_of(provider)
        if identity is not None:
            lines.append(f"    {provider:<10} {identity.token}")
    if running.ca_path is not None:
        lines.append(f"  HTTPS, signed by the CA in {running.ca_path} (trust it once)")
    cacert = f" --cacert {running.ca_path}" if running.ca_path is not None else ""
    twitter = sandbox.identities.first_of("twitter")
    if twitter is not None:
        lines += [
            "  try:",
            f"    curl{cacert} -u {settings.public_key}:{shown_key} \\",
            f"      -d '{EXAMPLE_TWEET}' \\",
            f"      {url}/push/identities/{twitter.token}/twitter/post.json",
        ]
    if settings.ui:
        lines.append(f"  dashboard:  {url}/__sandbox/ui/")
    lines.append(f"  control plane: {url}/__sandbox/health   (Ctrl-C to stop)")
    return "\n".join(lines) + "\n"


# glibc's mallopt parameters and the values the command sets.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 1 << 20  # above asyncio's 256 KiB read buffer
_TRIM_THRESHOLD = 8 << 20


def tune_allocator() -> bool:
    """Keep asyncio's 256 KiB read buffer off ``mmap``: True where that was done (glibc).

    Every socket read allocates that buffer, then shrinks it to what arrived. glibc serves a
    block that large with ``mmap`` until a freed one raises its threshold, and the shrunk
    buffer never does: each request then costs an ``mmap``, an ``mremap``, a ``munmap`` and
    a page fault, a third of a push's time on a virtual machine. A fixed threshold above it
    (and a trim threshold above that, so the heap is not shrunk and grown again each time)
    serves it from the heap. Only the command does this: the plugin never tunes the
    allocator of the process that imports it.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc, or no C library to speak of
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(
        mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    )


class OneLineRefusals(logging.Filter):
    """aiohttp logs a request it cannot parse (a bad head, a body it cannot decode while
    draining it) with a full traceback at ERROR. Careless or hostile clients are what the
    sandbox is for, and they are answered (aiohttp's plain 400, or the envelope): such a
    record becomes one WARNING line saying why, without the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError | web.RequestPayloadError):
            reason = " ".join(str(getattr(error, "message", "") or error).split())
            record.msg, record.args = "refused a malformed request: %s", (reason[:200],)
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_aiohttp_refusals() -> None:
    """Install :class:`OneLineRefusals` on aiohttp's server logger, once."""
    logger = logging.getLogger("aiohttp.server")
    if not any(isinstance(item, OneLineRefusals) for item in logger.filters):
        logger.addFilter(OneLineRefusals())


# Errors of accept() that mean the process or machine ran out of something: asyncio logs
# each with a traceback and tries again a second later, for as long as it lasts.
_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
RESOURCE_TROUBLE_SECONDS = 10.0


def _quiet_about_resources(sandbox: Sandbox) -> Callable[[Any, dict[str, Any]], None]:
    """The loop's exception handler: running out of file descriptors (or memory for sockets)
    is one line in the log and a trouble in the health report, not a traceback a second;
    everything else goes to asyncio's default handler."""

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if isinstance(error, OSError) and error.errno in _OUT_OF_RESOURCES:
            sandbox.troubles.report(
                "accept",
                f"cannot accept connections: {error.strerror or error} (new connections wait "
                "until some close; raise the limit with ulimit -n)",
                lasting=RESOURCE_TROUBLE_SECONDS,
            )
            return
        loop.default_exception_handler(context)

    return handle


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
    announce_answer_path()
    loop.set_exception_handler(_quiet_about_resources(app[SANDBOX]))
    quiet_aiohttp_refusals()
    lines = app[ACCESS_LINES] = AccessLines(sys.stderr)
    app.on_cleanup.append(lambda _: _flush(lines))
    running = await start(settings, app)
    # What start-up made (schemas, checks, identities, modules) lives as long as the process:
    # kept out of the collector's way, a full collection walks only what requests made. A push
    # makes dozens of containers that die with it: collecting the youngest every 10,000
    # allocations instead of 700 lets them die first, and promotes far fewer to be walked
    # again (10 s under wrk: 10 young collections instead of 190, 75 ms of GC instead of 250).
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    print(f"Sandbox listening on {running.url}", flush=True)
    if not settings.quiet:
        sys.stdout.write(banner(running))
        sys.stdout.flush()
    try:
        await stopped.wait()
    finally:
        await running.stop()
