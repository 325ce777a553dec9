"""Hostile input: every input has a defined answer (the envelope with a precise info, or a
clean close), the process keeps serving, nothing is lost and no secret is written.

Where the in-process test server behaves differently from the command (a client that hangs
up, a full disk, file descriptors, the log), the real ``oneall-sandbox`` runs in a subprocess.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from sandbox.api.errors import SettingsError
from sandbox.config import Settings, load_settings
from sandbox.http.app import basic_credentials, create_app
from sandbox.http.callbacks import LoopbackResolver
from sandbox.model.jobs import callback_refusal
from tests.conftest import AUTH, TOKENS, ClientFactory
from tests.test_cli import ROOT, Cli

Client = TestClient[web.Request, web.Application]
TWEET_PATH = f"/push/identities/{TOKENS['twitter']}/twitter/post.json"
TWEET = b'{"request": {"push": {"post": {"message": "Hello"}}}}'


def strict_loads(raw: bytes | str) -> Any:
    """JSON as RFC 8259 says: no NaN, no Infinity."""

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(raw, parse_constant=refuse)


async def make(aiohttp_client: ClientFactory, **settings: Any) -> Client:
    return await aiohttp_client(create_app(Settings(seed=7, **settings)))


async def raw_exchange(port: int, data: bytes, *, wait: float = 5.0) -> bytes:
    """Send bytes as they are; everything answered until the server closes or ``wait``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    received = b""
    try:
        async with asyncio.timeout(wait):
            while chunk := await reader.read(65536):
                received += chunk
    except TimeoutError:
        pass
    writer.close()
    return received


def request_head(path: str, length: int, *extra: str) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Authorization: {AUTH}",
        "Content-Type: application/json",
        f"Content-Length: {length}",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def journal_entries(client: Client) -> list[dict[str, Any]]:
    response = await client.get("/__sandbox/journal")
    assert response.status == 200, await response.text()
    entries: list[dict[str, Any]] = strict_loads(await response.read())["entries"]
    return entries


# --- 1. the journal stays readable ------------------------------------------------------------


