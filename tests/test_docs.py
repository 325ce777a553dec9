"""Every code block of the documentation runs, so a snippet cannot rot.

The blocks of README.md and docs/**/*.md are collected and run by their language; the rules are
written for contributors in docs/project/development.md ("Documentation"):

- ``console``: a shell session; each ``$`` command runs and what the block shows under it must
  match what it printed (dates, ids, locations, tokens and timings aside; ``…`` is any text).
- ``sh``: each command must succeed; a command starting a sandbox must come up listening.
- ``python``: a script; the comment of a ``print(...)  # value`` line is the output expected.
- ``toml``, ``json``: must parse.
- a block titled with a file name is written to that file for the later blocks of its page;
  ``test_*.py`` files run with pytest in a project with an empty configuration.
- ``text`` is output and not run; anything else needs ``<!-- skip: reason -->`` before it.

Sandboxes, receivers and pytest all run as subprocesses in a temporary folder, as a user runs
them: the documented port 8080 is the sandbox's, replaced by the real one, and other documented
ports get free ones.
"""

from __future__ import annotations

import json
import os
import py_compile
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BIN = Path(sys.executable).parent

# Async tests in a project without `asyncio_mode = "auto"` fail until the plugin marks them
# itself (issue 18, part 1), and pytest-asyncio warns in every such run. When that lands, these
# tests XPASS, which fails them (strict): then set this to False, which also makes every
# pytest snippet's run fail on any warning.
PLUGIN_ASYNC_PENDING = False
PLUGIN_ASYNC_REASON = "issue 18: plugin asyncio mode"

# Blocks that are neither run nor skipped by a comment, and why.
EXEMPT = {
    ("README.md", 0): ".ci/run runs the README's set-up commands itself (see "
    "test_readme_keeps_the_commands_ci_runs)",
}
RUN_LANGUAGES = {"console", "sh", "python", "toml", "json"}
OUTPUT_LANGUAGES = {"text"}
ONE_SHOT_FLAGS = {"--list", "--openapi", "--version", "--help", "-h"}
SANDBOX_PORT = 8080
LISTENING = re.compile(r"Sandbox listening on http://[^\s:]+:(\d+)")
DOCUMENTED_PORT = re.compile(r"(?P<before>127\.0\.0\.1:|localhost:|port=)(?P<port>\d{4,5})\b")
TIMEOUT = 60.0
PYTEST_OPTIONS = ["-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:schemathesis"]


# --- collecting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    page: str  # relative to the repository
    index: int  # the block's number on its page, from 0
    line: int  # the line of its opening fence, from 1
    language: str
    title: str | None
    code: str
    skip: str | None  # the reason given in <!-- skip: ... -->

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def is_file(self) -> bool:
        return self.title is not None

    @property
    def is_pytest(self) -> bool:
        return self.language == "python" and (self.title or "").startswith("test_")


FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)(?P<rest>.*)$")
SKIP = re.compile(r"^<!--\s*skip:\s*(?P<reason>.*?)\s*-->$")
TITLE = re.compile(r'title="(?P<title>[^"]+)"')


def collect(page: Path) -> list[Block]:
    """The fenced blocks of a Markdown page, with the skip comment on the line before each."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    previous = ""
    number = 0
    while number < len(lines):
        opening = FENCE.match(lines[number])
        if not opening:
            if lines[number].strip():
                previous = lines[number].strip()
            number += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        body: list[str] = []
        end = number + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            body.append(lines[end][len(indent) :] if lines[end].startswith(indent) else lines[end])
            end += 1
        skip = SKIP.match(previous)
        title = TITLE.search(opening["rest"])
        blocks.append(
            Block(
                page=str(page.relative_to(ROOT)),
                index=len(blocks),
                line=number + 1,
                language=opening["lang"],
                title=title["title"] if title else None,
                code="\n".join(body) + "\n",
                skip=skip["reason"] if skip else None,
            )
        )
        previous = ""
        number = end + 1
    return blocks


BLOCKS = [block for page in PAGES for block in collect(page)]


def is_run(block: Block) -> bool:
    return (
        block.language in RUN_LANGUAGES
        and block.skip is None
        and (block.page, block.index) not in EXEMPT
        and not (block.is_file and not block.is_pytest)
    )


def page_files(block: Block) -> list[Block]:
    """The file blocks of the block's page written before it."""
    return [b for b in BLOCKS if b.page == block.page and b.index < block.index and b.is_file]


