"""An :class:`Answer` must put on the wire what the ``web.Response`` it replaces would: the
same status line, headers, body and connection handling, for every kind of client."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.streams import EMPTY_PAYLOAD
from aiohttp.test_utils import make_mocked_request

from sandbox.http.wire import Answer

BODY = b'{"response":{"request":{"status":{"code":201}}}}'
EXTRA = {"Deprecation": "@1533081600", "X-Sandbox-Job": "job-1"}


def answered(request: web.Request) -> web.Response:
    status = int(request.query.get("status", "200"))
    headers = EXTRA if "extra" in request.query else None
    if request.path == "/plain":
        response = web.Response(
            body=BODY, status=status, content_type="application/json", headers=headers
        )
    else:
        response = Answer(BODY, status, headers)
    if "close" in request.query:
        response.force_close()
    return response


async def handler(request: web.Request) -> web.Response:
    return answered(request)


@pytest.fixture
async def port() -> AsyncIterator[int]:
    app = web.Application()
    app.router.add_route("*", "/{kind}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    assert runner.addresses
    yield runner.addresses[0][1]
    await runner.cleanup()


def content_length(head: bytes) -> int:
    return next(
        int(line.split(b": ")[1]) for line in head.split(b"\r\n") if line.startswith(b"Content-L")
    )


async def exchange(port: int, request: bytes) -> tuple[bytes, set[bytes], bytes, bytes, bool]:
    """Status line, headers but Date, body, anything sent after it, and whether the server
    closed the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status, *lines = head.removesuffix(b"\r\n\r\n").split(b"\r\n")
    headers = {line for line in lines if not line.startswith(b"Date: ")}
    body = b"" if request.startswith(b"HEAD") else await reader.readexactly(content_length(head))
    after, closed = b"", False
    try:
        while chunk := await asyncio.wait_for(reader.read(1024), 0.1):
            after += chunk
        closed = True
    except TimeoutError:
        pass
    writer.close()
    await writer.wait_closed()
    return status, headers, body, after, closed


@pytest.mark.parametrize(
    ("request_line", "headers", "query"),
    [
        ("POST /{} HTTP/1.1", "", ""),
        ("POST /{} HTTP/1.1", "Connection: close\r\n", ""),
        ("POST /{} HTTP/1.0", "", ""),
        ("POST /{} HTTP/1.0", "Connection: keep-alive\r\n", ""),
        ("HEAD /{} HTTP/1.1", "", ""),
        ("POST /{} HTTP/1.1", "", "?status=429&extra"),
        ("POST /{} HTTP/1.1", "", "?status=400&close"),
        ("POST /{} HTTP/1.0", "Connection: keep-alive\r\n", "?status=503&close"),
    ],
    ids=[
        "1.1",
        "1.1-close",
        "1.0",
        "1.0-keep-alive",
        "head",
        "headers",
        "forced-close",
        "1.0-forced-close",
    ],
)
async def test_an_answer_is_sent_as_a_response_would_be(
    port: int, request_line: str, headers: str, query: str
) -> None:
    def raw(kind: str) -> bytes:
        return (
            f"{request_line.format(kind + query)}\r\nHost: x\r\n{headers}"
            "Content-Length: 2\r\n\r\n{}"
        ).encode()

    plain = await exchange(port, raw("plain"))
    answer = await exchange(port, raw("answer"))
    assert answer == plain
    assert answer[2] == (b"" if request_line.startswith("HEAD") else BODY)


async def test_keep_alive_connection_carries_answers_one_after_another(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = b"POST /answer HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    writer.write(request * 3)  # pipelined
    for _ in range(3):
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert await reader.readexactly(len(BODY)) == BODY
    writer.close()
    await writer.wait_closed()


def test_an_answer_reads_as_the_json_response_it_replaces() -> None:
    answer = Answer(BODY, 429, {"Retry-After": "5"})
    assert (answer.status, answer.reason, answer.body) == (429, "Too Many Requests", BODY)
    assert answer.content_type == "application/json"
    assert answer.headers["Retry-After"] == "5"


async def read_answer(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """The status line and body of the next answer on the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0], await reader.readexactly(content_length(head))


async def test_pipelined_requests_are_answered_in_order_whoever_answers(port: int) -> None:
    """An answer held to the end of the loop's turn must not be overtaken by the answer to a
    request behind it on the same connection, written by aiohttp at once (where aiohttp starts
    handlers eagerly, on Python 3.12 and later, the next one runs before the turn ends)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /answer?status=201 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
        b"POST /plain?status=202 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
        b"POST /answer?status=203 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    )
    statuses = [(await read_answer(reader))[0] for _ in range(3)]
    assert statuses == [
        b"HTTP/1.1 201 Created",
        b"HTTP/1.1 202 Accepted",
        b"HTTP/1.1 203 Non-Authoritative Information",
    ]
    writer.close()
    await writer.wait_closed()


async def test_answers_of_one_turn_are_written_together_at_its_end() -> None:
    """Under keep-alive an answer waits for the end of the loop's turn, then goes out with the
    others made in that turn, in the order they were made."""
    written: list[bytes] = []

    class Transport:
        def is_closing(self) -> bool:
            return False

        def write(self, data: bytes) -> None:
            written.append(data)

        def get_extra_info(self, name: str) -> None:
            return None

    def request(index: int) -> web.BaseRequest:
        made = make_mocked_request(
            "POST", f"/{index}", headers={"Host": "x"}, transport=Transport()
        )
        made.protocol._messages = deque()  # nothing else received on the connection
        made.protocol._close = made.protocol._force_close = False
        made._payload = EMPTY_PAYLOAD
        made._task = asyncio.current_task()  # type: ignore[assignment]
        return made

    first, second = Answer(b'{"n":1}'), Answer(b'{"n":2}')
    await first.prepare(request(1))
    await second.prepare(request(2))
    assert written == []
    await asyncio.sleep(0)
    assert [data.rsplit(b"\r\n\r\n", 1)[1] for data in written] == [b'{"n":1}', b'{"n":2}']
