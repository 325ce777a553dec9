"""The journal: every exchange with the push API, bounded in entries and in bytes, the oldest
dropped first and counted; what a client sends can never make it unreadable.

Entries are kept compact and *clean*: header values and paths that held bytes which are not
UTF-8 (aiohttp keeps them as lone surrogates) are stored with U+FFFD in their place, secrets
(``Authorization``, ``Proxy-Authorization``, ``Cookie``, the site's private key and the admin
token wherever they appear) are replaced by ``[redacted]``, and a body over the per-entry cap
is kept as its first bytes with its size and SHA-256. So every entry serialises to JSON, in
memory, through ``GET /__sandbox/journal`` and in ``--journal-file``, whatever was sent.

The byte budget counts what an entry costs once serialised (:meth:`Entry.cost`, a bound
above the length of its JSON text), so reading the whole journal produces at most
``--journal-max-bytes`` of entries.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from sandbox.api.control import INBOUND
from sandbox.config import DEFAULTS
from sandbox.model.bounds import FORGET_OLDEST, Bound, BoundedQueue
from sandbox.model.health import Troubles
from sandbox.validation.body import unpaired_surrogate

REDACTED = "[redacted]"
# Request headers whose values are credentials: never kept.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})

log = logging.getLogger("sandbox")

# Told of each entry as it is recorded (already compact); it must return at once and never
# raise: it runs inside the push that made the entry.
Listener = Callable[["Entry"], None]

# Header values up to this long are interned when an entry is recorded: the same few (host,
# content type, user agent ...) come with every request.
_INTERNED_VALUE_MAX = 64


def clean_text(value: str) -> str:
    """``value`` as a string that encodes to UTF-8: aiohttp keeps header and path bytes that
    are not UTF-8 as lone surrogates (``surrogateescape``), which no JSON encoder writes."""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        try:
            raw = value.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raw = value.encode("utf-8", "replace")
        return raw.decode("utf-8", "replace")
    return value


def _text_cost(value: str) -> int:
    """A bound above the length of ``value`` as a JSON string (quotes included): ASCII
    characters take one byte unless escaped (control characters, six), others up to four."""
    if value.isascii() and value.isprintable():
        return len(value) + 2 + value.count('"') + value.count("\\")
    return 6 * len(value) + 2


# The cost of the texts entries repeat (resource and provider names, identity tokens, the
# infos of refusals): most are found here.
_TEXT_COSTS: dict[str, int] = {}


def _known_text_cost(value: str) -> int:
    cost = _TEXT_COSTS.get(value)
    if cost is None:
        cost = _text_cost(value)
        if len(value) <= 256:
            if len(_TEXT_COSTS) >= 4096:
                _TEXT_COSTS.clear()
            _TEXT_COSTS[value] = cost
    return cost


@dataclass(slots=True, frozen=True)
class Truncated:
    """A body over the per-entry cap: its first ``kept`` bytes as text, its size and digest."""

    head: str
    size: int
    sha256: str
    kept: int

    @classmethod
    def of(cls, raw: bytes, cap: int) -> Truncated:
        head = raw[:cap].decode("utf-8", "ignore")  # a character cut in two is left out
        return cls(head, len(raw), hashlib.sha256(raw).hexdigest(), cap)

    def to_json(self) -> dict[str, Any]:
        return {"size": self.size, "sha256": self.sha256, "kept": self.kept}


@dataclass(slots=True)
class Entry:
    """One exchange; stages of the pipeline fill in what they learn as the request goes.

    Recorded, an entry is made compact and clean (:meth:`compact`)."""

    method: str
    path: str
    started: float
    request_headers: Mapping[str, str] | tuple[str, ...]
    direction: str = INBOUND
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
    warnings: tuple[str, ...] = ()  # what validation warned about (spec §6)
    detail: str | None = None  # the sandbox's precise sentence where info is the live API's

    def compact(self, *, body_cap: int, secrets: Collection[str] = ()) -> None:
        """What the journal keeps of a recorded entry, in far less memory than the request's
        objects, every string encodable and no secret: the headers as a flat
        ``(name, value, ...)`` tuple of interned strings, credentials redacted (the request's
        header proxy pins its whole multidict); a JSON body as its JSON text in bytes (sent
        out as is, never parsed again); a body that is not JSON as text; either one over
        ``body_cap`` bytes as :class:`Truncated`."""
        if not isinstance(self.request_headers, tuple):
            self.request_headers = flat_headers(self.request_headers)
        self.path = clean_text(self.path)
        if self.provider is not None:
            self.provider = sys.intern(self.provider)
        if self.info is not None:
            self.info = clean_text(self.info)
        body = self.body
        if body is not None and not isinstance(body, str | bytes | Truncated):
            body = json.dumps(body, separators=(",", ":")).encode("ascii")
        if isinstance(body, str):
            body = clean_text(body)
            if len(body) > body_cap // 4:  # a cheap test first: 4 bytes a character at most
                raw = body.encode("utf-8")
                if len(raw) > body_cap:
                    body = Truncated.of(raw, body_cap)
        elif isinstance(body, bytes) and len(body) > body_cap:
            body = Truncated.of(body, body_cap)
        elif isinstance(body, bytes) and nested_deeper(body, MAX_BODY_DEPTH):
            body = body.decode("utf-8", "replace")  # as text: any parser reads the journal
        self.body = body
        if self.warnings:
            self.warnings = tuple(clean_text(w) for w in bounded_warnings(self.warnings))
        if self.detail is not None:
            self.detail = clean_text(self.detail)
        if secrets:
            self._redact(secrets)

    def _redact(self, secrets: Collection[str]) -> None:
        """Every secret the sandbox was given, wherever a client put it."""
        for secret in secrets:
            if secret in self.path:
                self.path = self.path.replace(secret, REDACTED)
            if self.info is not None and secret in self.info:
                self.info = self.info.replace(secret, REDACTED)
            if self.detail is not None and secret in self.detail:
                self.detail = self.detail.replace(secret, REDACTED)
            if any(secret in warning for warning in self.warnings):
                self.warnings = tuple(w.replace(secret, REDACTED) for w in self.warnings)
            flat = self.request_headers
            if isinstance(flat, tuple) and secret in _flat_facts(flat)[1]:
                self.request_headers = tuple(
                    value.replace(secret, REDACTED) for value in self.request_headers
                )
            body = self.body
            if isinstance(body, bytes) and secret.encode() in body:
                self.body = body.replace(secret.encode(), REDACTED.encode())
            elif isinstance(body, str) and secret in body:
                self.body = body.replace(secret, REDACTED)
            elif isinstance(body, Truncated) and secret in body.head:
                self.body = Truncated(
                    body.head.replace(secret, REDACTED), body.size, body.sha256, body.kept
                )

    def headers(self) -> dict[str, str]:
        """The request headers, each name once (its first spelling and value, whatever the
        case), credentials redacted."""
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
                headers[name] = REDACTED if folded in SECRET_HEADERS else value
        return headers

    def request_body(self) -> Any:
        """The request body as a filter sees it: parsed JSON, the text that was not JSON, or
        None for a body too large to have been kept whole."""
        body = self.body
        if isinstance(body, bytes):
            return _parsed(body)
        return None if isinstance(body, Truncated) else body

    def _json(self, body: Any) -> dict[str, Any]:
        request: dict[str, Any] = {"headers": self.headers(), "body": body}
        if isinstance(self.body, Truncated):
            request["body"] = self.body.head
            request["body_truncated"] = self.body.to_json()
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
            "request": request,
            "response": {"status": self.status, "info": self.info, "data": self.data},
            "fault": self.fault,
            "warnings": list(self.warnings),
            "detail": self.detail,
        }

    def to_json(self) -> dict[str, Any]:
        """The entry as JSON data, the body parsed (as Python objects)."""
        body = self.body
        if isinstance(body, bytes):
            body = _parsed(body)
        return self._json(body)

    def to_bytes(self) -> bytes:
        """The entry as JSON text (UTF-8): the body's JSON text goes in as it is, unparsed, so
        a body nested as deep as a parser allows is served whatever the serialiser's limit."""
        body = self.body
        try:
            raw = orjson.Fragment(body) if isinstance(body, bytes) else body
            return orjson.dumps(self._json(raw))
        except (orjson.JSONEncodeError, TypeError):  # an integer over 64 bits in data
            return json.dumps(self.to_json(), ensure_ascii=True).encode("ascii")

    def cost(self) -> int:
        """A bound above ``len(self.to_bytes())``, without serialising: what the journal's
        byte budget counts. Once compact."""
        flat = self.request_headers
        assert isinstance(flat, tuple)
        total = _ENTRY_OVERHEAD + _text_cost(self.path) + len(self.method) + _flat_facts(flat)[0]
        for text in (self.resource, self.identity, self.provider, self.info, self.detail):
            if text is not None:
                total += _known_text_cost(text)
        for warning in self.warnings:
            total += _text_cost(warning) + 3
        body = self.body
        if isinstance(body, bytes):
            total += len(body)
        elif isinstance(body, str):
            total += _text_cost(body)
        elif isinstance(body, Truncated):
            total += _text_cost(body.head) + 200
        for value in (self.data, self.fault):
            if value is not None:
                total += _data_cost(value)
        return total


