"""Live updates: the journal's entries to every open dashboard tab as Server-Sent Events.

Nothing listens to the journal while no tab is open: the hub subscribes when the first tab
connects and unsubscribes when the last leaves, so a push then pays one truth test. While
tabs are open, a push pays one list append: the entries of :data:`FLUSH_S` seconds are
encoded once, together, and handed to every tab in one write. Each tab is bounded: at most
:data:`MAX_PENDING_BYTES` of events wait for it (besides what the socket holds), and a tab
that falls that far behind (a stalled or very slow browser) is disconnected, its events
dropped, rather than holding memory or blocking the loop; the page reconnects and catches up
from the journal. At most
``--ui-max-clients`` tabs are served at once (a bound of :mod:`sandbox.model.bounds`, shown by
``GET /__sandbox/health``); more are refused with a 503.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import orjson
from aiohttp import web

from sandbox.api.control import INBOUND, OUTBOUND
from sandbox.api.push import BY_NAME
from sandbox.http.appkeys import SANDBOX
from sandbox.model.bounds import Bound
from sandbox.model.journal import Entry, Journal

MAX_PENDING_BYTES = 1024 * 1024  # events waiting for one tab before it is dropped
MAX_REPLAY = 512  # kept entries replayed to a reconnecting tab, the newest
FLUSH_S = 0.05  # entries go out together this often at most: a tab sees them 50 ms late at worst
HEARTBEAT_S = 15.0  # a comment line this often: proxies keep the stream, dead tabs are found


def summary(entry: Entry) -> dict[str, Any]:
    """What a row of the live journal shows of an entry."""
    fault = entry.fault
    return {
        "id": entry.id,
        "time": entry.started,
        "method": entry.method,
        "path": entry.path,
        "direction": entry.direction,
        "resource": entry.resource,
        "identity": entry.identity,
        "provider": entry.provider,
        "status": entry.status,
        "info": entry.info,
        "duration_ms": round(entry.duration_ms, 1),
        "fault": None
        if fault is None
        else {"id": fault.get("id"), "effect": fault.get("effect"), "preset": fault.get("preset")},
        "warnings": warnings(entry),
    }


def warnings(entry: Entry) -> list[str]:
    """What went through but deserves a look."""
    found = []
    endpoint = BY_NAME.get(entry.resource or "")
    if endpoint is not None and endpoint.deprecated and entry.direction == INBOUND:
        found.append(
            "deprecated: Facebook ended publishing to profiles on 2018-08-01; "
            "the live API refuses this resource"
        )
    if entry.direction == OUTBOUND and not (entry.status and 200 <= entry.status < 300):
        found.append("callback not accepted")
    return found


def event(entry: Entry) -> bytes:
    return b"id: %d\nevent: entry\ndata: %s\n\n" % (entry.id, orjson.dumps(summary(entry)))


class Watcher:
    """One open tab: the events waiting for it, and the connection to cut if it falls behind."""

    __slots__ = ("beat", "dropped", "limit", "pending", "size", "transport", "wake")

    def __init__(self, transport: asyncio.Transport | None, limit: int) -> None:
        self.pending: deque[bytes] = deque()
        self.size = 0  # bytes in pending
        self.limit = limit
        self.wake = asyncio.Event()
        self.dropped = False
        self.beat = False  # a keep-alive line is due
        self.transport = transport

    def offer(self, message: bytes) -> None:
        if self.dropped:
            return
        if self.size + len(message) > self.limit:
            self.drop()
            return
        self.pending.append(message)
        self.size += len(message)
        self.wake.set()

    def take(self) -> bytes:
        """Everything waiting, in one piece."""
        message = b"".join(self.pending)
        self.pending.clear()
        self.size = 0
        return message

    def drop(self) -> None:
        """Forget what waits and cut the connection: a write stuck on a full socket ends."""
        self.dropped = True
        self.pending.clear()
        self.size = 0
        self.wake.set()
        if self.transport is not None:
            self.transport.abort()


class Hub:
    """The open tabs, and the journal listener that feeds them while there are any. ``bound``
    (``--ui-max-clients``, in the health report) counts them: ``refused`` the tabs turned
    away, ``dropped`` those cut for falling behind."""

    def __init__(
        self,
        journal: Journal,
        bound: Bound,
        *,
        flush_s: float = FLUSH_S,
        max_pending_bytes: int = MAX_PENDING_BYTES,
    ) -> None:
        self.journal = journal
        self.bound = bound
        self.flush_s = flush_s
        self.max_pending_bytes = max_pending_bytes
        self.watchers: set[Watcher] = set()
        self._batch: list[Entry] = []
        self._closing = False
        self._heartbeat: asyncio.TimerHandle | None = None

    def join(self, transport: asyncio.Transport | None) -> Watcher:
        """A new tab's watcher; BoundFull (503) when ``--ui-max-clients`` tabs are open."""
        if not self.bound.fits(0):
            self.bound.refused += 1
            raise self.bound.full("live dashboard tab", status=503, headers={"Retry-After": "5"})
        self.bound.take(0)
        if not self.watchers:
            self.journal.subscribe(self._listen)
            self._heartbeat = asyncio.get_running_loop().call_later(HEARTBEAT_S, self._beat)
        watcher = Watcher(transport, self.max_pending_bytes)
        self.watchers.add(watcher)
        return watcher

    def leave(self, watcher: Watcher) -> None:
        if watcher not in self.watchers:
            return
        self.bound.give_back(0, dropped=watcher.dropped and not self._closing)
        self.watchers.discard(watcher)
        if not self.watchers:
            self.journal.unsubscribe(self._listen)
            self._batch.clear()
            if self._heartbeat is not None:
                self._heartbeat.cancel()
                self._heartbeat = None

    def _beat(self) -> None:
        """Every tab writes a keep-alive line (one timer for all, not one per tab)."""
        for watcher in self.watchers:
            watcher.beat = True
            watcher.wake.set()
        self._heartbeat = asyncio.get_running_loop().call_later(HEARTBEAT_S, self._beat)

    async def close(self) -> None:
        """The server stops: every stream ends."""
        self._closing = True
        for watcher in list(self.watchers):
            watcher.dropped = True
            watcher.wake.set()

    def _listen(self, entry: Entry) -> None:
        """On the push's path: one append; the first of a batch schedules its flush."""
        self._batch.append(entry)
        if len(self._batch) == 1:
            try:
                asyncio.get_running_loop().call_later(self.flush_s, self._flush)
            except RuntimeError:  # recorded outside the event loop: hand it over now
                self._flush()

    def _flush(self) -> None:
        batch, self._batch = self._batch, []
        if not batch or not self.watchers:
            return
        message = b"".join(event(entry) for entry in batch)
        for watcher in list(self.watchers):
            watcher.offer(message)


HUB = web.AppKey("ui_hub", Hub)


async def stream_events(request: web.Request) -> web.StreamResponse:
    """``GET /__sandbox/ui/events``: the journal's new entries as they are recorded
    (``event: entry``, data the row's JSON); ``Last-Event-ID`` or ``?since=`` first replays
    the kept entries after that id, so a reconnecting tab misses nothing still kept."""
    hub = request.app[HUB]
    watcher = hub.join(request.transport)
    try:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        since = request.headers.get("Last-Event-ID") or request.query.get("since")
        head = b"retry: 2000\n\n"
        if since is not None and since.isdigit():
            journal = request.app[SANDBOX].journal
            missed = journal.select(since=int(since))[-MAX_REPLAY:]
            head += b"".join(event(entry) for entry in missed)
        await response.write(head)
        while not watcher.dropped:
            await watcher.wake.wait()
            watcher.wake.clear()
            if watcher.pending:
                await response.write(watcher.take())
            elif watcher.beat and not watcher.dropped:
                await response.write(b": keep-alive\n\n")
            watcher.beat = False
    except ConnectionError:  # the tab went away, or was cut for falling behind
        pass
    finally:
        hub.leave(watcher)
    return response