# --- running ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def user_environment() -> dict[str, str]:
    """This environment as a user's shell would have it: the installed commands on the PATH,
    no sandbox settings and nothing of the pytest run that runs these tests."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SANDBOX_", "PYTEST_", "COV_")) and name != "PYTHONPATH"
    }
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


VOLATILE = [
    # dates and times, as strings ("date": "Fri, …") or numbers ("created": 1796442130.05)
    (re.compile(r'("(?:date|time|created|finished)"\s*:\s*)"[^"]*"'), r'\1"<volatile>"'),
    (re.compile(r'("(?:time|created|finished|duration_ms)"\s*:\s*)-?[\d.]+(?:e-?\d+)?'), r"\1<n>"),
    # fabricated ids and the locations made from them, and registered tokens
    (re.compile(r'("(?:\w+_id|\w+_location|token)"\s*:\s*)"[^"]*"'), r'\1"<volatile>"'),
]


def normalized(text: str) -> str:
    text = text.replace("\r\n", "\n")
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def matches(expected: str, actual: str) -> bool:
    """Whether `actual` is what `expected` shows, `…` standing for any text."""
    parts = [re.escape(part) for part in normalized(expected).split("…")]
    return re.fullmatch(".*?".join(parts), normalized(actual), re.DOTALL) is not None


@dataclass
class Background:
    """A process started by a block (a sandbox, a receiver), its output read as it comes."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    read: int = 0  # how many lines were shown as a command's output already
    reader: threading.Thread | None = None

    def __post_init__(self) -> None:
        self.reader = threading.Thread(target=self._pump, daemon=True)
        self.reader.start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def unread(self) -> str:
        return "".join(self.lines[self.read :])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.reader is not None:
            self.reader.join(timeout=5)  # the pipe's end, now the process is gone
        if self.process.stdout is not None:
            self.process.stdout.close()


