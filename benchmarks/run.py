"""Benchmark the sandbox against a bare-aiohttp ceiling and check the targets.

    .venv/bin/python benchmarks/run.py            # or: .venv/bin/python -m benchmarks.run

Starts the real CLI (``oneall-sandbox --port 0 -q``) and ``benchmarks/ceiling.py`` in turn,
each pinned to one core, drives them with wrk pinned to another, interleaved over several
rounds, and prints the medians, the ratios and PASS/FAIL for each target. Raw figures go to
``benchmarks/results/<timestamp>.json``. See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import importlib.util
import json
import os
import platform
import re
import resource
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
FIXTURES = REPO / "fixtures"
RESULTS = HERE / "results"
WRK_SCRIPTS = HERE / "wrk"
LISTENING = re.compile(r"listening on (http://\S+)")
WRK_LINE = "WRK_JSON "

# The pytest fixtures' per-test cost (targets below) is measured by this script when it exists.
# Its contract: ``measure(rounds: int) -> dict[str, float]``, the median per-test cost in ms
# after the first test, under the keys of FIXTURE_TARGETS. The runner imports and calls it
# after the server scenarios; without the file those rows say SKIP.
FIXTURES_BENCH = HERE / "fixtures_bench.py"
FIXTURE_TARGETS: dict[str, tuple[str, float]] = {
    "sandbox": ("pytest fixture `sandbox`, per test (ms)", 10.0),
    "sandbox_server_reset": ("pytest fixture `sandbox_server` reset, per test (ms)", 2.0),
}

WRK_INSTALL = (
    "wrk is not installed. On Debian or Ubuntu: apt-get update && apt-get install -y wrk "
    "(as root, or with sudo); on macOS: brew install wrk. Then run this command again."
)


# --- the workload ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Push:
    """One resource's request: path below the token, token, valid and refused bodies."""

    name: str
    rest: str
    token: str
    valid: str
    refused: str

    @property
    def path(self) -> str:
        return f"/push/identities/{self.token}/{self.rest}"


def authorization() -> str:
    """The ``Authorization`` value for the sandbox's built-in site keys."""
    from sandbox.config import Settings

    settings = Settings()
    pair = f"{settings.public_key}:{settings.private_key}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def refuse(body: dict[str, Any], node: str) -> dict[str, Any]:
    """The body broken the way a careless client breaks it: an unknown key in the node (a
    warning in the live profile) and an error refused in every profile: an http(s) URL replaced
    by a bare file name, or where the node has none, its first text sent as a boolean."""
    broken: dict[str, Any] = json.loads(json.dumps(body))
    fields: dict[str, Any] = broken["request"]["push"][node]
    texts = [key for key, value in fields.items() if isinstance(value, str)]
    urls = [key for key in texts if fields[key].startswith(("http://", "https://"))]
    if urls:
        fields[urls[0]] = "photo of the engine.png"
    else:
        fields[texts[0]] = True
    fields["colour"] = "teal"
    return broken