# A JSON body nested deeper than this is journaled as text: inside an entry, inside the
# journal's answer, it must stay within what common parsers read (Python ~1000 levels).
MAX_BODY_DEPTH = 500
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def nested_deeper(text: bytes, limit: int) -> bool:
    """Whether the JSON ``text`` nests arrays and objects deeper than ``limit``: counted
    only when it has that many brackets at all (a push has a handful)."""
    if text.count(b"[") + text.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b"", text).translate(None, _NOT_BRACKETS)
    return max(itertools.accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


# What the flat headers of recent requests cost and hold (their values joined, to look for
# secrets in one search): requests repeat their headers, so most find theirs known.
_FLAT_FACTS: dict[tuple[str, ...], tuple[int, str]] = {}


def _flat_facts(flat: tuple[str, ...]) -> tuple[int, str]:
    facts = _FLAT_FACTS.get(flat)
    if facts is None:
        if len(_FLAT_FACTS) >= _FLAT_HEADERS_MAX:
            _FLAT_FACTS.clear()
        cost = sum(_text_cost(part) + 2 for part in flat)
        facts = _FLAT_FACTS[flat] = (cost, "\n".join(flat))
    return facts


# The last data costed, and its cost: a push's result is costed for the published objects,
# then for its journal entry.
_last_data: tuple[object, int] = (None, 0)


def _data_cost(value: Any) -> int:
    global _last_data  # noqa: PLW0603 (a one-entry memo)
    if _last_data[0] is value:
        return _last_data[1]
    try:
        cost = len(orjson.dumps(value))
    except (orjson.JSONEncodeError, TypeError):
        cost = len(json.dumps(value, ensure_ascii=True))
    _last_data = (value, cost)
    return cost


def _parsed(body: bytes) -> Any:
    """A kept JSON body as Python objects; its text when it is nested deeper than Python's
    parser goes (orjson's limit is higher)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return body.decode("utf-8", "replace")


# What every entry costs besides its variable parts (keys, time, numbers at their widest).
_ENTRY_OVERHEAD = (
    len(orjson.dumps(Entry("", "", 0, ()).to_json())) + 20 + 20 + 16 + 3 + len("body_truncated")
)

# What an entry keeps of its warnings: a body of a thousand unknown keys has a thousand.
MAX_WARNINGS = 100
MAX_WARNING_CHARS = 1024


def bounded_warnings(warnings: tuple[str, ...]) -> tuple[str, ...]:
    """At most :data:`MAX_WARNINGS` warnings of :data:`MAX_WARNING_CHARS` characters, the last
    saying how many more there were."""
    kept = tuple(
        warning if len(warning) <= MAX_WARNING_CHARS else warning[: MAX_WARNING_CHARS - 1] + "…"
        for warning in warnings[:MAX_WARNINGS]
    )
    if len(warnings) > MAX_WARNINGS:
        kept = (*kept[:-1], f"and {len(warnings) - MAX_WARNINGS + 1} more warnings")
    return kept


# The flat headers of recent requests by their items: a client sends the same headers again
# and again (Content-Length aside), so most requests find theirs made, names and values shared.
_FLAT_HEADERS: dict[tuple[tuple[str, str], ...], tuple[str, ...]] = {}
_FLAT_HEADERS_MAX = 1024
_FLAT_HEADERS_ITEM_MAX = 2048  # bytes of headers: larger sets are not kept for reuse


def flat_headers(headers: Mapping[str, str]) -> tuple[str, ...]:
    """``(name, value, ...)`` in order, credentials redacted, every string encodable, short
    strings interned."""
    items = tuple(headers.items())
    flat = _FLAT_HEADERS.get(items)
    if flat is not None:
        return flat
    parts: list[str] = []
    size = 0
    for name, value in items:
        parts.append(sys.intern(clean_text(str(name))))
        size += len(name) + len(value)
        if name.lower() in SECRET_HEADERS:
            parts.append(REDACTED)
        elif len(value) <= _INTERNED_VALUE_MAX:
            parts.append(sys.intern(clean_text(str(value))))
        else:
            parts.append(clean_text(value))
    flat = tuple(parts)
    if size <= _FLAT_HEADERS_ITEM_MAX:
        if len(_FLAT_HEADERS) >= _FLAT_HEADERS_MAX:
            _FLAT_HEADERS.clear()
        _FLAT_HEADERS[items] = flat
    return flat


NO_FILTER: Any = object()  # a filter not given (``None`` is a JSON value one can look for)


def contains(actual: Any, expected: Any) -> bool:
    """``expected`` is part of ``actual``: every key it names has a matching value (objects
    recursively; anything else, lists too, is compared whole)."""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and contains(actual[key], value) for key, value in expected.items()
        )
    return bool(actual == expected)


def push_node(body: Any) -> Any:
    """The object node of a push body (``body["request"]["push"][<node>]``), or None."""
    try:
        push = body["request"]["push"]
        return next(iter(push.values())) if len(push) == 1 else None
    except (TypeError, KeyError, AttributeError):
        return None


def body_matches(body: Any, expected: Any) -> bool:
    """What a test means by "the body I sent": ``expected`` may be part of the whole request
    body or just of its object node (``{"message": "hi"}`` for a tweet). The handle's
    ``body=`` and the journal's ``?body=`` both ask this."""
    return contains(body, expected) or contains(push_node(body), expected)


def body_for_journal(raw: bytes) -> Any:
    """The body as sent: parsed JSON when it is JSON, else the text (bytes undecodable as
    UTF-8 replaced), so a test can always see what its code sent."""
    text = raw.decode("utf-8", errors="replace")
    try:
        body = json.loads(text.removeprefix("\ufeff"), parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return text
    return text if unpaired_surrogate(text, body) is not None else body


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class JournalFile:
    """``--journal-file``: every entry appended as one JSON line. A file that cannot be
    written (a full disk, a removed mount) costs the sandbox nothing but the lines: the
    problem is logged once, counted, and shown by ``GET /__sandbox/health``; writing is
    tried again with each entry and the recovery logged."""

    def __init__(self, path: Path, troubles: Troubles) -> None:
        self.path = path
        self._troubles = troubles
        self._fd: int | None = os.open(
            # O_NONBLOCK: a FIFO nobody reads is refused at start, not a start that hangs
            path,
            os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK,
            0o644,
        )

    def write(self, line: bytes) -> None:
        if self._fd is None:
            return
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as error:
            self._troubles.report(
                "journal_file",
                f"cannot write the journal file {self.path}: "
                f"{error.strerror or error}; entries are kept in memory only",
            )
        else:
            self._troubles.resolve("journal_file", f"the journal file {self.path} is written again")

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


# The defaults of the flags, read from where they are declared (a Journal made without
# Settings, as tests do, is bounded as the command's is).
JOURNAL_SIZE = DEFAULTS.journal_size
JOURNAL_MAX_BYTES = DEFAULTS.journal_max_bytes
JOURNAL_MAX_BODY = DEFAULTS.journal_max_body


@dataclass(slots=True)
class Journal:
    """Bounded in entries and bytes, newest last; ``dropped`` counts what the bound pushed
    out.

    Listeners (the dashboard's live views) are told of each entry recorded; with none, a push
    pays one truth test for them."""

    size: int = JOURNAL_SIZE
    sink: JournalFile | None = None
    max_bytes: int = JOURNAL_MAX_BYTES
    max_body: int = JOURNAL_MAX_BODY
    secrets: tuple[str, ...] = ()
    bound: Bound = field(init=False)
    _entries: BoundedQueue[Entry] = field(init=False)
    _next_id: int = 1
    _listeners: list[Listener] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bound = Bound(
            "journal",
            max_count=self.size,
            max_bytes=self.max_bytes,
            policy=FORGET_OLDEST,
            flags=("--journal-size", "--journal-max-bytes"),
        )
        self._entries = BoundedQueue(self.bound, cost=Entry.cost)

    @property
    def dropped(self) -> int:
        return self.bound.dropped

    def record(self, entry: Entry) -> None:
        entry.id = self._next_id
        self._next_id += 1
        entry.compact(body_cap=self.max_body, secrets=self.secrets)
        if self.sink is not None:
            self.sink.write(entry.to_bytes() + b"\n")
        self._entries.append(entry)
        if self._listeners:
            for listener in self._listeners:
                listener(entry)

    @property
    def watched(self) -> bool:
        """Whether any listener is told of new entries."""
        return bool(self._listeners)

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        """Stop telling ``listener``; one that is not subscribed is ignored."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def get(self, entry_id: int) -> Entry | None:
        """The kept entry with this id, or None."""
        entries = self._entries
        if not len(entries):
            return None
        index = entry_id - entries[0].id  # ids are consecutive, one per entry recorded ...
        if 0 <= index < len(entries) and entries[index].id == entry_id:
            return entries[index]
        index = bisect.bisect_left(entries, entry_id, key=_entry_id)  # ... or at least in order
        return entries[index] if index < len(entries) and entries[index].id == entry_id else None

    @property
    def last_id(self) -> int:
        """The id of the newest entry ever recorded (0 before the first), kept or not."""
        return self._next_id - 1

    def clear(self) -> None:
        """Forget every entry; ids keep increasing so ``since`` stays meaningful."""
        self._entries.clear()

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries.values())

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
        body: Any = NO_FILTER,
        warned: bool | None = None,
    ) -> list[Entry]:
        """Entries matching every filter given; ``since`` keeps ids greater than it, ``body``
        those whose request body contains it (:func:`body_matches`); ``warned``: with (True)
        or without (False) validation warnings."""
        return [
            entry
            for entry in self._entries.values()
            if (resource is None or entry.resource == resource)
            and (identity is None or entry.identity == identity)
            and (status is None or entry.status == status)
            and (since is None or entry.id > since)
            and (direction is None or entry.direction == direction)
            and (body is NO_FILTER or body_matches(entry.request_body(), body))
            and (warned is None or bool(entry.warnings) == warned)
        ]


def _entry_id(entry: Entry) -> int:
    return entry.id


OBJECTS_MAX_BYTES = DEFAULTS.objects_max_bytes
_OBJECT_OVERHEAD = 160  # resource, identity, time and the keys around them, serialised


class PublishedObjects:
    """What was "published", bounded like the journal in count and bytes (boards and
    playlists stay valid targets on their identity even when dropped from here).

    Each is kept as ``(resource, identity, time, data)``, ``data`` the very dict the journal
    entry and the answer hold (never changed once answered), and made a dict when read."""

    def __init__(self, size: int = JOURNAL_SIZE, max_bytes: int = OBJECTS_MAX_BYTES) -> None:
        self.bound = Bound(
            "objects",
            max_count=size,
            max_bytes=max_bytes,
            policy=FORGET_OLDEST,
            flags=("--journal-size", "--objects-max-bytes"),
        )
        self._objects: BoundedQueue[tuple[str, str, float, Mapping[str, Any]]] = BoundedQueue(
            self.bound, cost=_object_cost
        )

    @property
    def dropped(self) -> int:
        return self.bound.dropped

    def add(self, resource: str, identity: str, data: Mapping[str, Any], when: float) -> None:
        self._objects.append((resource, identity, when, data))

    def clear(self) -> None:
        self._objects.clear()

    def kept(self) -> list[tuple[str, str, float, Mapping[str, Any]]]:
        """``(resource, identity, time, data)`` of each, oldest first, ``data`` the very dict
        the journal entry holds (so a view can find the entry that published it)."""
        return self._objects.values()

    def of(self, identity: str) -> list[tuple[str, float, Mapping[str, Any]]]:
        """``(resource, time, data)`` of what one identity published, oldest first."""
        return [
            (r, when, data) for r, token, when, data in self._objects.values() if token == identity
        ]

    def all(self) -> list[dict[str, Any]]:
        return [
            {
                "resource": resource,
                "identity": identity,
                "time": datetime.fromtimestamp(when, UTC).isoformat(timespec="milliseconds"),
                **data,
            }
            for resource, identity, when, data in self._objects.values()
        ]


def _object_cost(item: tuple[str, str, float, Mapping[str, Any]]) -> int:
    return _OBJECT_OVERHEAD + len(item[1]) + _data_cost(item[3])
