"""An :class:`Answer` must put on the wire what the ``web.Response`` it replaces would: the
same status line, headers, body and connection handling, for every kind of client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from sandbox.api.push import BY_NAME
from sandbox.config import Settings
from sandbox.http import wire
from sandbox.http.server import start
from sandbox.http.wire import Answer
from tests.conftest import AUTH, example, push_path

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
    """Answers written in one piece and aiohttp's own keep the order of the requests on one
    connection (where aiohttp starts handlers eagerly, on Python 3.12 and later, too)."""
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


def test_the_installed_aiohttp_is_one_the_fast_answers_were_verified_with() -> None:
    """Fails on an aiohttp upgrade: check Answer against the new version's Response (this
    file's tests), then add its minor version to VERIFIED_AIOHTTP."""
    assert wire.INSTALLED_AIOHTTP in wire.VERIFIED_AIOHTTP, (
        f"aiohttp {aiohttp.__version__} is not verified for sandbox.http.wire.Answer: "
        "the sandbox answers through web.Response (slower) until it is"
    )


async def test_a_served_push_is_answered_by_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a real connection to a started sandbox, pushes and refusals go out as Answers."""
    prepared: list[int] = []
    real_prepare = Answer.prepare

    async def counting(self: Answer, request: web.BaseRequest) -> object:
        prepared.append(self.status)
        return await real_prepare(self, request)

    monkeypatch.setattr(Answer, "prepare", counting)
    running = await start(Settings(port=0))
    try:
        async with aiohttp.ClientSession(headers={"Authorization": AUTH}) as session:
            path = push_path(BY_NAME["twitter.post"])
            async with session.post(
                running.url + path, json=example(BY_NAME["twitter.post"])
            ) as ok:
                assert ok.status == 200
            async with session.post(running.url + path, data=b"{") as refused:
                assert refused.status == 400
    finally:
        await running.stop()
    assert prepared == [200, 400]


def test_an_unverified_aiohttp_gets_plain_responses(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(wire, "FAST_ANSWERS", False)
    response = wire.answer(BODY, 429, {"Retry-After": "5"})
    assert type(response) is web.Response
    assert (response.status, response.body, response.headers["Retry-After"]) == (429, BODY, "5")
    assert response.content_type == "application/json"
    wire.announce_answer_path()
    assert "not a version the sandbox's fast answers were verified with" in caplog.text


async def test_answers_on_a_real_keep_alive_connection_are_held_to_the_end_of_the_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The held-answer path engages on a started sandbox: its answers leave from the end of
    the loop's turn (where aiohttp's connection state, read as it is, allows)."""
    written_at_end: list[int] = []
    real_write_held = wire._write_held

    def counting(loop: asyncio.AbstractEventLoop) -> None:
        written_at_end.append(len(wire._held.get(loop, ())))
        real_write_held(loop)

    monkeypatch.setattr(wire, "_write_held", counting)
    running = await start(Settings(port=0))
    try:
        async with aiohttp.ClientSession(headers={"Authorization": AUTH}) as session:
            tweet = BY_NAME["twitter.post"]
            for _ in range(3):
                url = running.url + push_path(tweet)
                async with session.post(url, json=example(tweet)) as answer:
                    assert answer.status == 200
    finally:
        await running.stop()
    assert sum(written_at_end) == 3
