"""A/B of two server commands on a noisy machine: both up at once, the load alternating.

The machine's speed drifts by tens of percent within a minute, so two builds measured one
after the other differ by luck as much as by code. Here both servers run at the same time on
one core (the one not under load sits idle), and wrk on the other core loads each in turn
for ``--slice`` seconds, ``--pairs`` times, the first of each pair alternating: each pair sees
the same moment of the machine, and the median of the pairs' ratios is the answer::

    python benchmarks/ab.py --a "oneall-sandbox" --b "/path/to/other/.venv/bin/oneall-sandbox"
    python benchmarks/ab.py --a "python benchmarks/ceiling.py" --b oneall-sandbox --slice 5

Each command gets ``--port 0 -q`` appended and must print the sandbox's listening line. It
prints the median of A/B over the pairs with its quartiles, and each server's user and kernel
CPU time per request (from /proc). Keep slices of a few seconds: wrk's start is counted in
each, and an idle server may still finish work of its slice (video jobs) in the other's.
"""

from __future__ import annotations

import argparse
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.run import (  # noqa: E402
    LISTENING,
    WRK_SCRIPTS,
    authorization,
    mixes,
    workload,
    write_mix_file,
)

TICKS = 100  # clock ticks a second in /proc/<pid>/stat (USER_HZ, 100 on Linux)


@dataclass(slots=True)
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    rates: list[float] = field(default_factory=list)
    requests: int = 0
    user_ticks: int = 0
    kernel_ticks: int = 0

    def cpu_ticks(self) -> tuple[int, int]:
        stat = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(stat[11]), int(stat[12])


def start(name: str, command: str, core: int) -> Server:
    process = subprocess.Popen(
        ["taskset", "-c", str(core), *shlex.split(command), "--port", "0", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    line = process.stdout.readline().decode()
    found = LISTENING.search(line)
    if found is None:
        process.kill()
        sys.exit(f"{name}: {command!r} printed {line!r}, not the listening line")
    return Server(name, process, found.group(1))


def load(server: Server, seconds: float, script: str, args: list[str], core: int) -> None:
    """One wrk run against ``server``; its rate and CPU time are added to the server's."""
    user, kernel = server.cpu_ticks()
    out = subprocess.run(
        [
            *("taskset", "-c", str(core), "wrk", "-t1", "-c64", f"-d{seconds:g}s"),
            *("-s", script, server.url, "--", *args),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    if rate is None or count is None:
        sys.exit(f"wrk gave no rate:\n{out}")
    after_user, after_kernel = server.cpu_ticks()
    server.rates.append(float(rate.group(1)))
    server.requests += int(count.group(1))
    server.user_ticks += after_user - user
    server.kernel_ticks += after_kernel - kernel


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", required=True, help="the first server command")
    parser.add_argument("--b", required=True, help="the second server command")
    parser.add_argument(
        "--pairs", type=int, default=14, help="pairs of turns (at least 2, for the quartiles)"
    )
    parser.add_argument("--slice", type=float, default=3.0, help="seconds of load per turn")
    parser.add_argument("--refused", action="store_true", help="send the refused bodies")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    options = parser.parse_args()
    if options.pairs < 2:
        parser.error(
            f"--pairs must be at least 2 (the quartiles need two ratios), got {options.pairs}"
        )
    script = str(WRK_SCRIPTS / "mix.lua")
    # The pushes alone: the calls around the push need a world set up in each server.
    valid, refused = mixes(workload(), None)
    with tempfile.TemporaryDirectory(prefix="oneall-ab-") as folder:
        mix = refused if options.refused else valid
        args = [str(write_mix_file(mix, Path(folder) / "mix.tsv")), authorization()]
        servers = [
            start("A", options.a, options.server_core),
            start("B", options.b, options.server_core),
        ]
        try:
            for server in servers:  # warm-up, not counted
                load(
                    Server(server.name, server.process, server.url),
                    3,
                    script,
                    args,
                    options.client_core,
                )
            for pair in range(options.pairs):
                for server in servers if pair % 2 == 0 else servers[::-1]:
                    load(server, options.slice, script, args, options.client_core)
        finally:
            for server in servers:
                server.process.terminate()
                server.process.wait(timeout=30)
    a, b = servers
    ratios = sorted(x / y for x, y in zip(a.rates, b.rates, strict=True))
    quartiles = statistics.quantiles(ratios, n=4)
    print(
        f"A/B requests a second: median {statistics.median(ratios):.3f} "
        f"(quartiles {quartiles[0]:.3f}-{quartiles[2]:.3f}, {len(ratios)} pairs)"
    )
    for server in servers:
        per_request = 1e6 / TICKS / server.requests
        print(
            f"{server.name}: median {statistics.median(server.rates):,.0f} req/s, "
            f"user {server.user_ticks * per_request:.1f} us and kernel "
            f"{server.kernel_ticks * per_request:.1f} us a request"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
