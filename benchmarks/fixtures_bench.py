"""Per-test cost of the pytest fixtures: setup + teardown of ``sandbox`` (a new sandbox on the
test's loop) and of ``sandbox_server`` (the shared threaded server's reset), median after the
first test. Run: python benchmarks/fixtures_bench.py [N]"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

import pytest

TESTS = """
import pytest

@pytest.mark.parametrize("n", range({n}))
@pytest.mark.asyncio
async def test_async(sandbox, n):
    assert sandbox.url

@pytest.mark.parametrize("n", range({n}))
def test_threaded(sandbox_server, n):
    assert sandbox_server.url
"""


class Durations:
    """Collects setup + teardown seconds per test, by fixture."""

    def __init__(self) -> None:
        self.seconds: dict[str, dict[str, float]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when in ("setup", "teardown"):
            per_test = self.seconds.setdefault(report.nodeid, {})
            per_test[report.when] = report.duration


def measure(rounds: int = 50) -> dict[str, float]:
    """Median per-test cost in ms, after the first test, keyed as benchmarks/run.py expects."""
    with tempfile.TemporaryDirectory() as folder:
        test_file = Path(folder) / "test_fixture_cost.py"
        test_file.write_text(TESTS.format(n=rounds))
        durations = Durations()
        code = pytest.main(
            [str(test_file), "-q", "-p", "no:cacheprovider", "-o", "asyncio_mode=strict"],
            plugins=[durations],
        )
    if code != 0:
        raise RuntimeError(f"the fixture benchmark's tests failed (pytest exit code {code})")
    medians = {}
    for kind, key in (("test_async", "sandbox"), ("test_threaded", "sandbox_server_reset")):
        costs = [
            (times.get("setup", 0) + times.get("teardown", 0)) * 1000
            for nodeid, times in durations.seconds.items()
            if f"::{kind}[" in nodeid
        ][1:]
        medians[key] = statistics.median(costs)
    return medians


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    medians = measure(count)
    print(f"\nper-test fixture cost, {count} tests each (setup + teardown, median after the first)")
    for key, target_ms in (("sandbox", 10.0), ("sandbox_server_reset", 2.0)):
        verdict = "PASS" if medians[key] <= target_ms else "FAIL"
        print(
            f"  {key:<21} median {medians[key]:6.2f} ms  (target <= {target_ms:.0f} ms)  {verdict}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
