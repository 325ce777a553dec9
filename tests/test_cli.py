"""The real ``oneall-sandbox`` command in a subprocess: it starts, and stops at once when asked."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sandbox.__main__ import main
from sandbox.api.errors import SettingsError
from sandbox.config import load_settings

ROOT = Path(__file__).resolve().parent.parent
READY = "Sandbox listening on "


class Cli:
    """A running ``python -m sandbox``; its stdout lines arrive on a queue as they are printed."""

    def __init__(self, *args: str) -> None:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "--port", "0", *args],
            cwd=ROOT,
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_until_listening(self, timeout: float = 30.0) -> tuple[str, int]:
        """(host, port) from the ready line; fails with everything printed if it never comes."""
        deadline, seen = time.monotonic() + timeout, []
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                break
            seen.append(line)
            if line.startswith(READY):
                host, port = line[len(READY) :].strip().removeprefix("http://").rsplit(":", 1)
                return host, int(port)
        pytest.fail(f"no {READY!r} line within {timeout}s; printed:\n{''.join(seen)}")

    def stop(self, signum: signal.Signals) -> tuple[int, float]:
        """Send ``signum``; (exit code, seconds until the process was gone)."""
        started = time.monotonic()
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"still running 10 s after {signum.name}")
        return code, time.monotonic() - started

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.reader.join(timeout=5)
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture
def cli() -> Iterator[Callable[..., Cli]]:
    started: list[Cli] = []

    def make(*args: str) -> Cli:
        started.append(Cli(*args))
        return started[-1]

    yield make
    for running in started:
        running.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_idle_sandbox_exits_0_within_a_second_of_a_stop_signal(
    cli: Callable[..., Cli], signum: signal.Signals
) -> None:
    running = cli("--quiet")
    running.wait_until_listening()
    code, seconds = running.stop(signum)
    assert code == 0
    assert seconds < 1.0


def test_an_idle_keep_alive_connection_does_not_hold_the_stop(cli: Callable[..., Cli]) -> None:
    running = cli("--quiet", "--grace", "5")
    host, port = running.wait_until_listening()
    with socket.create_connection((host, port), timeout=5) as connection:
        connection.sendall(b"GET /__sandbox/health HTTP/1.1\r\nHost: sandbox\r\n\r\n")
        assert connection.recv(65536).startswith(b"HTTP/1.1 200 ")
        code, seconds = running.stop(signal.SIGTERM)
    assert code == 0
    assert seconds < 1.0


def test_grace_comes_from_the_flag_or_the_environment() -> None:
    assert load_settings([], {}).grace == 5.0
    assert load_settings([], {"SANDBOX_GRACE": "0.5"}).grace == 0.5
    assert load_settings(["--grace", "2s"], {"SANDBOX_GRACE": "0.5"}).grace == 2.0
    with pytest.raises(SettingsError, match=r"SANDBOX_GRACE='soon': expected a number of seconds"):
        load_settings([], {"SANDBOX_GRACE": "soon"})
    with pytest.raises(SettingsError, match="grace must be between 0 and 3600 seconds"):
        load_settings(["--grace", "-1"], {})


def test_a_bad_grace_stops_the_command_with_exit_code_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--grace", "nan"])
    assert stopped.value.code == 2
    assert "grace must be between 0 and 3600 seconds" in capsys.readouterr().err


def listed(capsys: pytest.CaptureFixture[str]) -> list[list[str]]:
    """``oneall-sandbox --list`` as rows of cells (the NOTE column, with spaces, left joined)."""
    assert main(["--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    return [line.split(maxsplit=5) for line in lines]


def test_list_shows_every_route_the_sandbox_answers_with_its_method_and_path(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What a user reads in --list is what the server routes: every family, nothing missing."""
    from sandbox.http.app import create_app

    heading, *rows = listed(capsys)
    assert heading == ["FAMILY", "RESOURCE", "METHOD", "PATH", "SCHEMA", "NOTE"]
    served = set()
    for route in create_app(load_settings([], {})).router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method != "HEAD" and not path.startswith("/__sandbox/"):
            shown = path.replace("{token}", "{identity_token}")
            served.add((route.name, route.method, shown.replace("{", "<").replace("}", ">")))
    assert {(row[1], row[2], row[3]) for row in rows} == served
    assert [row[0] for row in rows].count("push") == 21
    assert {row[0] for row in rows} == {
        "push", "site", "connections", "users", "identities", "pull", "sharing", "login"
    }  # fmt: skip


def test_list_names_each_body_schema_and_the_shipped_file_exists(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = {row[1]: row for row in listed(capsys)[1:]}
    assert rows["twitter.post"][4:] == ["twitter.post.json", "node push.post, *inferred*: result"]
    assert rows["identities.link"][2:] == [
        "PUT",
        "/identities/<identity_token>/link.json",
        "identities/link.json",
        "node user",
    ]
    assert rows["sharing.messages.create"][4:] == [
        "sharing/messages.create.json",
        "node sharing_message",
    ]
    assert rows["users.list"][4:] == ["-", "paginated: page, entries_per_page"]
    assert rows["pull.facebook.pages"][4:] == [
        "-",
        "paginated: page, num_pages, *inferred*: result",
    ]
    assert rows["site.ping"][4:] == ["-"]
    assert rows["login.consent"][4:] == ["-", "no site keys, the sandbox's own HTML page"]
    for row in rows.values():
        if row[4] != "-":
            assert (ROOT / "schemas" / row[4]).is_file(), row


def test_help_says_what_list_shows(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert (
        "--list print every resource of every family (push, site, connections, users, "
        "identities, pull, sharing, login), one line each: its family, name, method, path, "
        "request body schema (under schemas/)"
    ) in shown
