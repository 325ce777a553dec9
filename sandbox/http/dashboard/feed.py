"""The feed: each published object as its network would show it, from the published objects,
the journal entry that published it (what the request said) and the identity (who said it).

Pure reading of the models: no HTTP here, so it is tested on its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.api.push import BY_NAME, PROVIDER_NAMES
from sandbox.model.identities import Identity
from sandbox.model.journal import Entry
from sandbox.model.sandbox import Sandbox

MAX_CARDS = 300  # newest first; the feed is for eyes, GET /__sandbox/objects has them all
_BOARD_IN_PATH = re.compile(r"/pinterest/board/([^/]+)/pin\.json$")


@dataclass(slots=True)
class Card:
    """One published object, in the words the templates need."""

    kind: str  # tweet, media, facebook, linkedin, pin, board, youtube, playlist, section
    resource: str
    provider: str
    identity: str
    time: str  # ISO 8601, UTC
    entry_id: int | None = None
    author: str = ""
    handle: str = ""
    where: str = ""  # the page, group, company, board or playlist published to
    title: str = ""
    text: str = ""
    link: str = ""
    picture: str = ""
    video: str = ""
    location: str = ""  # the object's page on the network, as the API answered it
    object_id: str = ""
    state: str = ""  # a video's processing state
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def network(self) -> str:
        return PROVIDER_NAMES.get(self.provider, self.provider)


@dataclass(slots=True)
class Group:
    identity: str
    provider: str
    author: str
    handle: str
    cards: list[Card]

    @property
    def network(self) -> str:
        return PROVIDER_NAMES.get(self.provider, self.provider)


def node_of(entry: Entry | None, resource: str) -> Mapping[str, Any]:
    """The request's object node (``request.push.<node>``), or empty when not kept."""
    if entry is None:
        return {}
    body = entry.body
    if isinstance(body, bytes):
        body = json.loads(body)
    try:
        node = body["request"]["push"][BY_NAME[resource].node]
    except (KeyError, TypeError):
        return {}
    return node if isinstance(node, Mapping) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _target_name(identity: Identity | None, kind: str, target_id: object) -> str:
    if identity is None or target_id is None:
        return str(target_id or "")
    target = identity.find_target(kind, str(target_id))
    return str(target.get("name") or target_id) if target else str(target_id)


@dataclass(slots=True)
class Source:
    """What a card is made from: the object, the request's node, its entry, its identity."""

    resource: str
    obj: str
    data: Mapping[str, Any]
    node: Mapping[str, Any]
    entry: Entry | None
    identity: Identity | None


def card(
    resource: str,
    token: str,
    when: float,
    data: Mapping[str, Any],
    *,
    entry: Entry | None,
    identity: Identity | None,
    state: str = "",
) -> Card:
    """The card of one object: the request's words, the answer's ids, the identity's names."""
    provider = str(data.get("provider") or resource.split(".", 1)[0])
    user = identity.user if identity is not None else {}
    node = node_of(entry, resource)
    obj = str(data.get("object") or "")
    made = Card(
        kind="post",
        resource=resource,
        provider=provider,
        identity=token,
        time=datetime.fromtimestamp(when, UTC).isoformat(timespec="seconds"),
        entry_id=entry.id if entry is not None else None,
        author=str(user.get("name") or ""),
        handle=str(user.get("screen_name") or ""),
        text=_text(node.get("message") or node.get("description") or node.get("note")),
        link=_text(node.get("link")),
        state=state or _text(data.get("processing_status")),
        object_id=str(data.get(f"{obj}_id") or data.get("post_id") or ""),
        location=_text(
            data.get("post_location") or data.get(f"{obj}_location") or data.get("board_location")
        ),
    )
    fill = _NETWORKS.get(provider)
    if fill is not None:
        fill(made, Source(resource, obj, data, node, entry, identity))
    return made


def _twitter(made: Card, source: Source) -> None:
    node = source.node
    made.kind = "tweet" if source.obj == "post" else "media"
    made.picture = _text(node.get("url")) if source.obj == "picture" else ""
    made.video = _text(node.get("video_url"))
    made.extra["attachments"] = [str(a) for a in node.get("attachments") or ()]


