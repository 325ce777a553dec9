"""Social Login connections: who connected, as which identity, for which plugin; bounded,
the oldest forgotten first (oneall-api.md §2)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sandbox.api.connections import SOCIAL_LOGIN
from sandbox.model.bounds import FORGET_OLDEST, Bound, BoundedStore


@dataclass(slots=True)
class Connection:
    token: str
    identity_token: str
    user_token: str
    provider: str
    plugin: str = SOCIAL_LOGIN  # or SOCIAL_LINK
    action: str = "login"  # login, link_identity
    status: str = "success"
    callback_uri: str | None = None
    created: float = field(default_factory=time.time)


class Connections:
    """The connections made, by token, oldest first, within ``--max-connections``."""

    def __init__(self, size: int, max_bytes: int | None = None) -> None:
        self.bound = Bound(
            "connections",
            max_count=size,
            max_bytes=max_bytes,
            policy=FORGET_OLDEST,
            flags=("--max-connections", "--connections-max-bytes"),
        )
        self._items: BoundedStore[str, Connection] = BoundedStore(self.bound, cost=_cost)

    def add(self, connection: Connection) -> Connection:
        self._items.put(connection.token, connection)
        return connection

    def get(self, token: str) -> Connection | None:
        return self._items.get(token)

    def all(self) -> list[Connection]:
        return self._items.values()

    def clear(self) -> None:
        self._items.clear()


# Tokens, dates, plugin and action as answered: the callback URI is the only part that varies.
_CONNECTION_BYTES = 400


def _cost(connection: Connection) -> int:
    return _CONNECTION_BYTES + len((connection.callback_uri or "").encode("utf-8", "replace"))
