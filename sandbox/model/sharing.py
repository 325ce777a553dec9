"""Sharing messages (oneall-api.md §6): one message published to several identities, each
publication a push of the network's own resource; bounded, the oldest forgotten first."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.api.push import BY_NAME, Endpoint
from sandbox.model.bounds import FORGET_OLDEST, Bound, BoundedStore
from sandbox.model.identities import Identity

# Publications a message keeps, newest last: re-publishing one message again and again
# forgets its oldest publications past this many.
MAX_PUBLICATIONS = 100


@dataclass(slots=True)
class Publication:
    provider: str
    identity_token: str | None
    status: int
    info: str
    resource: str | None = None
    data: Mapping[str, Any] | None = None
    when: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return self.status < 400


@dataclass(slots=True)
class Message:
    token: str
    parts: dict[str, Any]
    target: dict[str, Any]  # {"publish_for_user": {...}} or {"publish_for_identity": {...}}
    created: float = field(default_factory=time.time)
    last_published: float | None = None
    publications: list[Publication] = field(default_factory=list)

    def add(self, publications: list[Publication]) -> None:
        self.publications.extend(publications)
        del self.publications[:-MAX_PUBLICATIONS]
        self.last_published = time.time()


class Messages:
    """Sharing messages by token, oldest first, within ``--max-sharing-messages``."""

    def __init__(self, size: int, max_bytes: int | None = None) -> None:
        self.bound = Bound(
            "sharing_messages",
            max_count=size,
            max_bytes=max_bytes,
            policy=FORGET_OLDEST,
            flags=("--max-sharing-messages", "--sharing-messages-max-bytes"),
        )
        self._items: BoundedStore[str, Message] = BoundedStore(self.bound, cost=_cost)

    def add(self, message: Message) -> Message:
        """Keep it (again, after publishing: its cost is counted anew)."""
        self._items.put(message.token, message)
        return message

    def get(self, token: str) -> Message | None:
        return self._items.get(token)

    def remove(self, token: str) -> Message | None:
        return self._items.pop(token)

    def all(self) -> list[Message]:
        return self._items.values()

    def clear(self) -> None:
        self._items.clear()


_PUBLICATION_BYTES = 300  # provider, tokens, status, date, ids as answered


def _cost(message: Message) -> int:
    parts = json.dumps(message.parts, ensure_ascii=False).encode("utf-8", "replace")
    infos = sum(len(p.info) + _PUBLICATION_BYTES for p in message.publications)
    return 200 + len(parts) + infos


def _text(parts: Mapping[str, Any], part: str, key: str) -> str | None:
    node = parts.get(part)
    value = node.get(key) if isinstance(node, Mapping) else None
    return value if isinstance(value, str) and value != "" else None


def as_push(identity: Identity, parts: Mapping[str, Any]) -> tuple[Endpoint, dict[str, Any]]:
    """Which push a publication is, and its body (oneall-api.md §6, ours): a video part is the
    network's video, else a picture part its picture, else a post of the text and the link.
    The body is what a client would send, so the push's own validation judges it."""
    text = _text(parts, "text", "body")
    picture = _text(parts, "picture", "url")
    video = _text(parts, "video", "url")
    link = _text(parts, "link", "url")
    link_name = _text(parts, "link", "name")
    link_description = _text(parts, "link", "description")
    provider = identity.provider

    def drop_none(**keys: Any) -> dict[str, Any]:
        return {key: value for key, value in keys.items() if value is not None}

    message = " ".join(part for part in (text, link) if part) or None
    if provider == "facebook":
        if video:
            name, node = "facebook.video", drop_none(url=video, description=text)
        elif picture:
            name, node = "facebook.picture", drop_none(url=picture, description=text)
        else:
            name, node = "facebook.post", drop_none(message=text, link=link)
    elif provider == "twitter":
        if video:
            name, node = "twitter.video", drop_none(video_url=video)
        elif picture:
            name, node = "twitter.picture", drop_none(url=picture, description=text)
        else:
            name, node = "twitter.post", drop_none(message=message)
    elif provider == "linkedin":
        name = "linkedin.post"
        node = drop_none(
            link=link, title=link_name, description=link_description, message=text, picture=picture
        )
    elif provider == "pinterest":
        boards = identity.targets_of("boards")
        name = "pinterest.pin"
        node = drop_none(
            board=boards[0]["id"] if boards else None,
            picture=picture,
            description=text,
            link=link,
        )
    else:  # youtube
        title = (link_name or text or "")[:100] or None
        name, node = "youtube.video", drop_none(video_url=video, title=title, description=text)
    endpoint = BY_NAME[name]
    return endpoint, {"request": {"push": {endpoint.node: node}}}