def compact(value: object) -> str:
    """One line of JSON, as a client library sends it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def builtin_identities() -> tuple[dict[str, str], dict[str, str]]:
    """Each provider's first built-in identity that may publish, by provider, and the first
    board and playlist of theirs (``board_id``, ``playlist_id``)."""
    identities = json.loads((FIXTURES / "identities.json").read_text())["identities"]
    tokens: dict[str, str] = {}
    params: dict[str, str] = {}
    for identity in identities:
        if identity.get("consent", True) and identity["provider"] not in tokens:
            tokens[identity["provider"]] = identity["token"]
            for kind, param in (("boards", "board_id"), ("playlists", "playlist_id")):
                if identity.get(kind):
                    params.setdefault(param, str(identity[kind][0]["id"]))
    return tokens, params


def workload() -> list[Push]:
    """The example body of every resource in the catalog, addressed to its provider's first
    built-in identity that may publish (and to its first board or playlist in the path)."""
    from sandbox.api.push import ENDPOINTS

    tokens, params = builtin_identities()
    pushes = []
    for endpoint in ENDPOINTS:
        body = json.loads((FIXTURES / "requests" / f"{endpoint.name}.json").read_text())
        pushes.append(
            Push(
                name=endpoint.name,
                rest=endpoint.path.format(**params),
                token=tokens[endpoint.provider],
                valid=compact(body),
                refused=compact(refuse(body, endpoint.node)),
            )
        )
    return pushes


def write_requests_file(pushes: Sequence[Push], folder: Path) -> Path:
    """The pushes alone, for ``memory.lua`` and ``soak.lua``, which build their paths (fresh
    tokens, fault headers): ``rest \\t token \\t valid \\t refused`` per line."""
    path = folder / "requests.tsv"
    lines = (f"{p.rest}\t{p.token}\t{p.valid}\t{p.refused}\n" for p in pushes)
    path.write_text("".join(lines), encoding="utf-8")
    return path


# --- the mix: the pushes and the calls around them ----------------------------------------------

# Each push appears this many times in a mix for one call of another family: four requests in
# five are pushes, so the figures stay comparable with the runs that sent pushes alone.
PUSH_REPEAT = 3
UNKNOWN = "0badc0de-0000-4000-8000-000000000000"  # a well-formed token of nothing


@dataclass(frozen=True, slots=True)
class Request:
    """One request of a load mix, and what the sandbox must answer it."""

    name: str  # the catalog's name: twitter.post, identities.read, ...
    method: str
    path: str
    status: int
    body: str | None = None
    says: str = ""  # text the sandbox's answer must hold (a refusal's key or reason)


@dataclass(frozen=True, slots=True)
class World:
    """The tokens the calls around the push need beyond the built-in identities, made by the
    runner on each fresh sandbox before its load (:func:`make_world`)."""

    connection: str  # a Social Login connection of the built-in Facebook identity
    user: str  # the user of the built-in Twitter identity
    message: str  # a sharing message the load reads


# The ceiling answers any path: any token will do, of the same length as the sandbox's.
CEILING_WORLD = World(*(f"00000000-0000-4000-8000-00000000000{n}" for n in range(1, 4)))


def family_requests(world: World) -> tuple[list[Request], list[Request]]:
    """The calls around the push in the valid and in the refused mix, one of each.

    Valid: reads of a world that the load does not grow (the Pull API's pages, groups,
    companies and channels, not the posts, boards or playlists every push adds to, whose cost
    grows with them), the two identity updates, a sharing message created (its publication is
    a push) and one read. Refused: bodies the schemas refuse, queries the pagination refuses,
    a deletion not confirmed, unknown tokens and a pull with another network's identity. Left
    out (benchmarks/README.md says why): a valid DELETE, which would empty the world the next
    requests read, and a valid re-publication, whose answer grows to its message's last 100
    publications.
    """
    tokens, _ = builtin_identities()
    facebook, linkedin, twitter = tokens["facebook"], tokens["linkedin"], tokens["twitter"]
    youtube = tokens["youtube"]
    text = {"text": {"body": "Frequency hopping, 1942"}}
    for_twitter = {"publish_for_identity": {"identity_token": twitter}}
    pull = "/pull/identities/{}/{}.json"
    valid = [
        Request("site.ping", "GET", "/tools/ping.json", 200),
        Request("connections.list", "GET", "/connections.json", 200),
        Request("connections.read", "GET", f"/connections/{world.connection}.json", 200),
        Request("users.list", "GET", "/users.json", 200),
        Request("users.read", "GET", f"/users/{world.user}.json", 200),
        Request("identities.list", "GET", "/identities.json?entries_per_page=10", 200),
        Request("identities.read", "GET", f"/identities/{facebook}.json", 200),
        Request(
            "identities.link",
            "PUT",
            f"/identities/{twitter}/link.json",
            200,
            compact({"request": {"user": {"user_token": world.user}}}),
        ),
        Request(
            "identities.synchronize",
            "PUT",
            f"/identities/{twitter}/synchronize.json",
            200,
            compact({"request": {"synchronize": {"force_token_update": True}}}),
        ),
        Request("pull.facebook.pages", "GET", pull.format(facebook, "facebook/pages"), 200),
        Request("pull.facebook.groups", "GET", pull.format(facebook, "facebook/groups"), 200),
        Request("pull.linkedin.companies", "GET", pull.format(linkedin, "linkedin/companies"), 200),
        Request("pull.youtube.channels", "GET", pull.format(youtube, "youtube/channels"), 200),
        Request("sharing.messages.list", "GET", "/sharing/messages.json?entries_per_page=5", 200),
        Request(
            "sharing.messages.create",
            "POST",
            "/sharing/messages.json",
            200,
            compact({"request": {"sharing_message": {"parts": text, **for_twitter}}}),
        ),
        Request("sharing.messages.read", "GET", f"/sharing/messages/{world.message}.json", 200),
    ]
    confirmed = "?confirm_deletion=true"
    refused = [
        Request(
            "identities.link",
            "PUT",
            f"/identities/{twitter}/link.json",
            400,
            compact({"request": {"user": {"user_token": "Alan Turing", "colour": "teal"}}}),
            "[request->user->user_token]",
        ),
        Request(
            "identities.synchronize",
            "PUT",
            f"/identities/{twitter}/synchronize.json",
            400,
            compact({"request": {"synchronize": {"force_token_update": "yes"}}}),
            "[request->synchronize->force_token_update]",
        ),
        Request(
            "sharing.messages.create",
            "POST",
            "/sharing/messages.json",
            400,
            compact({"request": {"sharing_message": for_twitter}}),
            "[request->sharing_message] must hold the key parts",
        ),
        Request(
            "sharing.messages.create",
            "POST",
            "/sharing/messages.json",
            400,
            '{"request":{"sharing_message":',
            "not valid JSON",
        ),
        Request(
            "sharing.messages.publish",
            "POST",
            f"/sharing/messages/{world.message}.json",
            400,
            compact({"request": {"sharing_message": {"parts": text}}}),
            "publish_for_user or publish_for_identity",
        ),
        Request("users.delete", "DELETE", f"/users/{world.user}.json", 400, None, "confirm_dele"),
        Request("users.list", "GET", "/users.json?order_direction=up", 400, None, "order_dir"),
        Request(
            "connections.list",
            "GET",
            "/connections.json?entries_per_page=all",
            400,
            None,
            "entries_per_page",
        ),
        Request("identities.delete", "DELETE", f"/identities/{UNKNOWN}.json{confirmed}", 404),
        Request("connections.read", "GET", f"/connections/{UNKNOWN}.json", 404),
        Request("users.read", "GET", f"/users/{UNKNOWN}.json", 404),
        Request("identities.read", "GET", f"/identities/{UNKNOWN}.json", 404),
        Request("pull.facebook.pages", "GET", pull.format(UNKNOWN, "facebook/pages"), 404),
        Request(
            "pull.linkedin.companies",
            "GET",
            pull.format(twitter, "linkedin/companies"),
            403,
            None,
            "needs a LinkedIn identity_token",
        ),
        Request("sharing.messages.read", "GET", f"/sharing/messages/{UNKNOWN}.json", 404),
        Request(
            "sharing.messages.delete", "DELETE", f"/sharing/messages/{UNKNOWN}.json{confirmed}", 404
        ),
    ]
    return valid, refused


def interleave(pushes: Sequence[Request], calls: Sequence[Request]) -> list[Request]:
    """Every push ``PUSH_REPEAT`` times with the calls spread evenly among them, so any stretch
    of the rotation holds about the same share of each."""
    repeated = [push for _ in range(PUSH_REPEAT) for push in pushes]
    mixed: list[Request] = []
    for index, push in enumerate(repeated):
        mixed.append(push)
        due = (index + 1) * len(calls) // len(repeated)
        while len(mixed) - index - 1 < due:
            mixed.append(calls[len(mixed) - index - 1])
    return mixed


def mixes(pushes: Sequence[Push], world: World | None) -> tuple[list[Request], list[Request]]:
    """The valid and the refused mix; without a world, the pushes alone (``ab.py``, which
    loads two servers at once, and ``--write-requests`` without ``--url``)."""
    valid = [Request(p.name, "POST", p.path, 200, p.valid) for p in pushes]
    refused = [Request(p.name, "POST", p.path, 400, p.refused, "[request->push->") for p in pushes]
    if world is None:
        return valid, refused
    valid_calls, refused_calls = family_requests(world)
    return interleave(valid, valid_calls), interleave(refused, refused_calls)


def write_mix_file(requests: Sequence[Request], path: Path) -> Path:
    """The file ``mix.lua`` reads: ``METHOD \\t PATH \\t STATUS \\t BODY`` per request, in
    rotation order (BODY empty for none)."""
    lines = (f"{r.method}\t{r.path}\t{r.status}\t{r.body or ''}\n" for r in requests)
    path.write_text("".join(lines), encoding="utf-8")
    return path


def shares(requests: Sequence[Request]) -> dict[str, int]:
    """How many requests of the rotation each status has, as wrk's statuses are keyed."""
    counted: dict[str, int] = {}
    for request in requests:
        counted[str(request.status)] = counted.get(str(request.status), 0) + 1
    return counted


