"""Microseconds to validate a body: the 21 example bodies (valid), the same bodies refused
(an unknown key in the node and, where it has one, a URL replaced by a file name, as
``wrk/mix.lua`` sends them) in the strict profile, and the same bodies with only the
unknown key, taken with a warning by the live profile, through the public ``Validators`` API.

    python benchmarks/validation.py [--repeat N]

Prints the median over ``--rounds`` rounds of the mean per body of each kind.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from sandbox.api.errors import BadRequest  # noqa: E402
from sandbox.api.push import ENDPOINTS  # noqa: E402
from sandbox.validation.schemas import Validators  # noqa: E402

URL_KEYS = ("url", "video_url", "link", "picture", "image_url")


def bodies() -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    valid, refused = [], []
    for endpoint in ENDPOINTS:
        path = HERE.parent / "fixtures" / "requests" / f"{endpoint.name}.json"
        body = json.loads(path.read_text())
        valid.append((endpoint.name, body))
        bad = copy.deepcopy(body)
        node = bad["request"]["push"][endpoint.node]
        node["unknown_key"] = 1
        for key in URL_KEYS:
            if key in node:
                node[key] = "picture.png"
                break
        refused.append((endpoint.name, bad))
    return valid, refused


def warned(valid: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The valid bodies with an unknown key: what the live profile takes with a warning."""
    cases = []
    for name, body in valid:
        changed = copy.deepcopy(body)
        next(iter(changed["request"]["push"].values()))["unknown_key"] = 1
        cases.append((name, changed))
    return cases


def per_body(
    validators: Validators, cases: list[tuple[str, Any]], repeat: int, profile: str = "strict"
) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        for name, body in cases:
            with contextlib.suppress(BadRequest):
                validators.check(name, body, profile=profile)
    return (time.perf_counter() - started) / (repeat * len(cases)) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2000, help="passes over the 21 bodies")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    validators = Validators.load(endpoint.name for endpoint in ENDPOINTS)
    valid, refused = bodies()
    for name, body in valid:  # every example is valid, every changed one refused
        validators.validate(name, body)
    for name, body in refused:
        try:
            validators.validate(name, body)
        except BadRequest:
            continue
        raise SystemExit(f"{name}: the changed body was accepted")
    per_body(validators, valid + refused, 10)  # warm: first refusals build their wording
    for label, cases, repeat, profile in (
        ("valid body", valid, args.repeat, "strict"),
        ("refused body (worded)", refused, max(1, args.repeat // 10), "strict"),
        ("warned body (live)", warned(valid), max(1, args.repeat // 10), "live"),
    ):
        figures = [per_body(validators, cases, repeat, profile) for _ in range(args.rounds)]
        print(f"{label:24} {statistics.median(figures):8.1f} µs")


if __name__ == "__main__":
    main()
