"""The journal: every exchange with the push API, bounded, oldest dropped first and counted."""

from __future__ import annotations

import json
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from sandbox.validation.body import unpaired_surrogate

REDACTED = "[redacted]"


# Header values up to this long are interned when an entry is recorded: the same few (host,
# content type, user agent ...) come with every request.
_INTERNED_VALUE_MAX = 64


@dataclass(slots=True)
class Entry:
    """One exchange; stages of the pipeline fill in what they learn as the request goes.

    Recorded, an entry is made compact (:meth:`compact`): the journal keeps 10,000 of them.
    """

    method: str
    path: str
    started: float
    request_headers: Mapping[str, str] | tuple[str, ...]
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

    def compact(self) -> None:
        """What the journal keeps of a recorded entry, in far less memory than the request's
        objects: the headers as a flat ``(name, value, ...)`` tuple of interned strings, the
        Authorization header already redacted (the request's header proxy pins its whole
        multidict); a JSON body as JSON text in bytes (parsed back by :meth:`to_json`; the
        pipeline hands over the body as received, a body that is not JSON stays the text it
        is)."""
        if not isinstance(self.request_headers, tuple):
            self.request_headers = flat_headers(self.request_headers)
        if self.provider is not None:
            self.provider = sys.intern(self.provider)
        if self.body is not None and not isinstance(self.body, str | bytes):
            self.body = json.dumps(self.body, separators=(",", ":")).encode("ascii")

    def headers(self) -> dict[str, str]:
        """The request headers, each name once (its first spelling and value, whatever the
        case), Authorization redacted."""
        flat = self.request_headers
        # Every header, repeated ones too: from the compact tuple, or from the request's
        # multidict, whose dict() keeps repeated names apart or not depending on its version.
        pairs: Iterable[tuple[str, str]] = (
            zip(flat[::2], flat[1::2], strict=True) if isinstance(flat, tuple) else flat.items()
        )
        headers: dict[str, str] = {}
        seen: set[str] = set()
        for name, value in pairs:
            folded = name.lower()
            if folded not in seen:
                seen.add(folded)
                headers[name] = REDACTED if folded == "authorization" else value
        return headers

    def to_json(self) -> dict[str, Any]:
        headers = self.headers()
        body = json.loads(self.body) if isinstance(self.body, bytes) else self.body
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
            "request": {"headers": headers, "body": body},
            "response": {"status": self.status, "info": self.info, "data": self.data},
            "fault": self.fault,
        }


# The flat headers of recent requests by their items: a client sends the same headers again
# and again (Content-Length aside), so most requests find theirs made, names and values shared.
_FLAT_HEADERS: dict[tuple[tuple[str, str], ...], tuple[str, ...]] = {}
_FLAT_HEADERS_MAX = 1024


def flat_headers(headers: Mapping[str, str]) -> tuple[str, ...]:
    """``(name, value, ...)`` in order, Authorization redacted, short strings interned."""
    items = tuple(headers.items())
    flat = _FLAT_HEADERS.get(items)
    if flat is not None:
        return flat
    parts: list[str] = []
    for name, value in items:
        parts.append(sys.intern(str(name)))
        if name.lower() == "authorization":
            parts.append(REDACTED)
        elif len(value) <= _INTERNED_VALUE_MAX:
            parts.append(sys.intern(str(value)))
        else:
            parts.append(value)
    flat = tuple(parts)
    if len(_FLAT_HEADERS) >= _FLAT_HEADERS_MAX:
        _FLAT_HEADERS.clear()
    _FLAT_HEADERS[items] = flat
    return flat


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
        if self.sink is not None:
            self.sink.write(json.dumps(entry.to_json(), ensure_ascii=False) + "\n")
            self.sink.flush()
        entry.compact()
        self._entries.append(entry)

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
    valid targets on their identity even when dropped from here).

    Each is kept as ``(resource, identity, time, data)``, ``data`` the very dict the journal
    entry and the answer hold (never changed once answered), and made a dict when read."""

    size: int = 10_000
    dropped: int = 0
    _objects: deque[tuple[str, str, float, Mapping[str, Any]]] = field(default_factory=deque)

    def add(self, resource: str, identity: str, data: Mapping[str, Any], when: float) -> None:
        if len(self._objects) >= self.size:
            self._objects.popleft()
            self.dropped += 1
        self._objects.append((resource, identity, when, data))

    def clear(self) -> None:
        self._objects.clear()
        self.dropped = 0

    def all(self) -> list[dict[str, Any]]:
        return [
            {
                "resource": resource,
                "identity": identity,
                "time": datetime.fromtimestamp(when, UTC).isoformat(timespec="milliseconds"),
                **data,
            }
            for resource, identity, when, data in self._objects
        ]