# --- servers ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServerKind:
    name: str
    command: tuple[str, ...]


@dataclass(slots=True)
class Server:
    kind: ServerKind
    process: subprocess.Popen[bytes]
    url: str
    host: str
    port: int
    started: float  # perf_counter() before the spawn
    listening: float  # perf_counter() when the listening line was read
    stderr_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid


def sandbox_command(extra: Sequence[str]) -> tuple[str, ...]:
    beside = Path(sys.executable).parent / "oneall-sandbox"
    found = str(beside) if beside.exists() else shutil.which("oneall-sandbox")
    if found is None:
        sys.exit(
            "oneall-sandbox is not installed for this Python: run the benchmark with the "
            "project's virtual environment, e.g. .venv/bin/python benchmarks/run.py"
        )
    return (found, "--port", "0", "-q", *extra)


def byte_compile_sandbox() -> str:
    """Compile the sandbox's modules to bytecode, as ``pip install`` does, and say where.

    Run from a checkout (an editable install) with ``PYTHONDONTWRITEBYTECODE=1``, as some CI
    machines and containers set, Python would compile every module from source at every
    start: about 50 ms that no installed sandbox spends, which the cold-start row would
    count. ``-P``: the package found is the one the ``oneall-sandbox`` command imports.
    """
    script = (
        "import compileall, os, sandbox; folder = os.path.dirname(sandbox.__file__); "
        "compileall.compile_dir(folder, quiet=1) or exit(1); print(folder)"
    )
    done = subprocess.run(
        [sys.executable, "-P", "-c", script], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"cannot byte-compile the sandbox's modules: {done.stderr.strip()}")
    return done.stdout.strip()


def ceiling_command() -> tuple[str, ...]:
    return (sys.executable, str(HERE / "ceiling.py"), "--port", "0", "-q")


def pinned(core: int | None, command: Sequence[str]) -> list[str]:
    """``command`` under ``taskset -c core`` (taskset execs it: the pid stays the command's)."""
    if core is None:
        return list(command)
    return ["taskset", "-c", str(core), *command]


def server_environment() -> dict[str, str]:
    """This environment without SANDBOX_* variables: every run starts from the defaults."""
    return {key: value for key, value in os.environ.items() if not key.startswith("SANDBOX_")}


def read_first_line(process: subprocess.Popen[bytes], timeout: float) -> str:
    assert process.stdout is not None
    fd = process.stdout.fileno()
    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise RuntimeError(f"no listening line within {timeout:.0f} s")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError(f"the server exited (code {process.wait()}) before listening")
            data += chunk
    return data.split(b"\n", 1)[0].decode()


def start(kind: ServerKind, core: int | None, logs: Path, timeout: float = 30.0) -> Server:
    stderr_path = logs / f"{kind.name}-{time.monotonic_ns()}.stderr"
    with stderr_path.open("wb") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(
            pinned(core, kind.command),
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            env=server_environment(),
        )
    try:
        line = read_first_line(process, timeout)
    except RuntimeError as error:
        stop_process(process)
        tail = stderr_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{kind.name}: {error}\n{tail}") from None
    listening = time.perf_counter()
    match = LISTENING.search(line)
    if match is None:
        stop_process(process)
        raise RuntimeError(f"{kind.name}: unexpected first line {line!r}")
    url = match.group(1)
    host, _, port = url.removeprefix("http://").rpartition(":")
    return Server(kind, process, url, host.strip("[]"), int(port), started, listening, stderr_path)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


@contextmanager
def running(kind: ServerKind, core: int | None, logs: Path) -> Iterator[Server]:
    server = start(kind, core, logs)
    try:
        yield server
    finally:
        stop_process(server.process)


