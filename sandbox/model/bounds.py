"""Bounds: every store the sandbox keeps holds at most so many items and so many bytes.

A sandbox runs for hours in CI next to clients that may send anything: a store that grows
with what clients send (the journal, published objects, identities, created boards, video
jobs, fault rules, their counters ...) must stop growing somewhere, say where, and say what
it gave up. This module is that one mechanism, so a store added later (connections, users,
sharing messages, dashboard clients) gets the same limits, flags and health report by
declaring a :class:`Bound` and keeping its items in a :class:`BoundedStore`.

A :class:`Bound` is the accounting of one store: its limits (a count, and optionally bytes),
what happens when an item does not fit, and the counters ``GET /__sandbox/health`` shows.
Two policies:

- ``FORGET_OLDEST``: the new item is kept and the oldest ones are forgotten until the store
  fits again; ``dropped`` and ``dropped_bytes`` count them. For records (the journal, what
  was published, finished jobs): the newest matter most.
- ``REFUSE``: the new item is refused with :class:`BoundFull` (a ``RequestError``: the
  caller's answer says which flag raises the limit); ``refused`` counts them. For what a
  user armed or registered on purpose (fault rules, registered identities, unfinished jobs):
  forgetting it silently would change what the sandbox does.

The cost of an item is what the caller says it is; for stores that can be read back as JSON
it is the length of its JSON text (or a bound above it), so ``max_bytes`` bounds what
reading the whole store produces as well as, roughly, the memory it takes.

Usage, for a new store of (say) Social Login connections::

    from sandbox.model.bounds import Bound, BoundedStore, FORGET_OLDEST

    bound = Bound(
        "connections",
        max_count=settings.max_connections,       # a row of sandbox.config.OPTIONS
        max_bytes=settings.connections_max_bytes,
        policy=FORGET_OLDEST,
        flags=("--max-connections", "--connections-max-bytes"),
    )
    connections: BoundedStore[str, Connection] = BoundedStore(
        bound, cost=lambda connection: len(connection.to_json_bytes())
    )
    connections.put(connection.token, connection)   # may forget the oldest ones
    connections.get(token)                          # None once forgotten
    sandbox.bounds.append(bound)                    # listed by GET /__sandbox/health

A record read oldest first and never looked up by key (the journal) keeps its items in a
:class:`BoundedQueue` instead: a fifth of the memory per item.

A store whose items are kept elsewhere (e.g. targets inside identities) uses a Bound alone:
``bound.take(cost)`` when an item is kept, ``bound.give_back(cost, dropped=True)`` when the
bound makes it forget one, and ``bound.over()`` to know whether to forget another.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from sandbox.api.errors import RequestError

FORGET_OLDEST = "forget_oldest"
REFUSE = "refuse"
POLICIES = (FORGET_OLDEST, REFUSE)

K = TypeVar("K")
V = TypeVar("V")


class BoundFull(RequestError):
    """An item refused because its store is full (policy ``REFUSE``); the info says which
    flag raises the limit. 507 Insufficient Storage unless the store chooses otherwise (503
    with Retry-After where waiting frees room, as for unfinished video jobs)."""

    status = 507


class Bound:
    """The limits and counters of one store. ``None`` for a limit means unlimited."""

    __slots__ = (
        "count",
        "dropped",
        "dropped_bytes",
        "flags",
        "max_bytes",
        "max_count",
        "name",
        "policy",
        "refused",
        "size",
    )

    def __init__(
        self,
        name: str,
        *,
        max_count: int | None,
        max_bytes: int | None = None,
        policy: str = FORGET_OLDEST,
        flags: tuple[str, ...] = (),
    ) -> None:
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {policy!r}")
        self.name = name
        self.max_count = max_count
        self.max_bytes = max_bytes
        self.policy = policy
        self.flags = flags
        self.count = 0  # items held
        self.size = 0  # their bytes
        self.dropped = 0  # forgotten by the bound (FORGET_OLDEST)
        self.dropped_bytes = 0
        self.refused = 0  # refused by the bound (REFUSE)

    def over(self) -> bool:
        """Whether the store holds more than its limits allow."""
        return (self.max_count is not None and self.count > self.max_count) or (
            self.max_bytes is not None and self.size > self.max_bytes
        )

    def fits(self, cost: int, count: int = 1) -> bool:
        """Whether ``count`` more items of ``cost`` bytes would stay within the limits."""
        return (self.max_count is None or self.count + count <= self.max_count) and (
            self.max_bytes is None or self.size + cost <= self.max_bytes
        )

    def admit(self, cost: int, count: int = 1, *, what: str = "item") -> None:
        """Under ``REFUSE``, raise :class:`BoundFull` unless the items fit; else nothing."""
        if self.policy == REFUSE and not self.fits(cost, count):
            self.refused += count
            raise self.full(what)

    def full(
        self, what: str, *, status: int | None = None, headers: dict[str, str] | None = None
    ) -> BoundFull:
        """The refusal of an item that does not fit, naming the limit and its flag."""
        limits = []
        if self.max_count is not None:
            limits.append(f"{self.max_count} items")
        if self.max_bytes is not None:
            limits.append(f"{self.max_bytes} bytes")
        flags = f" (raise it with {' / '.join(self.flags)})" if self.flags else ""
        return BoundFull(
            f"Cannot keep the {what}: the sandbox's {self.name} store is full, it holds at most "
            f"{' and '.join(limits)}{flags}",
            status=status,
            headers=headers,
        )

    def take(self, cost: int, count: int = 1) -> None:
        self.count += count
        self.size += cost

    def give_back(self, cost: int, count: int = 1, *, dropped: bool = False) -> None:
        """Items left the store; ``dropped`` when the bound forgot them (counted)."""
        self.count -= count
        self.size -= cost
        if dropped:
            self.dropped += count
            self.dropped_bytes += cost

    def reset(self) -> None:
        """The store was emptied on purpose: nothing held, nothing dropped."""
        self.count = self.size = self.dropped = self.dropped_bytes = self.refused = 0

    def report(self) -> dict[str, Any]:
        """For ``GET /__sandbox/health``."""
        return {
            "count": self.count,
            "max_count": self.max_count,
            "bytes": self.size,
            "max_bytes": self.max_bytes,
            "policy": self.policy,
            "dropped": self.dropped,
            "dropped_bytes": self.dropped_bytes,
            "refused": self.refused,
        }


def _no_cost(value: object) -> int:
    return 0


class BoundedStore(Generic[K, V]):
    """Items by key, oldest first, within a :class:`Bound`.

    ``put`` of a key already held replaces it (not counted as dropped) and makes it the
    newest; ``touch`` makes an item the newest without changing it (least recently used
    forgotten first). ``on_drop`` hears of each item the bound forgets.
    """

    __slots__ = ("_costs", "_items", "bound", "cost", "on_drop")

    def __init__(
        self,
        bound: Bound,
        *,
        cost: Callable[[V], int] = _no_cost,
        on_drop: Callable[[K, V], None] | None = None,
    ) -> None:
        self.bound = bound
        self.cost = cost
        self.on_drop = on_drop
        self._items: OrderedDict[K, V] = OrderedDict()
        self._costs: dict[K, int] = {}

    def put(self, key: K, value: V, *, what: str = "item") -> None:
        """Keep ``value``; under ``REFUSE`` raise :class:`BoundFull` when it does not fit,
        under ``FORGET_OLDEST`` forget the oldest items until the store fits again (never the
        new one: a single item larger than ``max_bytes`` is kept alone)."""
        cost = self.cost(value)
        bound = self.bound
        costs = self._costs
        old = costs.get(key)
        if old is not None:
            bound.give_back(old)  # replaced: room for its new value
        if bound.policy == REFUSE:
            try:
                bound.admit(cost, what=what)
            except BoundFull:
                if old is not None:
                    bound.take(old)
                raise
        items = self._items
        if old is not None:
            del items[key]
        items[key] = value
        costs[key] = cost
        bound.count += 1
        bound.size += cost
        # inline Bound.over(): this runs for every journal entry
        max_count, max_bytes = bound.max_count, bound.max_bytes
        while (
            (max_count is not None and bound.count > max_count)
            or (max_bytes is not None and bound.size > max_bytes)
        ) and len(items) > 1:
            self._forget_oldest()

    def _forget_oldest(self) -> None:
        key, value = self._items.popitem(last=False)
        self.bound.give_back(self._costs.pop(key), dropped=True)
        if self.on_drop is not None:
            self.on_drop(key, value)

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def touch(self, key: K) -> None:
        self._items.move_to_end(key)

    def pop(self, key: K) -> V | None:
        """Remove an item on purpose (not counted as dropped)."""
        value = self._items.pop(key, None)
        if value is not None:
            self.bound.give_back(self._costs.pop(key))
        return value

    def clear(self) -> None:
        self._items.clear()
        self._costs.clear()
        self.bound.reset()

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def values(self) -> list[V]:
        """A copy, oldest first: safe to read while the store changes."""
        return list(self._items.values())

    def items(self) -> list[tuple[K, V]]:
        return list(self._items.items())


class BoundedQueue(Generic[V]):
    """Items in the order they came, within a ``FORGET_OLDEST`` :class:`Bound`: a record
    read oldest first and never looked up by key (the journal, what was published).

    A :class:`BoundedStore` pays a key, an ordered-dict node and a cost entry per item (about
    200 bytes, and tables of 10,000 slots reallocated as it churns); here an item costs a
    slot in each of two deques and its cost as an int (about 40 bytes).
    """

    __slots__ = ("_costs", "_items", "bound", "cost")

    def __init__(self, bound: Bound, *, cost: Callable[[V], int] = _no_cost) -> None:
        if bound.policy != FORGET_OLDEST:
            raise ValueError("a BoundedQueue forgets its oldest items: FORGET_OLDEST only")
        self.bound = bound
        self.cost = cost
        self._items: deque[V] = deque()
        self._costs: deque[int] = deque()

    def append(self, value: V) -> None:
        """Keep ``value`` as the newest; forget the oldest items until the store fits again
        (never the new one: a single item larger than ``max_bytes`` is kept alone)."""
        cost = self.cost(value)
        bound = self.bound
        items, costs = self._items, self._costs
        items.append(value)
        costs.append(cost)
        bound.take(cost)
        while bound.over() and len(items) > 1:
            items.popleft()
            bound.give_back(costs.popleft(), dropped=True)

    def __getitem__(self, index: int) -> V:
        """The item at ``index``, the oldest at 0 (a deque: steps of 64 items to get there)."""
        return self._items[index]

    def clear(self) -> None:
        self._items.clear()
        self._costs.clear()
        self.bound.reset()

    def __len__(self) -> int:
        return len(self._items)

    def values(self) -> list[V]:
        """A copy, oldest first: safe to read while the store changes."""
        return list(self._items)


class InFlight:
    """Bytes of request bodies being read at once, within the bound's ``max_bytes``: a body
    that would go over waits, first come first served, for others to be read; past
    ``timeout`` it is refused (the caller answers 503 with Retry-After). One body alone
    always fits (``--max-body`` bounds it). ``bound.count`` is the bodies being read."""

    __slots__ = ("_waiters", "bound")

    def __init__(self, bound: Bound) -> None:
        self.bound = bound
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()

    def _fits(self, size: int) -> bool:
        return not self.bound.count or self.bound.fits(size)

    async def take(self, size: int, timeout: float) -> bool:
        """Room for ``size`` bytes, waiting up to ``timeout`` seconds; False when none."""
        if not self._waiters and self._fits(size):
            self.bound.take(size)
            return True
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((size, waiter))
        try:
            async with asyncio.timeout(timeout):
                await waiter  # its room is taken for it by give_back
        except TimeoutError:
            if waiter.done() and not waiter.cancelled():  # room came at the last moment
                return True
            self._waiters.remove((size, waiter))
            self.bound.refused += 1
            return False
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.give_back(size)
            else:
                self._waiters.remove((size, waiter))
            raise
        return True

    def give_back(self, size: int) -> None:
        self.bound.give_back(size)
        while self._waiters and self._fits(self._waiters[0][0]):
            size, waiter = self._waiters.popleft()
            if not waiter.done():
                self.bound.take(size)
                waiter.set_result(None)
