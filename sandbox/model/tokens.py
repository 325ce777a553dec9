"""Tokens the sandbox hands out (users, connections, identities of new users, sharing
messages): lowercase UUIDs, reproducible under a seed, random without one."""

from __future__ import annotations

import hashlib
import uuid


def _as_uuid(digest: bytes) -> str:
    return str(uuid.UUID(bytes=digest[:16], version=4))


def derived(kind: str, token: str) -> str:
    """The same token for the same ``(kind, token)`` in every run: the user of a start-up
    identity, so documentation and tests can name it."""
    return _as_uuid(hashlib.blake2b(f"{kind}:{token}".encode(), digest_size=16).digest())


class TokenSource:
    """``new(kind)``: with a seed, the n-th token of a kind is the same in every run."""

    def __init__(self, seed: int | None) -> None:
        self.reseed(seed)

    def reseed(self, seed: int | None) -> None:
        self._seed = seed
        self._counts: dict[str, int] = {}

    def new(self, kind: str) -> str:
        if self._seed is None:
            return str(uuid.uuid4())
        count = self._counts[kind] = self._counts.get(kind, 0) + 1
        material = f"{self._seed}:{kind}:{count}".encode()
        return _as_uuid(hashlib.blake2b(material, digest_size=16).digest())
