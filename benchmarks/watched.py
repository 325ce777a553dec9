"""Run a sandbox command with one dashboard tab watching it: for ``ab.py``, to measure what an
open dashboard costs a push::

    python benchmarks/ab.py --a oneall-sandbox --b "python benchmarks/watched.py oneall-sandbox"

The command's ``--port 0`` is replaced by a free port chosen here; a child process (on
``--watcher-core``, default 1, away from the server's) connects to
``/__sandbox/ui/events`` as a browser's EventSource would and reads every event until the
server goes away. This process then *becomes* the server (exec), so ``ab.py`` measures the
server's own CPU time, not the watcher's.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import sys
import time

WATCHER_CORE = int(os.environ.get("WATCHER_CORE", "1"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def watch(port: int) -> None:
    """Read the event stream until the server closes it; retry while it starts."""
    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, {WATCHER_CORE})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=None)
            connection.request(
                "GET", "/__sandbox/ui/events", headers={"Accept": "text/event-stream"}
            )
            response = connection.getresponse()
        except OSError:
            time.sleep(0.05)
            continue
        if response.status != 200:
            sys.exit(f"watcher: the events answered {response.status}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            while response.read1(65536):
                pass
        return


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit(__doc__)
    command = list(argv)
    port = free_port()
    for index in range(len(command) - 1):
        if command[index] == "--port":
            command[index + 1] = str(port)
    if "--port" not in command:
        command += ["--port", str(port)]
    if os.fork() == 0:
        watch(port)
        os._exit(0)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