async def test_header_bytes_that_are_not_utf8_leave_the_journal_readable(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    journal_file = tmp_path / "journal.jsonl"
    client = await make(aiohttp_client, journal_file=journal_file)
    head = request_head(TWEET_PATH, len(TWEET), "X-Odd: caf\xe9 \xff\xfe").replace(
        "X-Odd: café \xff\xfe".encode(), b"X-Odd: caf\xe9 \xff\xfe"
    )
    assert b"\xff\xfe" in head
    answer = await raw_exchange(client.server.port, head + TWEET, wait=1.0)  # type: ignore[union-attr]
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    entry = (await journal_entries(client))[-1]
    assert entry["request"]["headers"]["X-Odd"] == "caf\ufffd \ufffd\ufffd"
    lines = journal_file.read_bytes().splitlines()
    assert len(lines) == 1 and strict_loads(lines[0])["request"]["headers"]["X-Odd"]


# Deep enough for orjson (1024 levels), too deep for Python's parser.
DEPTH = 1020


async def test_a_body_nested_deeper_than_python_parses_leaves_the_journal_readable(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    extra = b"[" * DEPTH + b"]" * DEPTH
    body = b'{"request": {"push": {"post": {"message": "Hello", "extra": ' + extra + b"}}}}"
    orjson.loads(body)
    with pytest.raises(RecursionError):
        json.loads(body)
    journal_file = tmp_path / "journal.jsonl"
    settings = Settings(journal_file=journal_file, allow_unknown_keys=True)
    # Not the checked client of conftest: its checks read answers with Python's parser.
    async with TestClient(TestServer(create_app(settings))) as client:
        response = await client.post(TWEET_PATH, data=body, headers={"Authorization": AUTH})
        assert response.status == 200
        served = await client.get("/__sandbox/journal")
        assert served.status == 200
        entry = orjson.loads(await served.read())["entries"][-1]
    assert entry["request"]["body"] == body.decode()  # as text: any parser reads it
    [line] = journal_file.read_bytes().splitlines()
    assert json.loads(line)["request"]["body"] == body.decode()


async def test_nan_and_infinity_in_a_body_never_reach_the_journal_as_non_json(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    journal_file = tmp_path / "journal.jsonl"
    client = await make(aiohttp_client, journal_file=journal_file, allow_unknown_keys=True)
    body = b'{"request": {"push": {"post": {"message": "Hi", "x": NaN, "y": -Infinity}}}}'
    response = await client.post(TWEET_PATH, data=body, headers={"Authorization": AUTH})
    assert response.status in (200, 400)
    entry = (await journal_entries(client))[-1]
    assert entry["request"]["body"] == body.decode()  # kept as the text it is
    for line in journal_file.read_bytes().splitlines():
        strict_loads(line)


# --- 2. secrets -------------------------------------------------------------------------------

PRIVATE_KEY = "0f0e0d0c-1111-4222-8333-444455556666"
ADMIN_TOKEN = "admin-token-s3cr3t-9x"
COOKIE = "session=cookie-s3cr3t-77"
PROXY = "Basic cHJveHktczNjcjN0"


@pytest.mark.slow
def test_no_secret_is_written_to_the_journal_its_file_or_the_log(tmp_path: Path) -> None:
    journal_file = tmp_path / "journal.jsonl"
    running = Cli(
        "--private-key", PRIVATE_KEY, "--admin-token", ADMIN_TOKEN,
        "--journal-file", str(journal_file), "--log-level", "debug",
    )  # fmt: skip
    try:
        host, port = running.wait_until_listening()
        base = f"http://{host}:{port}"
        public = Settings().public_key
        good = basic_credentials(public, PRIVATE_KEY)
        sent = [
            {"Authorization": good, "Cookie": COOKIE, "Proxy-Authorization": PROXY},
            {"Authorization": PRIVATE_KEY},  # a credential without a scheme
            {"Authorization": base64.b64encode(f"{public}:{PRIVATE_KEY}".encode()).decode()},
            {"Authorization": f"Bearer {ADMIN_TOKEN}"},
            {"Authorization": good, "X-Note": f"key {PRIVATE_KEY}"},
        ]
        statuses = []
        for headers in sent:
            request = urllib.request.Request(
                base + TWEET_PATH + f"?k={PRIVATE_KEY}", data=TWEET, headers=headers
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    statuses.append(answer.status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
        assert statuses == [200, 401, 401, 401, 200]
        read = urllib.request.Request(
            base + "/__sandbox/journal", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        with urllib.request.urlopen(read, timeout=10) as answer:
            served = answer.read().decode()
        assert len(strict_loads(served)["entries"]) == len(sent)
        running.stop(signal.SIGTERM)
    finally:
        running.close()
    log = "".join(iter_lines(running))
    written = {"journal": served, "file": journal_file.read_text(), "log": log}
    assert "twitter/post.json" in log
    secrets = [PRIVATE_KEY, ADMIN_TOKEN, "cookie-s3cr3t", "cHJveHktczNjcjN0", good_b64(public)]
    for where, text in written.items():
        for secret in secrets:
            assert secret not in text, f"{secret!r} written to the {where}"


def good_b64(public: str) -> str:
    return base64.b64encode(f"{public}:{PRIVATE_KEY}".encode()).decode()


def iter_lines(running: Cli) -> Iterator[str]:
    while True:
        line = running.lines.get(timeout=10)
        if line is None:
            return
        yield line


async def test_a_credential_without_a_scheme_is_not_echoed_in_the_401(
    aiohttp_client: ClientFactory,
) -> None:
    client = await make(aiohttp_client)
    secret = Settings().private_key
    response = await client.post(
        TWEET_PATH, data=TWEET, headers={"Authorization": f"{secret}:{secret}"}
    )
    assert response.status == 401
    # info is the live API's sentence (spec §7); the sandbox's own is the detail header
    info = (await response.json())["response"]["request"]["status"]["info"]
    detail = response.headers["X-Sandbox-Detail"]
    assert secret not in info and secret not in detail
    assert detail.startswith("Unsupported authentication scheme:")
    bearer = await client.post(TWEET_PATH, data=TWEET, headers={"Authorization": "Bearer x"})
    assert "'Bearer'" in bearer.headers["X-Sandbox-Detail"]


# --- 3. callbacks -----------------------------------------------------------------------------


async def test_localhost_names_are_never_resolved_through_the_system(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_dns(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"the system resolver was asked: {args}")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    resolver = LoopbackResolver()
    for host in ("localhost", "callbacks.localhost", "A.B.LOCALHOST"):
        [found] = await resolver.resolve(host, 8080)
        assert (found["host"], found["port"]) == ("127.0.0.1", 8080)
    await resolver.close()


async def test_a_callback_to_a_localhost_name_reaches_the_loopback_receiver(
    aiohttp_client: ClientFactory, aiohttp_server: Any
) -> None:
    received: list[bytes] = []

    async def receive(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.Response(status=204)

    receiver = web.Application()
    receiver.router.add_post("/hook", receive)
    server = await aiohttp_server(receiver)
    client = await make(aiohttp_client, processing_time=0)
    video = {
        "video_url": "https://example.com/v.mp4",
        "title": "t",
        "callback_url": f"http://hooks.localhost:{server.port}/hook",
    }
    response = await client.post(
        f"/push/identities/{TOKENS['youtube']}/youtube/video.json",
        json={"request": {"push": {"video": video}}},
        headers={"Authorization": AUTH},
    )
    assert response.status == 200, await response.text()
    for _ in range(200):
        if received:
            break
        await asyncio.sleep(0.02)
    assert received and strict_loads(received[0])["response"]["request"]["status"]["code"] == 200


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1\x00.example.com/",
        "http://evil\x00.localhost/",
        "http://local\x01host/",
        "http://localhost/\r\nX: y",
        "http://exa mple.com/",
        "http://" + "a" * 300 + ".localhost/",
    ],
    ids=["nul", "nul-localhost", "control", "crlf", "space", "too-long"],
)
def test_callback_hosts_with_control_characters_are_refused(url: str) -> None:
    refusal = callback_refusal(url, ())
    assert refusal is not None
    assert "\x00" not in refusal and "\x01" not in refusal


# --- 4. degrade, don't die --------------------------------------------------------------------


def call(base: str, path: str, body: bytes | None = None, **headers: str) -> tuple[int, bytes]:
    request = urllib.request.Request(base + path, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_a_journal_file_on_a_full_disk_degrades_and_pushes_go_on() -> None:
    running = Cli("--journal-file", "/dev/full")
    try:
        host, port = running.wait_until_listening()
        base = f"http://{host}:{port}"
        statuses = [call(base, TWEET_PATH, TWEET, Authorization=AUTH)[0] for _ in range(5)]
        assert statuses == [200] * 5
        status, raw = call(base, "/__sandbox/health")
        report = strict_loads(raw)
        assert status == 200 and report["status"] == "degraded"
        assert "/dev/full" in report["reasons"][0]
        assert report["troubles"][0]["count"] == 5
        assert len(strict_loads(call(base, "/__sandbox/journal")[1])["entries"]) == 5
        running.stop(signal.SIGTERM)
    finally:
        running.close()
    log = "".join(iter_lines(running))
    assert log.count("degraded:") == 1, log
    assert "Traceback" not in log


@pytest.mark.slow
def test_a_client_hanging_up_mid_body_is_journaled_without_a_traceback() -> None:
    running = Cli()
    try:
        host, port = running.wait_until_listening()
        with socket.create_connection((host, port)) as sock:
            sock.sendall(request_head(TWEET_PATH, 10_000) + b'{"request": ')
            time.sleep(0.2)
        base = f"http://{host}:{port}"
        for _ in range(100):
            entries = strict_loads(call(base, "/__sandbox/journal")[1])["entries"]
            if entries:
                break
            time.sleep(0.05)
        assert entries[0]["response"]["status"] is None
        assert entries[0]["response"]["info"].startswith("no answer: the connection was closed")
        assert call(base, TWEET_PATH, TWEET, Authorization=AUTH)[0] == 200
        running.stop(signal.SIGTERM)
    finally:
        running.close()
    log = "".join(iter_lines(running))
    assert "Traceback" not in log and "Error handling request" not in log, log


@pytest.mark.slow
def test_running_out_of_file_descriptors_is_one_line_in_the_log(tmp_path: Path) -> None:
    limit = 64

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0", "--quiet"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=low_limit,  # noqa: PLW1509 (the test's process starts no thread of its own)
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        port = int(line.rsplit(":", 1)[1])
        held = []
        for _ in range(limit + 20):
            held.append(socket.create_connection(("127.0.0.1", port)))
        time.sleep(2.5)  # asyncio retries accept() every second
        for sock in held:
            sock.close()
        time.sleep(1.5)
        status, raw = call(f"http://127.0.0.1:{port}", "/__sandbox/health")
        report = strict_loads(raw)
        assert status == 200 and report["status"] == "degraded"
        assert "file" in report["reasons"][0] or "Too many" in report["reasons"][0]
        process.send_signal(signal.SIGTERM)
        log, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert log.count("cannot accept connections") == 1, log
    assert "Traceback" not in log, log


@pytest.mark.slow
def test_the_command_answers_pushes_and_logs_them_at_the_default_log_level() -> None:
    running = Cli()
    try:
        host, port = running.wait_until_listening()
        base = f"http://{host}:{port}"
        assert call(base, TWEET_PATH, TWEET, Authorization=AUTH)[0] == 200
        assert call(base, TWEET_PATH, TWEET)[0] == 401
        running.stop(signal.SIGTERM)
    finally:
        running.close()
    log = "".join(iter_lines(running))
    assert f"POST {TWEET_PATH} -> 200" in log and f"POST {TWEET_PATH} -> 401" in log
    assert "Traceback" not in log


@pytest.mark.slow
def test_a_log_nobody_reads_any_more_costs_no_answer_and_no_exit_code() -> None:
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=write_end,
        text=True,
    )
    os.close(write_end)
    try:
        assert process.stdout is not None
        base = process.stdout.readline().split()[-1]
        os.close(read_end)  # the log's reader is gone: writes fail with EPIPE
        statuses: list[int] = []

        def pushes() -> None:
            statuses.extend(
                call(base, TWEET_PATH, TWEET, Authorization=AUTH)[0] for _ in range(150)
            )

        threads = [threading.Thread(target=pushes) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == [200] * 900
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()  # type: ignore[union-attr]


MALFORMED = [
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nxx\r\n0\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    request_head(TWEET_PATH, 7, "Content-Encoding: gzip") + b"notgzip",
]


@pytest.mark.slow
def test_malformed_requests_are_answered_and_logged_in_one_line_each() -> None:
    running = Cli()
    try:
        host, port = running.wait_until_listening()
        answers = []
        for data in MALFORMED:
            with socket.create_connection((host, port)) as sock:
                sock.settimeout(5)
                sock.sendall(data)
                answers.append(sock.recv(65536))
        assert all(answer.split(b" ", 2)[1] == b"400" for answer in answers), answers
        base = f"http://{host}:{port}"
        assert call(base, TWEET_PATH, TWEET, Authorization=AUTH)[0] == 200
        running.stop(signal.SIGTERM)
    finally:
        running.close()
    log = "".join(iter_lines(running))
    assert "Traceback" not in log, log
    assert log.count("refused a malformed request") >= 4, log


async def test_a_fault_header_with_thousands_of_digits_is_400(
    aiohttp_client: ClientFactory,
) -> None:
    client = await make(aiohttp_client)
    response = await client.post(
        TWEET_PATH,
        data=TWEET,
        headers={"Authorization": AUTH, "X-Sandbox-Fault": "delay; delay_ms=" + "9" * 5000},
    )
    assert response.status == 400
    info = (await response.json())["response"]["request"]["status"]["info"]
    assert "delay_ms: must be a whole number from 0 to 3600000" in info and len(info) < 300


# --- 5. control plane and settings ------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "words"),
    [
        ("GET", "/__sandbox/journal?since=" + "9" * 5000, 400, "at most 18 digits"),
        ("GET", "/__sandbox/journal?status=" + "4" * 5000, 400, "at most 18 digits"),
        ("DELETE", "/__sandbox/faults/" + "7" * 5000, 404, "No fault rule with id 777"),
        ("POST", "/__sandbox/jobs/job-" + "1" * 5000 + "/finish", 404, "No job with id job-111"),
    ],
    ids=["since", "status", "fault-id", "job-id"],
)
async def test_integers_of_thousands_of_digits_get_a_precise_answer(
    aiohttp_client: ClientFactory, method: str, path: str, status: int, words: str
) -> None:
    client = await make(aiohttp_client)
    response = await client.request(method, path)
    assert response.status == status
    info = (await response.json())["response"]["request"]["status"]["info"]
    assert words in info and len(info) < 300


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e308", "-1"])
@pytest.mark.parametrize("flag", ["--processing-time", "--grace", "--idle-timeout"])
def test_seconds_that_are_not_finite_and_sensible_are_refused_at_start(
    flag: str, value: str
) -> None:
    with pytest.raises(SettingsError, match="must be between 0 and"):
        load_settings([f"{flag}={value}"], {})


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        ({"SANDBOX_MAX_BODY": "9" * 5000}, "SANDBOX_MAX_BODY"),
        ({"SANDBOX_JOURNAL_SIZE": "9" * 5000}, "at most 20 digits"),
        ({"SANDBOX_JOURNAL_MAX_BYTES": "0"}, "journal max bytes must be a whole number from 1"),
        ({"SANDBOX_MAX_FAULT_RULES": "0"}, "max fault rules must be a whole number from 1"),
        ({"SANDBOX_MAX_BODY": "999999999999999"}, "max body must be a whole number from 1"),
    ],
    ids=["huge-size", "huge-count", "zero-bytes", "zero-rules", "over-a-tebibyte"],
)
def test_bounds_out_of_range_are_refused_at_start(environ: dict[str, str], words: str) -> None:
    with pytest.raises(SettingsError, match=words):
        load_settings([], environ)


DEEP_JSON = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("setting", "name", "text", "words"),
    [
        ("identities", "i.json", '{"identities": ' + DEEP_JSON + "}", "nested too deeply"),
        ("faults", "f.json", '{"rules": ' + DEEP_JSON + "}", "nested too deeply"),
        ("faults", "f.toml", "[[rules]]\nx = " + DEEP_JSON + "\n", "TOML nested too deeply"),
        ("faults", "f.toml", b"\xff\xfe[[rules]]", r"is not UTF-8 text \(byte 0"),
        ("identities", "/dev/zero", "", "is larger than 67108864 bytes"),
        ("journal_file", "fifo", "", "cannot open journal file"),
    ],
    ids=["deep-identities", "deep-json-faults", "deep-toml-faults", "not-utf8", "endless", "fifo"],
)
def test_files_named_at_start_that_cannot_be_used_are_one_sentence(
    tmp_path: Path, setting: str, name: str, text: str | bytes, words: str
) -> None:
    path = Path(name) if name.startswith("/") else tmp_path / name
    if name == "fifo":
        os.mkfifo(path)
    elif not name.startswith("/"):
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    value: Any = (path,) if setting == "faults" else path
    with pytest.raises(SettingsError, match=words):
        create_app(Settings(**{setting: value}))


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"", "is empty"),
        (b'{"sed": 3}', "the body must hold the key seed and has the unknown key sed"),
        (b"{}", "the body must hold the key seed, got {}"),
        (b"[1]", "the body must be an object, got [1]"),
        (b'{"seed": 1, "x": 2}', "the body has the unknown key x (it takes seed)"),
    ],
    ids=["no-body", "wrong-key", "empty-object", "list", "extra-key"],
)
async def test_a_seed_not_said_is_refused_not_read_as_unseeding(
    aiohttp_client: ClientFactory, body: bytes, words: str
) -> None:
    client = await make(aiohttp_client)
    response = await client.post("/__sandbox/seed", data=body)
    assert response.status == 400
    assert words in (await response.json())["response"]["request"]["status"]["info"]
    assert (await (await client.post("/__sandbox/reset")).json())["seed"] == 7


