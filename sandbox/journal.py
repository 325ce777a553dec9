"""The journal: every exchange with the push API, bounded, oldest dropped first and counted."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from sandbox.jsontext import unpaired_surrogate

REDACTED = "[redacted]"


@dataclass(slots=True)
class Entry:
    """One exchange; stages of the pipeline fill in what they learn as the request goes."""

    method: str
    path: str
    started: float
    request_headers: Mapping[str, str]
    direction: str = "inbound"
    id: int = 0
    duration_ms: float = 0.0
    resource: str | None = None
    identity: str | None = None
    provider: str | None = None
    body: Any = None
    status: int | None = None
    info: str | None = None
    data: Any = None
    fault: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        headers = dict(self.request_headers)
        for name in headers:
            if name.lower() == "authorization":
                headers[name] = REDACTED
        return {
            "id": self.id,
            "time": datetime.fromtimestamp(self.started, UTC).isoformat(timespec="milliseconds"),
            "duration_ms": round(self.duration_ms, 3),
            "method": self.method,
            "path": self.path,
            "resource": self.resource,
            "identity": self.identity,
            "provider": self.provider,
            "direction": self.direction,
            "request": {"headers": headers, "body": self.body},
            "response": {"status": self.status, "info": self.info, "data": self.data},
            "fault": self.fault,
        }


def body_for_journal(raw: bytes) -> Any:
    """The body as sent: parsed JSON when it is JSON, else the text (bytes undecodable as
    UTF-8 replaced), so a test can always see what its code sent."""
    text = raw.decode("utf-8", errors="replace")
    try:
        body = json.loads(text.removeprefix("\ufeff"))
    except (ValueError, RecursionError):
        return text
    return text if unpaired_surrogate(text, body) is not None else body


@dataclass(slots=True)
class Journal:
    """Bounded, newest last; ``dropped`` counts what the bound pushed out."""

    size: int = 10_000
    sink: IO[str] | None = None
    dropped: int = 0
    _entries: deque[Entry] = field(default_factory=deque)
    _next_id: int = 1

    def record(self, entry: Entry) -> None:
        entry.id = self._next_id
        self._next_id += 1
        if len(self._entries) >= self.size:
            self._entries.popleft()
            self.dropped += 1
        self._entries.append(entry)
        if self.sink is not None:
            self.sink.write(json.dumps(entry.to_json(), ensure_ascii=False) + "\n")
            self.sink.flush()

    def clear(self) -> None:
        """Forget every entry; ids keep increasing so ``since`` stays meaningful."""
        self._entries.clear()
        self.dropped = 0

    def __iter__(self) -> Iterator[Entry]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def select(
        self,
        *,
        resource: str | None = None,
        identity: str | None = None,
        status: int | None = None,
        since: int | None = None,
        direction: str | None = None,
    ) -> list[Entry]:
        """Entries matching every filter given; ``since`` keeps ids greater than it."""
        return [
            entry
            for entry in self._entries
            if (resource is None or entry.resource == resource)
            and (identity is None or entry.identity == identity)
            and (status is None or entry.status == status)
            and (since is None or entry.id > since)
            and (direction is None or entry.direction == direction)
        ]


@dataclass(slots=True)
class PublishedObjects:
    """What was "published", per identity, bounded like the journal (boards and playlists stay
    valid targets on their identity even when dropped from here)."""

    size: int = 10_000
    dropped: int = 0
    _objects: deque[dict[str, Any]] = field(default_factory=deque)

    def add(self, resource: str, identity: str, data: Mapping[str, Any], when: float) -> None:
        if len(self._objects) >= self.size:
            self._objects.popleft()
            self.dropped += 1
        self._objects.append(
            {
                "resource": resource,
                "identity": identity,
                "time": datetime.fromtimestamp(when, UTC).isoformat(timespec="milliseconds"),
                **data,
            }
        )

    def clear(self) -> None:
        self._objects.clear()
        self.dropped = 0

    def all(self) -> list[dict[str, Any]]:
        return list(self._objects)