def _facebook(made: Card, source: Source) -> None:
    node = source.node
    made.kind = "facebook"
    target = BY_NAME[source.resource].target
    if target is not None:
        made.where = _target_name(source.identity, target.kind, node.get("id"))
    made.picture = _text(node.get("url")) if source.obj == "picture" else ""
    made.video = _text(node.get("url")) if source.obj == "video" else ""


def _linkedin(made: Card, source: Source) -> None:
    node = source.node
    made.kind = "linkedin"
    made.title = _text(node.get("title"))
    made.text = _text(node.get("message"))
    made.extra["summary"] = _text(node.get("description"))
    made.picture = _text(node.get("picture"))
    if node.get("company") is not None:
        made.where = _target_name(source.identity, "companies", node.get("company"))


def _pinterest(made: Card, source: Source) -> None:
    node, entry = source.node, source.entry
    if source.obj == "board":
        made.kind = "board"
        made.title = _text(source.data.get("board_name") or node.get("name"))
        return
    made.kind = "pin"
    made.picture = _text(node.get("picture") or node.get("image_url"))
    board = node.get("board")
    if board is None and entry is not None:
        found = _BOARD_IN_PATH.search(entry.path)
        board = found.group(1) if found else None
    made.where = _target_name(source.identity, "boards", board)


def _youtube(made: Card, source: Source) -> None:
    node, data, identity = source.node, source.data, source.identity
    made.title = _text(node.get("title"))
    if source.obj == "video":
        made.kind = "youtube"
        made.picture = _text(node.get("thumbnail_url"))
        made.video = _text(node.get("video_url"))
        user = identity.user if identity is not None else {}
        channel = (identity.channel if identity is not None else None) or {}
        made.where = str(channel.get("title") or user.get("channel_title") or "")
    elif source.obj == "playlist_item":
        made.kind = "playlist"
        made.where = _target_name(identity, "playlists", data.get("playlist_id"))
        made.title = f"Video {data.get('video_id')} added"
        made.link = f"https://www.youtube.com/watch?v={data.get('video_id')}"
    elif source.obj == "playlist":
        made.kind = "playlist"
        made.extra["privacy"] = _text(node.get("privacy"))
    else:
        made.kind = "section"
        made.extra["type"] = _text(node.get("type"))


_NETWORKS: dict[str, Callable[[Card, Source], None]] = {
    "twitter": _twitter,
    "facebook": _facebook,
    "linkedin": _linkedin,
    "pinterest": _pinterest,
    "youtube": _youtube,
}


def feed(sandbox: Sandbox, *, limit: int = MAX_CARDS) -> list[Group]:
    """The newest ``limit`` objects, grouped by identity and network, newest group first."""
    kept = sandbox.objects.kept()[-limit:]
    wanted = {id(data) for _, _, _, data in kept}
    entries = _entries_by_data(sandbox.journal, wanted)
    identities = {identity.token: identity for identity in sandbox.identities.all()}
    groups: dict[tuple[str, str], Group] = {}
    for resource, token, when, data in reversed(kept):
        identity = identities.get(token)
        state = ""
        video_id = data.get("video_id")
        if BY_NAME[resource].asynchronous and video_id is not None:
            job = sandbox.jobs.by_video(str(video_id))
            state = job.state if job is not None else ""
        made = card(
            resource, token, when, data, entry=entries.get(id(data)), identity=identity, state=state
        )
        group = groups.get((token, made.provider))
        if group is None:
            group = groups[(token, made.provider)] = Group(
                token, made.provider, made.author, made.handle, []
            )
        group.cards.append(made)
    return list(groups.values())


def _entries_by_data(entries: Iterable[Entry], wanted: set[int]) -> dict[int, Entry]:
    """The journal entry holding each object's data (the very same dict), by its ``id()``."""
    found: dict[int, Entry] = {}
    for entry in entries:
        if entry.data is not None and id(entry.data) in wanted:
            found[id(entry.data)] = entry
    return found
