"""Identities: who publishes, on which provider, to which pages, groups, boards and playlists."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TARGET_KINDS: tuple[str, ...] = ("pages", "groups", "companies", "boards", "playlists")


@dataclass(slots=True)
class Identity:
    """A connected social account. ``user`` holds ``id``, ``name`` and, where the network has
    one, ``screen_name``; each target is a dict with at least ``id`` and ``name``."""

    token: str
    provider: str
    user: dict[str, Any]
    consent: bool = True
    pages: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    companies: list[dict[str, Any]] = field(default_factory=list)
    boards: list[dict[str, Any]] = field(default_factory=list)
    playlists: list[dict[str, Any]] = field(default_factory=list)
    channel: dict[str, Any] | None = None
    origin: str = "fixture"
