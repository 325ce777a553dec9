"""What a fired fault rule does to the HTTP exchange: wait, refuse, break or dribble.

Every injected wait ends early when the server stops (``Shutdown``) or the client hangs up
(checked every ``POLL_SECONDS``), so a hang or a delay never outlives its connection.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable, Mapping

from aiohttp import web

from sandbox.api import envelope
from sandbox.api.errors import ProviderError
from sandbox.api.push import PROVIDER_NAMES
from sandbox.model.faults import Fault
from sandbox.model.sandbox import Shutdown

POLL_SECONDS = 0.05
HTML_PAGES = {
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


def connected(request: web.Request) -> bool:
    transport = request.transport
    return transport is not None and not transport.is_closing()


async def wait(request: web.Request, shutdown: Shutdown, seconds: float) -> bool:
    """Wait ``seconds``; False at once when the server stops or the client hangs up."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while connected(request):
        left = deadline - loop.time()
        if left <= 0:
            return not shutdown.event.is_set()
        if not await shutdown.sleep(min(left, POLL_SECONDS)):
            return False
    return False


def info_of(fault: Fault, provider: str, default: str, noun: str = "request") -> str:
    """The rule's sentence: ``{provider}`` is the network's name, ``{object}`` what the
    resource publishes (post, picture, video ...)."""
    return _filled(fault.info or default, provider, noun)


def detail_of(fault: Fault, provider: str, noun: str) -> str | None:
    return None if fault.detail is None else _filled(fault.detail, provider, noun)


def _filled(sentence: str, provider: str, noun: str) -> str:
    name = PROVIDER_NAMES.get(provider, provider)
    return sentence.replace("{provider}", name).replace("{object}", noun)


def reset_connection(request: web.Request) -> web.Response:
    """Close the TCP connection with no response; aiohttp writes nothing to a closed one."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=200)


async def before_answer(
    fault: Fault, request: web.Request, provider: str, shutdown: Shutdown, noun: str = "request"
) -> web.StreamResponse | None:
    """Apply the rule up to the answer: a response (or raised refusal) that replaces the normal
    one, or None to let the pipeline answer normally (delay, slow body)."""
    delay = fault.delay_ms + (random.uniform(0, fault.jitter_ms) if fault.jitter_ms else 0)
    if delay:
        await wait(request, shutdown, delay / 1000)
    if not connected(request):  # the client gave up while we waited: nobody to answer
        return reset_connection(request)
    effect = fault.effect
    if effect == "error" or (effect == "delay" and fault.status is not None):
        assert fault.status is not None
        raise ProviderError(
            info_of(fault, provider, "Injected failure", noun),
            status=fault.status,
            headers=fault.headers,
            detail=detail_of(fault, provider, noun),
        )
    if effect == "hang":
        await wait(request, shutdown, fault.max_ms / 1000)
        if fault.status is None or not connected(request):
            return reset_connection(request)
        raise ProviderError(
            info_of(fault, provider, "The request timed out"),
            status=fault.status,
            headers=fault.headers,
        )
    if effect == "reset":
        return reset_connection(request)
    if effect == "empty":
        return web.Response(status=200, body=b"", headers=fault.headers)
    if effect == "malformed":
        whole = envelope.success(request.path, {"provider": provider})
        return web.Response(
            status=200,
            body=whole[: len(whole) // 2],
            content_type="application/json",
            headers=fault.headers,
        )
    if effect == "html":
        status = fault.status or 502
        title = f"{status} {HTML_PAGES[status]}"
        page = (
            f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
            f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
            "</body>\r\n</html>\r\n"
        )
        return web.Response(
            status=status, text=page, content_type="text/html", headers=fault.headers
        )
    return None


async def dribble(
    request: web.Request,
    body: bytes,
    fault: Fault,
    headers: Mapping[str, str],
    shutdown: Shutdown,
    *,
    extra: Iterable[tuple[str, str]] = (),
) -> web.StreamResponse:
    """The normal answer, in ``chunks`` pieces spread over ``duration_ms`` (with its length);
    ``extra``: headers a name may repeat in (the sandbox's warnings)."""
    response = web.StreamResponse(status=200, headers={**headers, **fault.headers})
    for name, value in extra:
        response.headers.add(name, value)
    response.content_type = "application/json"
    response.content_length = len(body)
    await response.prepare(request)
    step = max(1, -(-len(body) // max(1, min(fault.chunks, len(body)))))
    starts = range(0, len(body), step)
    pause = fault.duration_ms / 1000 / max(1, len(starts) - 1)
    try:
        for start in starts:
            if start:
                await wait(request, shutdown, pause)
                if not connected(request):  # the client gave up: stop dribbling
                    return response
            await response.write(body[start : start + step])
        await response.write_eof()
    except ConnectionError:  # the client hung up mid-write
        pass
    return response