@pytest.mark.parametrize(
    "header", ["Content-Length", "transfer-encoding", "Connection", "Upgrade", "Keep-Alive"]
)
async def test_fault_rules_setting_framing_headers_are_refused(
    aiohttp_client: ClientFactory, header: str
) -> None:
    client = await make(aiohttp_client)
    rule = {"preset": "rate_limited", "headers": {header: "0"}}
    response = await client.post("/__sandbox/faults", json=rule)
    assert response.status == 400
    info = (await response.json())["response"]["request"]["status"]["info"]
    assert "frames the HTTP message" in info


async def test_nan_in_a_control_plane_document_is_refused(aiohttp_client: ClientFactory) -> None:
    client = await make(aiohttp_client)
    response = await client.post("/__sandbox/faults", data=b'{"preset": "delay", "delay_ms": NaN}')
    assert response.status == 400


# --- 6. the wire ------------------------------------------------------------------------------


async def test_expect_continue_over_max_body_is_413_without_100_continue(
    aiohttp_client: ClientFactory,
) -> None:
    client = await make(aiohttp_client, max_body=1000)
    head = request_head(TWEET_PATH, 5000, "Expect: 100-continue")
    answer = await raw_exchange(client.server.port, head, wait=2.0)  # type: ignore[union-attr]
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
    assert b"100 Continue" not in answer
    assert b"Connection: close" in answer


