"""Troubles: what keeps the sandbox from doing all its work while it goes on serving.

A sandbox degrades instead of dying: a journal file it cannot write, file descriptors run
out. Each trouble is logged once when it starts (not once per request: a full disk under
load would flood the log), counted while it lasts, logged again when it ends, and listed by
``GET /__sandbox/health``, which answers 200 with ``"status": "degraded"`` so a container's
health check keeps passing while a test can see why.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("sandbox")

# What the health report's status says: all is well, or some trouble is current.
OK, DEGRADED = HEALTH_STATUSES = ("ok", "degraded")


@dataclass(slots=True)
class Trouble:
    reason: str
    since: float
    count: int = 1
    active: bool = True
    last: float = 0.0
    lasting: float | None = None  # seconds it stays current after its last report, if set

    def to_json(self, name: str) -> dict[str, Any]:
        return {"name": name, "reason": self.reason, "count": self.count, "active": self.active}


@dataclass(slots=True)
class Troubles:
    """Every trouble by name, the current ones first in the health report."""

    _by_name: dict[str, Trouble] = field(default_factory=dict)

    def report(self, name: str, reason: str, *, lasting: float | None = None) -> None:
        """It happened (again): logged when it starts, counted each time. With ``lasting``,
        it is over once that many seconds pass without another report (for troubles nothing
        announces the end of, such as running out of file descriptors)."""
        now = time.time()
        self._expire(now)
        trouble = self._by_name.get(name)
        if trouble is not None and trouble.active:
            trouble.count += 1
            trouble.last = now
            return
        if trouble is None:
            trouble = self._by_name[name] = Trouble(reason, now, count=0)
        trouble.reason, trouble.active, trouble.count = reason, True, trouble.count + 1
        trouble.last, trouble.lasting = now, lasting
        log.warning("degraded: %s", reason)

    def _expire(self, now: float) -> None:
        for trouble in self._by_name.values():
            lasting = trouble.lasting
            if trouble.active and lasting is not None and now - trouble.last > lasting:
                trouble.active = False
                log.warning("recovered: %s (not seen for %gs)", trouble.reason, lasting)

    def resolve(self, name: str, message: str) -> None:
        """It is over: logged once; its count stays in the report."""
        trouble = self._by_name.get(name)
        if trouble is not None and trouble.active:
            trouble.active = False
            log.warning("recovered: %s", message)

    @property
    def degraded(self) -> bool:
        self._expire(time.time())
        return any(trouble.active for trouble in self._by_name.values())

    def to_json(self) -> list[dict[str, Any]]:
        self._expire(time.time())
        return [trouble.to_json(name) for name, trouble in self._by_name.items()]
