"""Soak: a million mixed requests (valid, refused, faulted) at 64 connections against the real
CLI, then what the sandbox says of them.

    .venv/bin/python benchmarks/soak.py [--requests 1000000] [--connections 64]

Reports the answers by status, the 5xx count (no injected fault answers 5xx, so it must be 0),
the journal's recorded and dropped entries against the requests that reached the sandbox
(nothing may be lost beyond the bound), and the memory before, midway and after (flat once
the bounds are full). Needs wrk (see benchmarks/README.md). Never part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.run import (
    ServerKind,
    WrkOptions,
    authorization,
    proc_status,
    run_wrk,
    running,
    sandbox_command,
    workload,
    write_requests_file,
)


def journal_counts(url: str) -> tuple[int, int, int]:
    """(entries kept, dropped, id of the newest entry) from the control plane."""
    with urllib.request.urlopen(f"{url}/__sandbox/journal", timeout=60) as response:
        journal = json.load(response)
    entries = journal["entries"]
    return len(entries), journal["dropped"], entries[-1]["id"] if entries else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000, help="default 1,000,000")
    parser.add_argument("--connections", type=int, default=64, help="default 64")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds, default 1800")
    options = parser.parse_args(argv)
    wrk = WrkOptions(threads=1, connections=options.connections, core=None)
    with tempfile.TemporaryDirectory(prefix="oneall-soak-") as folder:
        logs = Path(folder)
        requests_file = write_requests_file(workload(), logs)
        kind = ServerKind("sandbox", sandbox_command(()))
        with running(kind, None, logs) as server:
            before = proc_status(server.pid)
            halves = []
            for half in (1, 2):
                result = run_wrk(
                    wrk,
                    "soak.lua",
                    server.url,
                    options.timeout,
                    [str(requests_file), authorization(), str(options.requests // 2)],
                    done_file=logs / f"soak-{half}.done",
                )
                halves.append((result, proc_status(server.pid)))
            kept, dropped, newest = journal_counts(server.url)
    statuses: dict[str, int] = {}
    for result, _ in halves:
        for status, count in result["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    answered = sum(statuses.values())
    errors = {
        key: sum(result["errors"][key] for result, _ in halves) for key in halves[0][0]["errors"]
    }
    server_errors = sum(count for status, count in statuses.items() if status.startswith("5"))
    seconds = sum(result["duration_us"] for result, _ in halves) / 1e6
    print(f"requests answered   {answered:,} in {seconds:.0f} s ({answered / seconds:,.0f}/s)")
    print("answers by status   " + ", ".join(f"{s}: {n:,}" for s, n in sorted(statuses.items())))
    print(f"5xx answers         {server_errors}")
    print(f"wrk socket errors   {errors} (injected connection resets are read errors)")
    print(
        f"journal             {kept:,} kept + {dropped:,} dropped = {kept + dropped:,} recorded; "
        f"= the {answered:,} answers counted by wrk + injected resets + requests in flight when "
        f"wrk stopped; newest id {newest:,}"
    )
    print(
        "memory (VmRSS)      "
        f"start {before['VmRSS'] / 1024:.1f} MiB, half {halves[0][1]['VmRSS'] / 1024:.1f} MiB, "
        f"end {halves[1][1]['VmRSS'] / 1024:.1f} MiB (peak {halves[1][1]['VmHWM'] / 1024:.1f})"
    )
    # Every answered request was recorded (dropped ones counted); injected resets reach the
    # sandbox too but wrk counts them as read errors, not answers.
    lost = max(0, answered - (kept + dropped))
    ok = server_errors == 0 and lost == 0 and statuses.get("other", 0) == 0
    print(f"verdict             {'PASS' if ok else 'FAIL'}: {server_errors} 5xx, {lost} lost")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