async def test_expect_continue_within_max_body_gets_100_continue(
    aiohttp_client: ClientFactory,
) -> None:
    client = await make(aiohttp_client)
    head = request_head(TWEET_PATH, len(TWEET), "Expect: 100-continue")
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)  # type: ignore[union-attr]
    writer.write(head)
    first = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert first.startswith(b"HTTP/1.1 100 Continue")
    writer.write(TWEET)
    second = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert second.startswith(b"HTTP/1.1 200")
    writer.close()


async def hold_a_body(port: int) -> asyncio.StreamWriter:
    """A connection whose 1000-byte body is being read: one byte of it sent."""
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request_head(TWEET_PATH, 1000) + b"{")
    await writer.drain()
    return writer


async def test_a_body_past_the_in_flight_cap_waits_for_room(
    aiohttp_client: ClientFactory,
) -> None:
    client = await make(aiohttp_client, max_body=1000, max_bodies_in_flight=1500, read_timeout=1)
    port = client.server.port  # type: ignore[union-attr]
    holder = await hold_a_body(port)
    await asyncio.sleep(0.1)
    started = time.monotonic()
    body = TWEET.ljust(1000)
    answer = await raw_exchange(port, request_head(TWEET_PATH, 1000) + body, wait=3.0)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]  # once the holder timed out
    assert time.monotonic() - started > 0.5
    holder.close()


