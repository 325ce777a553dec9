"""Instructions per request, counted by callgrind: an A/B that a busy machine cannot disturb.

Throughput on a shared virtual machine moves by ±30 % from one minute to the next; the number
of instructions a server executes per request does not (the same to ±0.5 % run after run).
It is not time (cache misses and branch mispredictions are not in it), so it decides between
two versions of the code, not whether a target is met::

    python benchmarks/instructions.py                      # the sandbox, valid pushes
    python benchmarks/instructions.py --refused            # the detailed-error path
    python benchmarks/instructions.py --server ceiling     # the ceiling, for scale
    PYTHONPATH=/path/to/other/checkout python -P benchmarks/instructions.py   # another version
    python benchmarks/instructions.py --watch              # with a dashboard tab open

The server runs under ``valgrind --tool=callgrind --instr-atstart=no`` (start-up is not
counted), gets ``--warmup`` requests, then instrumentation is switched on for ``--requests``
requests over ``--connections`` keep-alive connections and the total is divided by them.
Needs valgrind (Debian package ``valgrind``); takes about 15 s.
"""

from __future__ import annotations

import argparse
import http.client
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.run import authorization, workload  # noqa: E402

PORT = 8111


def send(requests: list[tuple[str, bytes]], count: int, connections: int, auth: str) -> int:
    """POST ``count`` requests round-robin over ``connections`` threads; how many got 2xx/4xx."""
    answered = [0] * connections

    def worker(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=120)
        for number in range(index, count, connections):
            path, body = requests[number % len(requests)]
            headers = {"Authorization": auth, "Content-Type": "application/json"}
            connection.request("POST", path, body, headers)
            response = connection.getresponse()
            response.read()
            answered[index] += response.status < 500

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(answered)


def watch() -> None:
    """A dashboard tab: reads the journal's events until the server goes away."""
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=None)
    connection.request("GET", "/__sandbox/ui/events")
    response = connection.getresponse()
    if response.status != 200:
        raise SystemExit(f"the dashboard's events answered {response.status}")
    try:
        while response.read1(65536):
            pass
    except (OSError, http.client.HTTPException):
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=("sandbox", "ceiling"), default="sandbox")
    parser.add_argument("--refused", action="store_true", help="send the refused bodies")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument(
        "--watch",
        action="store_true",
        help="a dashboard tab reads /__sandbox/ui/events all along (its reading is not counted)",
    )
    options = parser.parse_args()
    command = (
        [sys.executable, "-P", "-m", "sandbox", "--port", str(PORT), "-q"]
        if options.server == "sandbox"
        else [sys.executable, "-P", str(HERE / "ceiling.py"), "--port", str(PORT), "-q"]
    )
    pushes = workload()
    requests = [
        (push.path, (push.refused if options.refused else push.valid).encode()) for push in pushes
    ]
    with tempfile.TemporaryDirectory(prefix="oneall-instructions-") as scratch:
        out = Path(scratch) / "callgrind.out"
        valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
        server = subprocess.Popen(
            [*valgrind, f"--callgrind-out-file={out}", *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            if "listening on" not in line:
                raise SystemExit(f"the server did not start: {line!r}")
            auth = authorization()
            if options.watch:
                threading.Thread(target=watch, daemon=True).start()
            send(requests, options.warmup, options.connections, auth)
            control = ["callgrind_control", "--instr=on", str(server.pid)]
            subprocess.run(control, check=True, capture_output=True)
            answered = send(requests, options.requests, options.connections, auth)
            control[1] = "--instr=off"
            subprocess.run(control, check=True, capture_output=True)
            dump = ["callgrind_control", "--dump", str(server.pid)]
            subprocess.run(dump, check=True, capture_output=True)
            time.sleep(1)
        finally:
            server.terminate()
            server.wait(timeout=60)
        total = sum(
            int(line.split()[1])
            for dump in Path(scratch).glob("callgrind.out*")
            for line in dump.read_text().splitlines()
            if line.startswith("totals:")
        )
    kind = "refused" if options.refused else "valid"
    watched = ", a dashboard tab watching" if options.watch else ""
    print(
        f"{options.server}{watched}: {total // options.requests:,} instructions per {kind} request "
        f"({options.requests} requests, {answered} answered, {options.connections} connections)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
