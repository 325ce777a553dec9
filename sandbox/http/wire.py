"""A push's answer on the wire: status line, headers and JSON body written as one piece.

aiohttp's :class:`~aiohttp.web.Response` builds its headers in a multidict, checks and
serialises them and writes through its payload writer's state machine on every request: for
the sandbox's small, fixed-shape answers that cost about as much as the push pipeline itself.
An :class:`Answer` formats what a ``web.Response(body=..., content_type="application/json",
headers=...)`` would send (the same status line, headers, ``Date``, ``Server`` and
``Connection`` handling, tests/test_wire.py compares them) and writes it to the transport in
one call.

That call waits for the end of the event loop's turn (where :func:`_hold` allows), so the
answers of every request the turn handled leave together: a client waiting on many
connections is then woken once for all of them, not once per answer (kernel time a push,
and the A/B that keeps it, in benchmarks/README.md).

It reads and sets attributes aiohttp keeps private (``_body``, ``_headers``, ``_keep_alive``,
``_payload_writer`` ...), so it is used only with the aiohttp minor versions the test suite
verified (:data:`VERIFIED_AIOHTTP`); with any other, :func:`answer` makes the plain
``web.Response`` and the server says so once at start-up. Whether it still pays, and by how
much, is measured in benchmarks/README.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from email.utils import formatdate

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.http import SERVER_SOFTWARE, HttpVersion, HttpVersion10, HttpVersion11

# The aiohttp minor versions whose private attributes tests/test_wire.py verified for Answer;
# a test fails when the installed aiohttp is not one of them, so an upgrade is noticed.
VERIFIED_AIOHTTP = ("3.14",)
INSTALLED_AIOHTTP = ".".join(aiohttp.__version__.split(".")[:2])
FAST_ANSWERS = INSTALLED_AIOHTTP in VERIFIED_AIOHTTP

log = logging.getLogger("sandbox")

_SERVER = f"\r\nServer: {SERVER_SOFTWARE}".encode()
_JSON = {"Content-Type": "application/json"}
_JSON_LINE = b"\r\nContent-Type: application/json"
# The end of the head by (keep-alive, HTTP version): what aiohttp says of the connection.
_CONNECTION = {
    (True, HttpVersion10): b"\r\nConnection: keep-alive\r\n\r\n",
    (False, HttpVersion11): b"\r\nConnection: close\r\n\r\n",
}
_STATUS_LINES: dict[tuple[HttpVersion, int, str], bytes] = {}  # by version, status, reason


# Answers held until the end of their event loop's turn, by loop (a sandbox may serve from a
# thread of its own while a test's loop runs another).
_held: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Transport, bytes]]] = {}


def _hold(request: web.BaseRequest) -> bool:
    """Whether this answer may wait for the end of the turn: only when nothing can close its
    connection or write to it before then. aiohttp closes a connection at once after an answer
    that ends keep-alive, or when its body was not read to the end, or while the server stops;
    and answers the next request already received on it (pipelining) without waiting. Anything
    else that closes or writes (a new request, a shutdown) comes by a later callback of the
    loop, after the held answers are written."""
    protocol = request.protocol
    return (
        not (protocol._messages or protocol._close or protocol._force_close)
        and request.content.is_eof()
    )


def _write_held(loop: asyncio.AbstractEventLoop) -> None:
    """The end of the turn: the held answers go out, in the order they were made."""
    for transport, data in _held.pop(loop, ()):
        if not transport.is_closing():  # the client hung up meanwhile: nobody to answer
            transport.write(data)


class _Date:
    """The ``Date`` header, formatted once a second."""

    second = -1
    line = b""

    @classmethod
    def now(cls) -> bytes:
        second = int(time.time())
        if second != cls.second:
            cls.line = f"\r\nDate: {formatdate(second, usegmt=True)}".encode()
            cls.second = second
        return cls.line


class Answer(web.Response):
    """A JSON answer written in one piece. To everything else (aiohttp after the write, the
    middleware, tests) it is the ``web.Response`` it replaces: status, headers (with its
    Content-Type), body, keep-alive, body length. Unlike it, it sends no ``on_response_prepare``
    signal (the sandbox's application registers none)."""

    def __init__(
        self, body: bytes, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        # web.Response's own __init__ would wrap the body in its payload machinery for nothing.
        web.StreamResponse.__init__(
            self, status=status, headers=_JSON if not headers else {**_JSON, **headers}
        )
        self._body = body
        self._compressed_body = None

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        if self._eof_sent or self._payload_writer is not None:
            return self._payload_writer
        keep_alive = self._keep_alive
        if keep_alive is None:
            keep_alive = self._keep_alive = request.keep_alive
        version = request.version
        status = (version, self._status, self._reason)
        status_line = _STATUS_LINES.get(status)
        if status_line is None:
            status_line = _STATUS_LINES.setdefault(
                status,
                f"HTTP/{version.major}.{version.minor} {self._status} {self._reason}".encode(),
            )
        body = self._body
        assert isinstance(body, bytes), "an Answer's body is bytes"
        headers = self._headers
        head = b"".join(
            (
                status_line,
                _JSON_LINE
                if len(headers) == 1 and headers.get("Content-Type") == "application/json"
                else b"".join(f"\r\n{name}: {value}".encode() for name, value in headers.items()),
                b"\r\nContent-Length: %d" % len(body),
                _Date.now(),
                _SERVER,
                _CONNECTION.get((keep_alive, version), b"\r\n\r\n"),
                # a HEAD answer says the length of a body it does not send
                body if request.method != "HEAD" else b"",
            )
        )
        transport = request.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("the client closed the connection before the answer")
        if keep_alive and _hold(request):
            loop = request.task.get_loop()
            held = _held.get(loop)
            if held is None:
                held = _held[loop] = []
                loop.call_soon(_write_held, loop)
            held.append((transport, head))
        else:
            transport.write(head)
        self._body_length = len(body)
        writer = self._payload_writer = request.writer
        await writer.drain()  # waits only while the client reads slower than it is answered
        return writer

    async def write_eof(self, data: bytes = b"") -> None:
        self._eof_sent = True
        self._payload_writer = None


def answer(
    body: bytes, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """The JSON answer: an :class:`Answer` where this aiohttp is a verified one, else the plain
    ``web.Response`` it stands for."""
    if FAST_ANSWERS:
        return Answer(body, status, headers)
    return web.Response(
        body=body, status=status, headers=_JSON if not headers else {**_JSON, **headers}
    )


def announce_answer_path() -> None:
    """Said once at start-up where the fast path is off, so a slower sandbox is explained."""
    if not FAST_ANSWERS:
        log.warning(
            "aiohttp %s is not a version the sandbox's fast answers were verified with (%s): "
            "answers go through aiohttp's web.Response, correct but slower",
            aiohttp.__version__,
            ", ".join(VERIFIED_AIOHTTP),
        )
