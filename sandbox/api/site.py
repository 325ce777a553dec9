"""The site family: checking the site's keys (oneall-api.md §1)."""

from __future__ import annotations

from sandbox.api.calls import Call

CALLS: tuple[Call, ...] = (
    Call(
        "site.ping",
        "GET",
        "/tools/ping.json",
        "ping",
        "Check the site's keys: 200 when they are right, 401 otherwise",
        source="sdk",
    ),
)
