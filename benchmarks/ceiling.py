"""The ceiling: the least an aiohttp server can do to answer a OneAll push or any call around it.

It reads the body of any ``GET``, ``POST``, ``PUT`` or ``DELETE`` (the methods of the sandbox's
catalogs), on any path, and answers one fixed success envelope, prebuilt as bytes. No routing
table, no authentication, no validation, no logging: whatever the sandbox spends beyond this is
the sandbox's own cost. It is served exactly as the sandbox serves itself (the
same ``web.AppRunner`` without access log, the default asyncio loop) and keeps the sandbox's
command-line contract, so the benchmark runner starts and reads both the same way::

    python benchmarks/ceiling.py --port 0 -q
    Sandbox listening on http://127.0.0.1:PORT

(the line is the sandbox's, word for word, so anything that parses one parses the other).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from collections.abc import Sequence

from aiohttp import web

TWEET_PATH = "/push/identities/16b2eacb-c86e-4fdb-b482-2836b59ee40e/twitter/post.json"
# A real answer of the sandbox to a tweet, as bytes once: the ceiling's whole response work.
ENVELOPE: bytes = json.dumps(
    {
        "response": {
            "request": {
                "date": "Fri, 27 Nov 2026 14:58:03 +0000",
                "resource": TWEET_PATH,
                "status": {
                    "flag": "success",
                    "code": 200,
                    "info": "Your request has been processed successfully",
                },
            },
            "result": {
                "data": {
                    "provider": "twitter",
                    "object": "post",
                    "post_id": "2014398391209693184",
                    "post_location": "https://twitter.com/alanturing/status/2014398391209693184",
                }
            },
        }
    },
    separators=(",", ":"),
).encode()


async def answer(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(body=ENVELOPE, content_type="application/json")


def create_app() -> web.Application:
    """One resource for every path, one route per method: as cheap for a push as before."""
    app = web.Application()
    resource = app.router.add_resource("/{tail:.*}")
    for method in ("POST", "GET", "PUT", "DELETE"):
        resource.add_route(method, answer)
    return app


async def serve(host: str, port: int) -> None:
    runner = web.AppRunner(create_app(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_host, bound_port = runner.addresses[0][:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    print(f"Sandbox listening on http://{shown}:{bound_port}", flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    try:
        await stopped.wait()
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ceiling", description="A bare aiohttp server answering one fixed OneAll envelope."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="accepted for parity; it never logs"
    )
    options = parser.parse_args(argv)
    asyncio.run(serve(options.host, options.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