class Shell:
    """Runs a block's commands in its own folder, with the sandboxes and receivers they start.

    Documented ports are replaced by real ones: 8080, the sandbox's, once a sandbox listens (one
    is started for the block when a command needs it first); any other by a free port."""

    def __init__(self, folder: Path, documented: str) -> None:
        self.folder = folder
        self.env = user_environment()
        self.ports = {
            int(port): free_port()
            for _, port in set(DOCUMENTED_PORT.findall(documented))
            if int(port) != SANDBOX_PORT
        }
        self.background: list[Background] = []

    def localize(self, text: str) -> str:
        return DOCUMENTED_PORT.sub(
            lambda m: m["before"] + str(self.ports.get(int(m["port"]), m["port"])), text
        )

    def write(self, blocks: list[Block]) -> None:
        for block in blocks:
            assert block.title is not None
            (self.folder / block.title).write_text(self.localize(block.code), encoding="utf-8")

    def close(self) -> None:
        for job in reversed(self.background):
            job.stop()

    def _spawn(self, command: str, env: dict[str, str]) -> Background:
        process = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=self.folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        job = Background(process)
        self.background.append(job)
        return job

    def start_sandbox(self, command: str) -> tuple[Background, bool]:
        """Start `command` (an `oneall-sandbox` server) on a free port; wait until it listens
        (True) or exits (False)."""
        env = dict(self.env, SANDBOX_PORT="0")
        job = self._spawn(command, env)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for line in job.lines:
                if found := LISTENING.search(line):
                    self.ports[SANDBOX_PORT] = int(found[1])
                    return job, True
            if job.process.poll() is not None:
                job.process.wait()
                time.sleep(0.1)  # the last lines
                return job, False
            time.sleep(0.02)
        raise AssertionError(f"{command!r} neither listened nor exited within 20 s")

    def start(self, command: str) -> Background:
        """Start a background command; wait until the ports documented for receivers accept."""
        job = self._spawn(command, self.env)
        waiting = [port for documented, port in self.ports.items() if documented != SANDBOX_PORT]
        deadline = time.monotonic() + 10
        while waiting and time.monotonic() < deadline and job.process.poll() is None:
            waiting = [port for port in waiting if not port_open(port)]
            time.sleep(0.05)
        return job

    def ensure_sandbox(self, command: str) -> None:
        """A sandbox for commands that need one, when the block has not started its own."""
        if SANDBOX_PORT not in self.ports and re.search(
            rf"(?:127\.0\.0\.1|localhost):{SANDBOX_PORT}\b", command
        ):
            _, listening = self.start_sandbox("oneall-sandbox --quiet")
            assert listening, "the block's sandbox did not start"

    def run(self, command: str, expected: str | None) -> None:
        """Run one command; compare its output (and what background processes printed
        meanwhile) with `expected`, or require success when the block shows no output."""
        self.ensure_sandbox(command)
        command = self.localize(command)
        for job in self.background:
            job.read = len(job.lines)
        background = command.rstrip().endswith("&")
        command = command.rstrip().removesuffix("&").rstrip()
        if is_sandbox_server(command):
            job, listening = self.start_sandbox(command)
            output = "".join(job.lines)
            job.read = len(job.lines)
            if expected is None:
                assert listening, f"{command!r} did not start:\n{output}"
        elif background:
            self.start(command)
            output = ""
        else:
            finished = subprocess.run(
                ["bash", "-c", command],
                cwd=self.folder,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
            output = finished.stdout
            if expected is None:
                assert finished.returncode == 0, f"{command!r} failed:\n{output}"
        if expected is None:
            return
        expected = self.localize(expected)
        deadline = time.monotonic() + 5  # a receiver's line may come a moment later
        while True:
            actual = "".join(
                text if text.endswith("\n") else text + "\n"
                for text in [output, *(job.unread() for job in self.background)]
                if text
            )
            if matches(expected, actual):
                return
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        pytest.fail(f"$ {command}\nexpected:\n{expected}\ngot:\n{actual}", pytrace=False)


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def is_sandbox_server(command: str) -> bool:
    try:
        words = shlex.split(command)
    except ValueError:
        return False
    return bool(words) and words[0] == "oneall-sandbox" and not ONE_SHOT_FLAGS & set(words)


def complete(command: str) -> bool:
    """Whether a command read so far is whole: no trailing backslash, no open quote."""
    if command.endswith("\\"):
        return False
    try:
        shlex.split(command, comments=True)
    except ValueError:
        return False
    return True


def console_steps(code: str) -> Iterator[tuple[str, str | None]]:
    """(command, output shown or None) for each `$ ` command of a console block."""
    lines = code.rstrip("\n").split("\n")
    number = 0
    while number < len(lines):
        line = lines[number]
        assert line.startswith("$ "), f"a console block's line outside any command: {line!r}"
        command = line[2:]
        number += 1
        while not complete(command) and number < len(lines):
            command += "\n" + lines[number]
            number += 1
        output: list[str] = []
        while number < len(lines) and not lines[number].startswith("$ "):
            output.append(lines[number])
            number += 1
        yield command, ("\n".join(output) if output else None)


def sh_commands(code: str) -> Iterator[str]:
    """The commands of an sh block, continuation lines joined."""
    command = ""
    for line in code.rstrip("\n").split("\n"):
        command = f"{command}\n{line}" if command else line
        if complete(command):
            if command.strip() and not command.lstrip().startswith("#"):
                yield command
            command = ""
    assert not command, f"an unfinished command: {command!r}"


def run_shell(block: Block, folder: Path) -> None:
    files = page_files(block)
    shell = Shell(folder, block.code + "".join(b.code for b in files))
    try:
        shell.write(files)
        if block.language == "console":
            for command, expected in console_steps(block.code):
                shell.run(command, expected)
        else:
            for command in sh_commands(block.code):
                shell.run(command, None)
    finally:
        shell.close()


PRINTED = re.compile(r"^\s*print\(.*\)\s*#\s*(?P<value>.+)$")


def run_python(block: Block, folder: Path) -> None:
    Shell(folder, "").write(page_files(block))
    script = folder / "snippet.py"
    script.write_text(block.code, encoding="utf-8")
    finished = subprocess.run(
        [sys.executable, str(script)],
        cwd=folder,
        env=user_environment(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    expected = [m["value"].strip() for m in map(PRINTED.match, block.code.splitlines()) if m]
    if expected:
        assert finished.stdout.split("\n")[:-1] == expected, finished.stdout


def run_pytest(block: Block, folder: Path) -> None:
    """Run a test file as a user's project runs it: pytest.ini says nothing. Hypothesis and
    Schemathesis, this project's fuzzing tools, are left out: they add seconds to every start
    and no user's project needs them to use the sandbox."""
    Shell(folder, "").write([*page_files(block), block])
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    assert block.title is not None
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", block.title, *PYTEST_OPTIONS],
        cwd=folder,
        env=user_environment(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    output = finished.stdout + finished.stderr
    tests = len(re.findall(r"^(?:async )?def test_", block.code, re.MULTILINE))
    assert tests, "a test file without tests"
    summary = finished.stdout.strip().splitlines()[-1] if finished.stdout.strip() else ""
    assert finished.returncode == 0, output
    assert re.fullmatch(rf"=*\s*{tests} passed\b.*", summary), output
    if not PLUGIN_ASYNC_PENDING:  # today pytest-asyncio warns about its loop scope
        assert "warning" not in output.lower(), output


# --- the tests -------------------------------------------------------------------------------


def runnable() -> Iterator[object]:
    for block in BLOCKS:
        if not is_run(block):
            continue
        marks = []
        if block.is_pytest and PLUGIN_ASYNC_PENDING and "async def test_" in block.code:
            marks.append(pytest.mark.xfail(reason=PLUGIN_ASYNC_REASON, strict=True))
        yield pytest.param(block, id=block.id, marks=marks)


@pytest.mark.parametrize("block", list(runnable()))
def test_block_runs(block: Block, tmp_path: Path) -> None:
    if block.is_pytest:
        run_pytest(block, tmp_path)
    elif block.language in ("console", "sh"):
        run_shell(block, tmp_path)
    elif block.language == "python":
        run_python(block, tmp_path)
    elif block.language == "toml":
        tomllib.loads(block.code)
    else:
        json.loads(block.code)


@pytest.mark.parametrize(
    "block",
    [pytest.param(b, id=b.id) for b in BLOCKS if b.is_file and not b.is_pytest and not b.skip],
)
def test_file_block_parses_and_is_used(block: Block, tmp_path: Path) -> None:
    assert block.title is not None
    path = tmp_path / block.title
    path.write_text(block.code, encoding="utf-8")
    if block.language == "python":
        py_compile.compile(str(path), doraise=True)
    elif block.language == "toml":
        tomllib.loads(block.code)
    elif block.language == "json":
        json.loads(block.code)
    later = [b for b in BLOCKS if b.page == block.page and b.index > block.index and is_run(b)]
    name, module = re.escape(block.title), re.escape(Path(block.title).stem)
    used = re.compile(rf"\b(?:{name}|import {module}|from {module} import)\b")
    assert any(used.search(b.code) for b in later), (
        f"{block.title} is written for the blocks after it, but none of them uses it"
    )


def test_every_block_runs_or_says_why_not() -> None:
    problems = []
    for block in BLOCKS:
        where = f"{block.id} ({block.language or 'no language'})"
        if block.skip is not None and not block.skip:
            problems.append(f"{where}: <!-- skip: --> without a reason")
        elif not block.language:
            problems.append(f"{where}: a block needs a language")
        elif (
            block.language in OUTPUT_LANGUAGES
            or block.skip
            or is_run(block)
            or (block.is_file and block.language in RUN_LANGUAGES)
        ):
            continue
        elif (block.page, block.index) not in EXEMPT:
            problems.append(f"{where}: not run; add <!-- skip: why --> before it")
    assert not problems, "\n".join(problems)
    assert sum(is_run(block) for block in BLOCKS) >= 20, "the collector found too few blocks"


def test_readme_keeps_the_commands_ci_runs() -> None:
    """.ci/run runs the first README line installing '.[test]'; it must run pytest."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# OneAll Push API sandbox\n\n```sh\n")
    first = BLOCKS[0]
    assert first.page == "README.md"
    install = [line for line in readme.splitlines() if "pip install '.[test]'" in line]
    assert install and install[0] in first.code
    assert install[0].endswith("&& .venv/bin/pytest")
    start = first.code.splitlines()[0]
    assert start.endswith(".venv/bin/pip install . && .venv/bin/oneall-sandbox")