def send(
    address: tuple[str, int], method: str, path: str, body: str | None, auth: str
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(*address, timeout=10)
    try:
        connection.request(
            method,
            path,
            body=None if body is None else body.encode(),
            headers={"Authorization": auth, "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def post(server: Server, path: str, body: str, auth: str) -> tuple[int, bytes]:
    return send((server.host, server.port), "POST", path, body, auth)


def make_world(address: tuple[str, int], auth: str) -> World:
    """What the calls around the push read, made on a fresh sandbox the way an integration's
    test makes it: a connection through the control plane (``POST /__sandbox/connections``,
    what a browser's *Allow* does), the user it reads, a sharing message. The same calls in
    the same order every time; only the tokens, drawn by the sandbox, differ from run to run."""
    tokens, _ = builtin_identities()

    def data(method: str, path: str, body: object = None) -> dict[str, Any]:
        status, answer = send(address, method, path, None if body is None else compact(body), auth)
        if status not in (200, 201):
            raise RuntimeError(f"setting the world up: {method} {path} -> {status}: {answer!r}")
        document: dict[str, Any] = json.loads(answer)
        return document if path.startswith("/__sandbox/") else document["response"]["result"]

    facebook, twitter = tokens["facebook"], tokens["twitter"]
    connection = data(
        "POST", "/__sandbox/connections", {"provider": "facebook", "identity_token": facebook}
    )
    user = data("GET", f"/identities/{twitter}.json")["data"]["identity"]["user_token"]
    message = {
        "parts": {"text": {"body": "Spread spectrum"}},
        "publish_for_identity": {"identity_token": twitter},
    }
    made = data("POST", "/sharing/messages.json", {"request": {"sharing_message": message}})
    read = made["data"]["sharing_message"]["sharing_message_token"]
    return World(connection["connection_token"], user, read)


def smoke_check(server: Server, mix: Sequence[Request], auth: str) -> None:
    """Each request of the mix must get its status (the sandbox; the ceiling answers 200 to
    anything) and a refusal must name its key or reason. Also warms every route and the
    detailed-error path."""
    for request in mix:
        address = (server.host, server.port)
        status, body = send(address, request.method, request.path, request.body, auth)
        expected = 200 if server.kind.name == "ceiling" else request.status
        text = body.decode(errors="replace")
        said = expected == 200 or request.says in text
        if status != expected or not said:
            raise RuntimeError(
                f"{server.kind.name}: {request.name} {request.method} {request.path} -> "
                f"{status}, expected {expected}"
                + (f" saying {request.says!r}" if request.says else "")
                + f": {text[:300]!r}"
            )


def proc_status(pid: int) -> dict[str, int]:
    """VmHWM, VmRSS ... of ``/proc/<pid>/status``, in KiB."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key.startswith("Vm"):
            values[key] = int(rest.split()[0])
    return values


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds spent by the whole machine so far, all cores (``/proc/stat``)."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """User + system CPU time of this process's waited-for children (wrk, once it is reaped)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- wrk --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WrkOptions:
    threads: int
    connections: int
    core: int | None


def run_wrk(
    options: WrkOptions,
    script: str,
    url: str,
    duration: float,
    args: Sequence[str],
    *,
    done_file: Path | None = None,
) -> dict[str, Any]:
    """One wrk run; its ``done()`` line as a dict, plus ``rps``.

    With ``done_file``, the script is told to create ``<done_file>.<thread>`` when a thread has
    sent its share; once every thread has, wrk is ended with SIGINT (it then reports over the
    time actually run), so a fixed count of requests need not wait out ``duration``.
    """
    command = pinned(
        options.core,
        [
            "wrk",
            f"-t{options.threads}",
            f"-c{options.connections}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            "10s",
            "-s",
            str(WRK_SCRIPTS / script),
            url,
            "--",
            *args,
            *([str(done_file)] if done_file else []),
        ],
    )
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
    )
    if done_file is not None:
        marks = [Path(f"{done_file}.{n}") for n in range(options.threads)]
        while process.poll() is None and not all(mark.exists() for mark in marks):
            time.sleep(0.05)
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    try:
        stdout, stderr = process.communicate(timeout=duration + 120)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
    for line in stdout.splitlines():
        if line.startswith(WRK_LINE):
            result: dict[str, Any] = json.loads(line.removeprefix(WRK_LINE))
            result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
            return result
    raise RuntimeError(f"wrk gave no result (exit {process.returncode}):\n{stdout}\n{stderr}")


def measure_load(
    server: Server, options: WrkOptions, script: str, duration: float, args: Sequence[str]
) -> dict[str, Any]:
    """One wrk run, with the CPU the server, wrk and everything else used meanwhile.

    ``server_cpu_share`` near 1.0 says the server had its core to itself and was the
    bottleneck; ``foreign_cpu`` (cores' worth used by other processes) says how busy the
    machine was with work that is not this benchmark.
    """
    load_before = os.getloadavg()[0]
    server_before = cpu_seconds(server.pid)
    wrk_before = children_cpu_seconds()
    machine_before = machine_busy_seconds()
    result = run_wrk(options, script, server.url, duration, args)
    seconds = result["duration_us"] / 1e6
    server_cpu = cpu_seconds(server.pid) - server_before
    wrk_cpu = children_cpu_seconds() - wrk_before
    foreign = machine_busy_seconds() - machine_before - server_cpu - wrk_cpu
    result["server_cpu_share"] = server_cpu / seconds
    result["rps_per_cpu"] = result["requests"] / server_cpu if server_cpu > 0 else None
    result["wrk_cpu_share"] = wrk_cpu / seconds
    result["foreign_cpu"] = max(0.0, foreign / seconds)
    result["load_before"] = load_before
    result["load_after"] = os.getloadavg()[0]
    return result


def problems(result: Mapping[str, Any], expect_refused: bool) -> list[str]:
    """What makes a run's figures untrustworthy: socket errors, or statuses not as expected
    (wrk counts every status >= 400 in ``errors.status``)."""
    errors = result["errors"]
    socket = ("connect", "read", "write", "timeout")
    found = [f"{errors[key]} {key} errors" for key in socket if errors[key]]
    refused = errors["status"]
    if expect_refused and refused != result["requests"]:
        found.append(f"{result['requests'] - refused} of {result['requests']} answers not refused")
    if not expect_refused and refused:
        found.append(f"{refused} of {result['requests']} answers refused (status >= 400)")
    return found


def status_problems(
    result: Mapping[str, Any], expected: Mapping[str, int], options: WrkOptions
) -> list[str]:
    """Statuses other than the mix's, or in other shares: ``expected`` counts each status in
    one rotation of the mix. wrk cannot say which request an answer was for, but each thread
    hands out its rotation in order, so a status's count may differ from its share of the
    answers only by its part of the rotation each thread was in and the requests in flight."""
    statuses: Mapping[str, int] = result.get("statuses", {})
    answered = sum(statuses.values())
    rotation = sum(expected.values())
    found = []
    for status, count in sorted(statuses.items()):
        if status not in expected:
            found.append(f"{count} answers {status}, which no request of the mix expects")
    for status, per_rotation in sorted(expected.items()):
        count, due = statuses.get(status, 0), answered * per_rotation / rotation
        slack = per_rotation * options.threads + options.connections
        if abs(count - due) > slack:
            found.append(f"{count} answers {status}, expected {due:.0f} (± {slack})")
    return found


# --- scenarios --------------------------------------------------------------------------------


@dataclass(slots=True)
class Config:
    rounds: int
    duration: float
    warmup: float
    wrk: WrkOptions
    server_core: int | None
    cold_runs: int
    memory_requests: int
    memory_timeout: float
    scenarios: frozenset[str]
    sandbox_args: tuple[str, ...]
    retries: int = 1
    retry_pause: float = 5.0
    fixture_tests: int = 30


# A load run counts when the server had this much of its core: it was then the bottleneck, as
# it is on a quiet machine; below, another process took the core and the figures say little.
CLEAN_SHARE = 0.9


@dataclass(slots=True)
class Results:
    meta: dict[str, Any]
    load: list[dict[str, Any]] = field(default_factory=list)
    disturbed: list[dict[str, Any]] = field(default_factory=list)  # runs measured again
    cold_start: list[dict[str, Any]] = field(default_factory=list)
    memory: list[dict[str, Any]] = field(default_factory=list)
    fixtures: dict[str, float] | None = None


def in_turn(kinds: Sequence[ServerKind], round_number: int) -> list[ServerKind]:
    """Alternate who goes first, so a slow drift of the machine hits both alike."""
    return list(kinds) if round_number % 2 == 0 else list(reversed(kinds))


def load_rounds(
    config: Config,
    *,
    kinds: Sequence[ServerKind],
    pushes: Sequence[Push],
    auth: str,
    logs: Path,
    results: Results,
) -> None:
    for round_number in range(config.rounds):
        for kind in in_turn(kinds, round_number):
            with running(kind, config.server_core, logs) as server:
                ceiling = kind.name == "ceiling"
                world = CEILING_WORLD if ceiling else make_world((server.host, server.port), auth)
                valid, refused = mixes(pushes, world)
                # The floors of issue 14 were set on pushes alone: they are measured so too,
                # beside the mixes that add the calls around the push (issue 17).
                alone, _ = mixes(pushes, None)
                loads = (("pushes", alone), ("valid", valid), ("refused", refused))
                files = {}
                for scenario, mix in loads:
                    smoke_check(server, mix, auth)
                    files[scenario] = write_mix_file(mix, logs / f"{kind.name}-{scenario}.tsv")
                if config.warmup > 0:
                    run_wrk(
                        config.wrk,
                        "mix.lua",
                        server.url,
                        config.warmup,
                        [str(files["valid"]), auth],
                    )
                for scenario, mix in loads:
                    args = [str(files[scenario]), auth]
                    expected = {"200": len(mix)} if ceiling else shares(mix)
                    for attempt in range(config.retries + 1):
                        result = measure_load(server, config.wrk, "mix.lua", config.duration, args)
                        result.update(round=round_number, server=kind.name, scenario=scenario)
                        expect_refused = scenario == "refused" and kind.name == "sandbox"
                        result["problems"] = problems(result, expect_refused) + status_problems(
                            result, expected, config.wrk
                        )
                        result["attempt"] = attempt
                        result["clean"] = result["server_cpu_share"] >= CLEAN_SHARE
                        report_run(result)
                        if result["clean"] or attempt == config.retries:
                            break
                        results.disturbed.append(result)
                        print(
                            f"    disturbed (server had {result['server_cpu_share']:.0%} of its "
                            f"core): measuring again in {config.retry_pause:g} s",
                            flush=True,
                        )
                        time.sleep(config.retry_pause)
                    results.load.append(result)
                exited = server.process.poll()
                if exited is not None:
                    raise RuntimeError(f"{kind.name} exited with {exited} during the load")


def report_run(result: Mapping[str, Any]) -> None:
    print(
        f"  round {result['round'] + 1} {result['server']:<8} {result['scenario']:<8} "
        f"{result['rps']:7.0f} req/s  p50 {result['latency_us']['p50'] / 1000:6.2f} ms  "
        f"p99 {result['latency_us']['p99'] / 1000:6.2f} ms  "
        f"cpu: server {result['server_cpu_share']:4.0%} wrk {result['wrk_cpu_share']:4.0%} "
        f"others {result['foreign_cpu']:4.0%}"
        + (f"  PROBLEM: {'; '.join(result['problems'])}" if result["problems"] else ""),
        flush=True,
    )


def cold_starts(
    config: Config,
    *,
    kinds: Sequence[ServerKind],
    pushes: Sequence[Push],
    auth: str,
    logs: Path,
    results: Results,
) -> None:
    """Spawn -> the first 200 on a push (the tweet), ``cold_runs`` times each, interleaved."""
    tweet = next((p for p in pushes if p.name == "twitter.post"), pushes[0])
    for run in range(config.cold_runs):
        for kind in in_turn(kinds, run):
            server = start(kind, config.server_core, logs)
            try:
                status, body = post(server, tweet.path, tweet.valid, auth)
                answered = time.perf_counter()
            finally:
                stop_process(server.process)
            if status != 200:
                raise RuntimeError(f"{kind.name}: cold push answered {status}: {body[:300]!r}")
            results.cold_start.append(
                {
                    "run": run,
                    "server": kind.name,
                    "listening_ms": (server.listening - server.started) * 1000,
                    "first_200_ms": (answered - server.started) * 1000,
                }
            )
    for kind in kinds:
        times = [r["first_200_ms"] for r in results.cold_start if r["server"] == kind.name]
        print(f"  cold start {kind.name:<8} median {statistics.median(times):7.1f} ms", flush=True)


def memory_fill(
    config: Config,
    *,
    kinds: Sequence[ServerKind],
    requests_file: Path,
    auth: str,
    logs: Path,
    results: Results,
) -> None:
    """A fresh process each, ``memory_requests`` pushes (three in four from new identities),
    then VmHWM: the peak resident set."""
    per_thread = -(-config.memory_requests // config.wrk.threads)
    for kind in kinds:
        with running(kind, config.server_core, logs) as server:
            before = proc_status(server.pid)
            result = run_wrk(
                config.wrk,
                "memory.lua",
                server.url,
                config.memory_timeout,
                [str(requests_file), auth, str(per_thread)],
                done_file=logs / f"memory-{kind.name}.done",
            )
            after = proc_status(server.pid)
        entry = {
            "server": kind.name,
            "problems": problems(result, expect_refused=False),
            "requests": result["requests"],
            "rps": result["rps"],
            "errors": result["errors"],
            "hwm_kib_at_start": before["VmHWM"],
            "hwm_kib": after["VmHWM"],
            "rss_kib": after["VmRSS"],
        }
        results.memory.append(entry)
        print(
            f"  memory     {kind.name:<8} {entry['requests']} requests at {entry['rps']:.0f} req/s"
            f": peak RSS {entry['hwm_kib'] / 1024:.1f} MiB "
            f"(at start {entry['hwm_kib_at_start'] / 1024:.1f} MiB)"
            + (f"  PROBLEM: {'; '.join(entry['problems'])}" if entry["problems"] else ""),
            flush=True,
        )
        if result["requests"] < config.memory_requests:
            print(
                f"  WARNING: {kind.name} answered only {result['requests']} requests within "
                f"--memory-timeout {config.memory_timeout:.0f} s",
                flush=True,
            )


def fixture_costs(rounds: int) -> dict[str, float] | None:
    """The pytest fixtures' per-test cost from ``benchmarks/fixtures_bench.py``, if present."""
    if not FIXTURES_BENCH.is_file():
        return None
    spec = importlib.util.spec_from_file_location("benchmarks_fixtures_bench", FIXTURES_BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    measure: Callable[[int], dict[str, float]] = module.measure
    return {key: float(value) for key, value in measure(rounds).items()}


# --- the report -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    ceiling: float | None
    sandbox: float | None
    target: str  # "" for a row shown for information only
    passed: bool | None  # None: not measured, or information only
    ratio: float | None = None
    rounds: tuple[float, ...] = ()  # the ratio of each round, sandbox over ceiling
    noisy: bool = False  # no clean run: the figures come from disturbed runs

    @property
    def verdict(self) -> str:
        mark = "?" if self.noisy else ""
        if not self.target:
            return "info" + mark
        return "SKIP" if self.passed is None else ("PASS" if self.passed else "FAIL") + mark


def median_of(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


Pick = Callable[[Mapping[str, Any]], float | None]


def load_values(
    results: Results, server: str, scenario: str, pick: Pick
) -> tuple[dict[int, float], bool]:
    """The figure ``pick`` reads from each round's clean run, by round, and True; or, when no
    round of this server and scenario ran clean, from every round, and False."""
    runs = [r for r in results.load if r["server"] == server and r["scenario"] == scenario]
    clean = [r for r in runs if r["clean"]]
    values: dict[int, float] = {}
    for run in clean or runs:
        value = pick(run)
        if value is not None:
            values[run["round"]] = value
    return values, bool(clean) or not runs


def load_row(
    results: Results,
    label: str,
    scenario: str,
    pick: Pick,
    *,
    bound: float | None,
    at_least: bool,
) -> Row:
    """Medians over the clean rounds; also the ratio of each round where both ran clean."""
    ceiling, ceiling_clean = load_values(results, "ceiling", scenario, pick)
    sandbox, sandbox_clean = load_values(results, "sandbox", scenario, pick)
    paired = tuple(
        sandbox[n] / ceiling[n] for n in sorted(ceiling.keys() & sandbox.keys()) if ceiling[n]
    )
    row = ratio_row(
        label,
        median_of(list(ceiling.values())),
        median_of(list(sandbox.values())),
        bound,
        at_least,
    )
    noisy = not (ceiling_clean and sandbox_clean)
    return Row(
        row.label, row.ceiling, row.sandbox, row.target, row.passed, row.ratio, paired, noisy
    )


def ratio_row(
    label: str,
    ceiling: float | None,
    sandbox: float | None,
    bound: float | None,
    at_least: bool,
) -> Row:
    target = "" if bound is None else f"{'≥' if at_least else '≤'} {bound} x"
    if ceiling is None or sandbox is None or ceiling == 0:
        return Row(label, ceiling, sandbox, target, None)
    ratio = sandbox / ceiling
    if bound is None:
        return Row(label, ceiling, sandbox, target, None, ratio)
    passed = ratio >= bound if at_least else ratio <= bound
    return Row(label, ceiling, sandbox, target, passed, ratio)


def rows(results: Results) -> list[Row]:
    def rps(run: Mapping[str, Any]) -> float:
        return float(run["rps"])

    def p99_ms(run: Mapping[str, Any]) -> float:
        return float(run["latency_us"]["p99"]) / 1000

    def per_cpu(run: Mapping[str, Any]) -> float | None:
        value = run.get("rps_per_cpu")
        return None if value is None else float(value)

    def cold(server: str) -> float | None:
        return median_of([r["first_200_ms"] for r in results.cold_start if r["server"] == server])

    def hwm(server: str) -> float | None:
        return median_of([r["hwm_kib"] / 1024 for r in results.memory if r["server"] == server])

    table = [
        load_row(
            results, "valid pushes, 21 paths (req/s)", "pushes", rps, bound=0.5, at_least=True
        ),
        load_row(
            results, "p99 latency, valid pushes (ms)", "pushes", p99_ms, bound=2.5, at_least=False
        ),
        load_row(
            results, "valid mix, pushes 4 in 5 (req/s)", "valid", rps, bound=None, at_least=True
        ),
        load_row(
            results, "p99 latency, valid mix (ms)", "valid", p99_ms, bound=None, at_least=False
        ),
        load_row(
            results,
            "refused mix, detailed 4xx (req/s)",
            "refused",
            rps,
            bound=0.3,
            at_least=True,
        ),
        ratio_row(
            "cold start to first 200 (ms)", cold("ceiling"), cold("sandbox"), 1.5, at_least=False
        ),
        ratio_row(
            "peak RSS after the memory fill (MiB)",
            hwm("ceiling"),
            hwm("sandbox"),
            2.5,
            at_least=False,
        ),
    ]
    for key, (label, limit) in FIXTURE_TARGETS.items():
        value = None if results.fixtures is None else results.fixtures.get(key)
        passed = None if value is None else value <= limit
        table.append(Row(label, None, value, f"≤ {limit:g} ms", passed))
    # Requests per CPU-second of the server: the cost of a request, whatever else ran.
    table += [
        load_row(
            results,
            "valid pushes per server CPU-second",
            "pushes",
            per_cpu,
            bound=None,
            at_least=True,
        ),
        load_row(
            results,
            "valid mix per server CPU-second",
            "valid",
            per_cpu,
            bound=None,
            at_least=True,
        ),
        load_row(
            results, "refused per server CPU-second", "refused", per_cpu, bound=None, at_least=True
        ),
    ]
    return table


def print_table(table: Sequence[Row], results: Results) -> None:
    def cell(value: float | None) -> str:
        if value is None:
            return "—"
        return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"

    header = ("metric (median)", "ceiling", "sandbox", "ratio", "each round", "target", "")
    lines = [
        (
            row.label,
            cell(row.ceiling),
            cell(row.sandbox),
            "—" if row.ratio is None else f"{row.ratio:.2f}",
            " ".join(f"{ratio:.2f}" for ratio in row.rounds),
            row.target,
            row.verdict,
        )
        for row in table
    ]
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    print()
    for line in [header, *lines]:
        print(
            "  ".join(
                text.ljust(width) if i == 0 else text.rjust(width)
                for i, (text, width) in enumerate(zip(line, widths, strict=True))
            ).rstrip()
        )
    if results.fixtures is None and not FIXTURES_BENCH.exists():
        print(f"(fixture rows: {FIXTURES_BENCH.relative_to(REPO)} is not there yet)")
    if results.load:
        foreign = [r["foreign_cpu"] for r in [*results.load, *results.disturbed]]
        unclean = sum(not r["clean"] for r in results.load)
        print(
            f"other processes used {min(foreign):.2f}-{max(foreign):.2f} cores during the load; "
            f"{len(results.disturbed)} disturbed runs measured again, {unclean} still disturbed"
            + (" (left out of the medians; '?': no clean run at all)" if unclean else "")
        )
    flawed = [r for r in [*results.load, *results.memory] if r["problems"]]
    if flawed:
        print(f"WARNING: {len(flawed)} runs had problems (see PROBLEM lines above)")


def write_results(results: Results, table: Sequence[Row], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "meta": results.meta,
        "load": results.load,
        "disturbed": results.disturbed,
        "cold_start": results.cold_start,
        "memory": results.memory,
        "fixtures": results.fixtures,
        "targets": [
            {
                "metric": row.label,
                "ceiling": row.ceiling,
                "sandbox": row.sandbox,
                "ratio": row.ratio,
                "each_round": list(row.rounds),
                "target": row.target,
                "verdict": row.verdict,
            }
            for row in table
        ],
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


# --- the command ------------------------------------------------------------------------------

SCENARIOS = ("load", "cold", "memory", "fixtures")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py",
        description=(
            "Benchmark oneall-sandbox against a bare-aiohttp ceiling with wrk and check the "
            "targets; see benchmarks/README.md."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved load rounds")
    parser.add_argument("--duration", type=float, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of load before each")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--server-core", type=int, default=0, help="-1: no pinning")
    parser.add_argument("--client-core", type=int, default=1, help="-1: no pinning")
    parser.add_argument(
        "--retries",
        type=int,
        default=1,
        help=f"times to measure a load run again when the server had less than {CLEAN_SHARE:g} "
        "of its core (another process took it)",
    )
    parser.add_argument("--cold-runs", type=int, default=10, help="cold starts per server")
    parser.add_argument(
        "--fixture-tests",
        type=int,
        default=30,
        help="tests per pytest fixture, whose median after the first is its cost",
    )
    parser.add_argument(
        "--memory-requests", type=int, default=200_000, help="requests of the memory fill"
    )
    parser.add_argument(
        "--memory-timeout", type=float, default=300, help="longest the memory fill may take (s)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=SCENARIOS,
        help="run only these scenarios (repeatable); none given: all",
    )
    parser.add_argument(
        "--sandbox-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument for oneall-sandbox, e.g. --sandbox-arg=--log-level=info",
    )
    parser.add_argument("--output", type=Path, help="results file; default results/<time>.json")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target fails")
    parser.add_argument(
        "--write-requests",
        type=Path,
        metavar="FOLDER",
        help="only write the files the wrk scripts read (FOLDER/valid.tsv and refused.tsv for "
        "mix.lua, requests.tsv for memory.lua and soak.lua), print them and the Authorization "
        "value to pass, and exit (for profiling by hand); the mixes hold the pushes alone "
        "unless --url is given",
    )
    parser.add_argument(
        "--url",
        metavar="URL",
        help="with --write-requests: a running sandbox (e.g. http://127.0.0.1:8080) to set the "
        "world up in, for mixes with the calls around the push",
    )
    return parser.parse_args(argv)


def write_requests(folder: Path, url: str | None) -> int:
    """``--write-requests``: the files of the wrk scripts, for profiling by hand."""
    folder.mkdir(parents=True, exist_ok=True)
    pushes = workload()
    world = None
    if url is not None:
        host, _, port = url.removeprefix("http://").rstrip("/").rpartition(":")
        world = make_world((host.strip("[]"), int(port)), authorization())
    valid, refused = mixes(pushes, world)
    print(write_mix_file(valid, folder / "valid.tsv"))
    print(write_mix_file(refused, folder / "refused.tsv"))
    print(write_requests_file(pushes, folder))
    print(authorization())
    return 0


def mix_summary(pushes: Sequence[Push]) -> dict[str, Any]:
    """What the results file says of the mixes: per rotation, each call and its status."""
    summary: dict[str, Any] = {"push_repeat": PUSH_REPEAT}
    for scenario, mix in zip(("valid", "refused"), mixes(pushes, CEILING_WORLD), strict=True):
        summary[scenario] = [f"{r.method} {r.name} {r.status}" for r in mix]
    return summary


def tool_version(command: Sequence[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=10)
    except OSError:
        return "?"
    lines = (done.stdout or done.stderr).splitlines()
    return lines[0].strip() if lines else "?"


def git_commit() -> str:
    """The short commit of the checkout, ``+dirty`` when tracked files changed."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False, timeout=10
        )
        return done.stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except OSError:
        return "?"
    return commit + ("+dirty" if dirty else "")


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    if options.write_requests is not None:
        return write_requests(options.write_requests, options.url)
    if shutil.which("wrk") is None:
        print(WRK_INSTALL, file=sys.stderr)
        return 2
    cores = os.cpu_count() or 1
    server_core: int | None = options.server_core if options.server_core >= 0 else None
    client_core: int | None = options.client_core if options.client_core >= 0 else None
    if (server_core is not None or client_core is not None) and shutil.which("taskset") is None:
        print("taskset not found (Debian: apt-get install util-linux): running unpinned")
        server_core = client_core = None
    if cores < 2 and (server_core is not None or client_core is not None):
        print(f"only {cores} core: running unpinned, server and wrk share it")
        server_core = client_core = None
    config = Config(
        rounds=options.rounds,
        duration=options.duration,
        warmup=options.warmup,
        wrk=WrkOptions(options.threads, options.connections, client_core),
        server_core=server_core,
        cold_runs=options.cold_runs,
        memory_requests=options.memory_requests,
        memory_timeout=options.memory_timeout,
        scenarios=frozenset(options.only or SCENARIOS),
        sandbox_args=tuple(options.sandbox_arg),
        retries=max(0, options.retries),
        fixture_tests=max(2, options.fixture_tests),
    )
    kinds = (
        ServerKind("ceiling", ceiling_command()),
        ServerKind("sandbox", sandbox_command(config.sandbox_args)),
    )
    import aiohttp

    print(f"byte-compiled the sandbox's modules in {byte_compile_sandbox()}, as pip install does")
    load_average = os.getloadavg()
    results = Results(
        meta={
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "commit": git_commit(),
            "python": platform.python_version(),
            "aiohttp": aiohttp.__version__,
            "wrk": tool_version(["wrk", "--version"]),
            "platform": platform.platform(),
            "cores": cores,
            "load_average_at_start": load_average,
            "commands": {kind.name: list(kind.command) for kind in kinds},
            "mix": mix_summary(workload()),
            "config": {
                "rounds": config.rounds,
                "duration_s": config.duration,
                "warmup_s": config.warmup,
                "connections": config.wrk.connections,
                "wrk_threads": config.wrk.threads,
                "server_core": server_core,
                "client_core": client_core,
                "retries": config.retries,
                "clean_share": CLEAN_SHARE,
                "cold_runs": config.cold_runs,
                "memory_requests": config.memory_requests,
                "scenarios": sorted(config.scenarios),
            },
        }
    )
    if load_average[0] > 0.5:
        print(
            f"note: the machine is busy before the start (load average {load_average[0]:.2f}); "
            "figures will be noisier"
        )
    auth = authorization()
    pushes = workload()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    output = options.output or RESULTS / f"{stamp}.json"
    with tempfile.TemporaryDirectory(prefix="oneall-bench-") as scratch:
        folder = Path(scratch)
        requests_file = write_requests_file(pushes, folder)
        if "load" in config.scenarios:
            valid, _ = mixes(pushes, CEILING_WORLD)
            print(
                f"load: {config.rounds} rounds, {config.duration:g} s per run after "
                f"{config.warmup:g} s warm-up, {config.wrk.connections} connections; mixes of "
                f"{len(valid)} requests, {len(pushes) * PUSH_REPEAT} of them pushes",
                flush=True,
            )
            load_rounds(
                config,
                kinds=kinds,
                pushes=pushes,
                auth=auth,
                logs=folder,
                results=results,
            )
        if "cold" in config.scenarios and config.cold_runs > 0:
            print(f"cold start: {config.cold_runs} runs each", flush=True)
            cold_starts(config, kinds=kinds, pushes=pushes, auth=auth, logs=folder, results=results)
        if "memory" in config.scenarios and config.memory_requests > 0:
            print(f"memory: {config.memory_requests} requests each, fresh processes", flush=True)
            memory_fill(
                config,
                kinds=kinds,
                requests_file=requests_file,
                auth=auth,
                logs=folder,
                results=results,
            )
    if "fixtures" in config.scenarios:
        results.fixtures = fixture_costs(config.fixture_tests)
    table = rows(results)
    print_table(table, results)
    write_results(results, table, output)
    print(f"raw figures: {output}")
    failed = any(row.passed is False for row in table)
    return 1 if options.check and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