async def test_bodies_waiting_too_long_for_room_are_503_with_retry_after(
    aiohttp_client: ClientFactory,
) -> None:
    client = await make(aiohttp_client, max_body=1000, max_bodies_in_flight=1500, read_timeout=0.5)
    port = client.server.port  # type: ignore[union-attr]
    first = await hold_a_body(port)  # reads until 0.5 s, then 408
    await asyncio.sleep(0.1)
    second = await hold_a_body(port)  # waits, gets room at 0.5 s, reads until 1 s
    await asyncio.sleep(0.1)
    answer = await raw_exchange(port, request_head(TWEET_PATH, 1000) + b"{", wait=2.0)
    assert answer.startswith(b"HTTP/1.1 503"), answer[:200]  # waited 0.5 s, no room
    assert b"Retry-After: 1" in answer and b"--max-bodies-in-flight" in answer
    first.close()
    second.close()
    health = await (await client.get("/__sandbox/health")).json()
    assert health["bounds"]["bodies_in_flight"]["refused"] == 1


async def test_a_body_not_sent_within_the_read_timeout_is_408(
    aiohttp_client: ClientFactory,
) -> None:
    client = await make(aiohttp_client, read_timeout=0.3)
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)  # type: ignore[union-attr]
    writer.write(request_head(TWEET_PATH, 100) + b"{")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 408"), head
    assert b"Connection: close" in head
    assert time.monotonic() - started < 3
    writer.close()
    entries = await journal_entries(client)
    assert entries[-1]["response"]["status"] == 408


@pytest.mark.slow
def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() -> None:
    running = Cli("--idle-timeout", "0.5", "--quiet")
    try:
        host, port = running.wait_until_listening()
        with socket.create_connection((host, port)) as sock:
            sock.settimeout(5)
            started = time.monotonic()
            assert sock.recv(1) == b""  # closed by the server
            assert 0.3 < time.monotonic() - started < 3
        with socket.create_connection((host, port)) as sock:  # a head that never ends
            sock.settimeout(5)
            started = time.monotonic()
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
            time.sleep(0.2)
            sock.sendall(b"X-Slow: 1\r\n")
            assert sock.recv(1) == b""
            assert time.monotonic() - started < 3
    finally:
        running.close()


def test_idle_and_read_timeouts_default_to_what_suits_test_clients() -> None:
    settings = load_settings([], {})
    assert (settings.idle_timeout, settings.read_timeout) == (75.0, 60.0)
    assert load_settings([], {"SANDBOX_IDLE_TIMEOUT": "5"}).idle_timeout == 5.0
