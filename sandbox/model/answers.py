"""How each call of the API around the push is answered, without HTTP: one function per
catalog row's ``answer`` (``ANSWERS``), from the one model of identities, users, connections,
published objects and sharing messages. The shapes follow oneall-api.md; where it says *ours*,
the decision is here."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from operator import itemgetter
from typing import Any, Protocol, TypeVar

from sandbox.api.calls import Call
from sandbox.api.envelope import ERROR, SUCCESS
from sandbox.api.errors import BadRequest, Forbidden, NotFound, RequestError
from sandbox.api.named import by_name
from sandbox.api.push import PROVIDER_NAMES, PUSH_PREFIX
from sandbox.model.connections import Connection
from sandbox.model.identities import TARGET_NOUNS, Identity, User
from sandbox.model.journal import Entry
from sandbox.model.pages import paginate
from sandbox.model.sandbox import Sandbox
from sandbox.model.sharing import Message, Publication, as_push

T = TypeVar("T")


@dataclass(slots=True)
class Ask:
    """What one request asks: its call, path parameters, query (first value of each name),
    validated body, and its headers (for the journal entries of sharing publications)."""

    call: Call
    params: Mapping[str, str]
    query: Mapping[str, str]
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    path: str = ""
    started: float = field(default_factory=time.time)


@dataclass(slots=True)
class Answer:
    data: dict[str, Any]
    status: int = 200
    warnings: list[str] = field(default_factory=list)


def date(when: float | None) -> str | None:
    """Dates as the envelope writes them: ``Wed, 02 May 2018 16:32:45 +0200``."""
    return None if when is None else formatdate(when, localtime=True)


# --- shapes ---------------------------------------------------------------------------------

PROFILE_URLS = {
    "facebook": "https://www.facebook.com/{screen_name}",
    "linkedin": "https://www.linkedin.com/in/{screen_name}",
    "pinterest": "https://www.pinterest.com/{screen_name}/",
    "twitter": "https://twitter.com/{screen_name}",
    "youtube": "https://www.youtube.com/channel/{id}",
}


def identity_json(identity: Identity) -> dict[str, Any]:
    """An identity as a connection gives it (portable contacts names, oneall-api.md §2); the
    person's data comes from the identity's user record, emails at example.org (ours)."""
    user = identity.user
    name = str(user.get("name") or "")
    given, _, family = name.partition(" ")
    screen_name = str(user.get("screen_name") or user.get("id") or identity.token[:8])
    user_id = str(user.get("id") or "")
    profile = PROFILE_URLS[identity.provider].format(screen_name=screen_name, id=user_id)
    picture = f"https://example.org/avatars/{identity.provider}/{user_id or screen_name}.jpg"
    return {
        "identity_token": identity.token,
        "user_token": identity.user_token,
        "provider": identity.provider,
        "date_creation": date(identity.created),
        "source": {"name": PROVIDER_NAMES[identity.provider], "key": identity.provider},
        "id": profile,
        "displayName": name,
        "name": {"givenName": given, "familyName": family, "formatted": name},
        "preferredUsername": screen_name,
        "emails": [{"value": f"{screen_name.replace('.', '_')}@example.org", "is_verified": True}],
        "thumbnailUrl": picture,
        "pictureUrl": picture,
        "profileUrl": profile,
        "urls": [{"value": profile, "type": "profile"}],
        "accounts": [{"domain": profile.split("/")[2], "userid": user_id, "username": screen_name}],
    }


def user_json(sandbox: Sandbox, user: User, *, brief: bool = False) -> dict[str, Any]:
    """A user; ``brief`` (a list entry) names its identities, else each is given in full."""
    identities = sandbox.identities.identities_of(user)
    return {
        "user_token": user.token,
        "date_creation": date(user.created),
        "date_last_login": date(user.last_login),
        "num_logins": user.logins,
        "identities": identity_refs(identities)
        if brief
        else [identity_json(identity) for identity in identities],
    }


def connection_json(sandbox: Sandbox, connection: Connection) -> dict[str, Any]:
    """``GET /connections/<token>.json``: ``connection``, ``plugin`` and ``user`` (whose
    ``identity`` connected; ``identities`` all of its user's)."""
    store = sandbox.identities
    identity = store.find(connection.identity_token)
    user = store.users.get(connection.user_token)
    identity_node = (
        identity_json(identity)
        if identity is not None
        else {"identity_token": connection.identity_token, "provider": connection.provider}
    )
    identities = store.identities_of(user) if user is not None else []
    plugin = {
        "key": connection.plugin,
        "data": {"status": connection.status, "action": connection.action},
    }
    return {
        "connection": {
            "connection_token": connection.token,
            "date": date(connection.created),
            "plugin": connection.plugin,
            "status": connection.status,
            "callback_uri": connection.callback_uri,
        },
        "plugin": plugin,
        "user": {
            "user_token": connection.user_token,
            "date_creation": date(user.created) if user is not None else None,
            "identity": identity_node,
            "identities": identity_refs(identities),
        },
    }


# The short forms of list entries (oneall-api.md §3): each list call gives its records so.


def identity_refs(identities: Iterable[Identity]) -> list[dict[str, Any]]:
    """A user's identities where the user is not the subject: token and network only."""
    return [{"identity_token": i.token, "provider": i.provider} for i in identities]


def connection_entry(connection: Connection) -> dict[str, Any]:
    return {
        "connection_token": connection.token,
        "status": connection.status,
        "date_creation": date(connection.created),
        "callback_uri": connection.callback_uri,
    }


def identity_entry(identity: Identity) -> dict[str, Any]:
    return {
        "identity_token": identity.token,
        "user_token": identity.user_token,
        "provider": identity.provider,
        "date_creation": date(identity.created),
    }


class _Made(Protocol):
    """A record that knows when it was made: lists order by that, newest first by default."""

    created: float


def _creation(record: _Made) -> float:
    return record.created


def _listed(
    ask: Ask,
    records: Sequence[T],
    created: Callable[[T], float],
    entry: Callable[[T], dict[str, Any]],
) -> Answer:
    """Every list answer: the page the query asks for, under the key the call's catalog row
    names, with the warnings asking for it raised (a clamped page size)."""
    listing = ask.call.listing
    assert listing is not None, f"{ask.call.name} has no listing key in its catalog row"
    page = paginate(records, ask.query, size_name=ask.call.page_size, created=created, entry=entry)
    return Answer({listing: page.node}, warnings=page.warnings)


# --- site, connections, users, identities ------------------------------------------------


def ping(sandbox: Sandbox, ask: Ask) -> Answer:
    return Answer({})


def list_connections(sandbox: Sandbox, ask: Ask) -> Answer:
    return _listed(ask, sandbox.connections.all(), _creation, connection_entry)


def read_connection(sandbox: Sandbox, ask: Ask) -> Answer:
    connection = _named(ask, "connection", sandbox.connections.get, "--max-connections")
    return Answer(connection_json(sandbox, connection))


def _named(ask: Ask, kind: str, find: Callable[[str], T | None], bound: str | None = None) -> T:
    """The record the path names by its ``<kind>_token``, or the live API's 404; the detail
    names the token and, for a bounded store, the flag that may have made it forget it."""
    parameter = kind.replace(" ", "_") + "_token"
    token = ask.params[parameter]
    record = find(token)
    if record is None:
        forgotten = f" (or it was forgotten: {bound})" if bound else ""
        raise NotFound(
            f"No {kind} has been found for the specified {parameter}",
            detail=f"No {kind} has the token {token!r}{forgotten}",
        )
    return record


def _confirmed(ask: Ask) -> None:
    if ask.query.get("confirm_deletion") != "true":
        raise BadRequest(
            "The deletion must be confirmed: add the query parameter confirm_deletion=true"
        )


def list_users(sandbox: Sandbox, ask: Ask) -> Answer:
    users = list(sandbox.identities.users.values())
    return _listed(ask, users, _creation, lambda user: user_json(sandbox, user, brief=True))


def read_user(sandbox: Sandbox, ask: Ask) -> Answer:
    user = sandbox.identities.user(ask.params["user_token"])
    return Answer({"user": user_json(sandbox, user)})


def delete_user(sandbox: Sandbox, ask: Ask) -> Answer:
    store = sandbox.identities
    user = store.user(ask.params["user_token"])
    _confirmed(ask)
    shown = user_json(sandbox, user)
    store.delete_user(user.token)
    return Answer({"user": shown})


def list_identities(sandbox: Sandbox, ask: Ask) -> Answer:
    return _listed(ask, sandbox.identities.all(), _creation, identity_entry)


def read_identity(sandbox: Sandbox, ask: Ask) -> Answer:
    return Answer({"identity": identity_json(sandbox.identities.get(ask.params["identity_token"]))})


def delete_identity(sandbox: Sandbox, ask: Ask) -> Answer:
    store = sandbox.identities
    identity = store.get(ask.params["identity_token"])
    _confirmed(ask)
    shown = identity_json(identity)
    store.delete_identity(identity.token)
    return Answer({"identity": shown})


def link_identity(sandbox: Sandbox, ask: Ask) -> Answer:
    user_token = ask.body["request"]["user"]["user_token"]
    identity, user = sandbox.identities.link(ask.params["identity_token"], user_token)
    return Answer({"identity": identity_json(identity), "user": user_json(sandbox, user)})


_TRUE = (True, "true", "1", 1)


def synchronize_identity(sandbox: Sandbox, ask: Ask) -> Answer:
    """Defaults ``update_user_data`` true, ``force_token_update`` false; a forced token
    update ends an expired token (oneall-api.md §5)."""
    identity = sandbox.identities.get(ask.params["identity_token"])
    request = (ask.body or {}).get("request") or {}
    flags = request.get("synchronize") or {}
    if flags.get("force_token_update", False) in _TRUE:
        identity.expired = False
    return Answer({"identity": identity_json(identity)})


# --- the Pull API (shapes ours) ---------------------------------------------------------------

_TARGET_LOCATIONS = {
    "pages": "https://www.facebook.com/{id}",
    "groups": "https://www.facebook.com/groups/{id}",
    "companies": "https://www.linkedin.com/company/{id}/",
    "boards": "https://www.pinterest.com/{screen_name}/{slug}/",
    "playlists": "https://www.youtube.com/playlist?list={id}",
    "channels": "https://www.youtube.com/channel/{id}",
}


def _target_items(identity: Identity, kind: str) -> list[Mapping[str, Any]]:
    """The identity's targets of a kind (its channel for ``channels``), as stored."""
    if kind == "channels":
        channel = identity.channel or {
            "id": identity.user.get("id"),
            "title": identity.user.get("channel_title") or identity.user.get("name"),
        }
        return [{"id": str(channel.get("id")), "name": channel.get("title") or ""}]
    return list(identity.targets_of(kind))


def _target_entry(identity: Identity, kind: str, item: Mapping[str, Any]) -> dict[str, Any]:
    """``{<noun>_id, name, <noun>_location}``, the keys the push results use."""
    noun = TARGET_NOUNS[kind]
    screen_name = identity.user.get("screen_name") or ""
    return {
        f"{noun}_id": item["id"],
        "name": item.get("name", ""),
        f"{noun}_location": item.get("url")
        or _TARGET_LOCATIONS[kind].format(
            id=item["id"], screen_name=screen_name, slug=item.get("slug") or item["id"]
        ),
    }


Post = tuple[float, str, Mapping[str, Any]]  # when, resource, the push's result data


def _posts(sandbox: Sandbox, identity: Identity, ask: Ask) -> list[Post]:
    """What the identity published through the sandbox: posts on Facebook (on one page for
    ``facebook/page/<id>/posts.json``), tweets on Twitter. Only the page asked for is made
    into entries: an identity may have published thousands."""
    page_id = ask.params.get("page_id")
    prefix = None if page_id is None else f"{page_id}_"
    return [
        (when, resource, data)
        for resource, when, data in sandbox.objects.of(identity.token)
        if (post_id := data.get("post_id")) is not None
        and (prefix is None or str(post_id).startswith(prefix))
    ]


def _post_entry(post: Post) -> dict[str, Any]:
    when, resource, data = post
    return {
        "post_id": data["post_id"],
        "post_location": data.get("post_location"),
        "object": data.get("object"),
        "resource": resource,
        "date_creation": date(when),
    }


def pull(sandbox: Sandbox, ask: Ask) -> Answer:
    """Targets of the identity (and those its pushes created), or what it published, newest
    first: ``result.data.<things>{pagination, count, entries}`` (ours)."""
    call = ask.call
    token = ask.params["identity_token"]
    identity = sandbox.identities.get(token)
    provider = call.provider
    assert provider is not None and call.listing is not None
    if identity.provider != provider:
        raise Forbidden(
            f"The identity {token} is a {PROVIDER_NAMES[identity.provider]} identity: "
            f"{call.display_path} needs a {PROVIDER_NAMES[provider]} identity_token"
        )
    if call.listing in ("posts", "tweets"):
        return _listed(ask, _posts(sandbox, identity, ask), itemgetter(0), _post_entry)
    # Targets have no time of their own: their order in the identity stands for it.
    kind = call.listing
    targets = list(enumerate(_target_items(identity, kind)))
    return _listed(ask, targets, itemgetter(0), lambda pair: _target_entry(identity, kind, pair[1]))


# --- sharing messages ---------------------------------------------------------------------


def message_json(message: Message) -> dict[str, Any]:
    return {
        "sharing_message_token": message.token,
        "date_creation": date(message.created),
        "date_last_published": date(message.last_published),
        "parts": message.parts,
        "publications": {
            "count": len(message.publications),
            "entries": [publication_json(p) for p in message.publications],
        },
    }


def publication_json(publication: Publication) -> dict[str, Any]:
    """One publication (its shape is ours): who published, how it went, what it made."""
    data = publication.data or {}
    object_name = data.get("object")
    made = (
        {
            "id": data.get("post_id") or data.get(f"{object_name}_id"),
            "location": data.get("post_location") or data.get(f"{object_name}_location"),
            "object": object_name,
        }
        if publication.ok
        else None
    )
    return {
        "provider": publication.provider,
        "identity_token": publication.identity_token,
        "resource": publication.resource,
        "date_publication": date(publication.when),
        "status": {
            "flag": SUCCESS if publication.ok else ERROR,
            "code": publication.status,
            "message": publication.info,
        },
        "message": made,
    }


def _targets_of(sandbox: Sandbox, target: Mapping[str, Any]) -> list[tuple[str, Identity | None]]:
    """The identities a message publishes for, by provider (None: the user has none there)."""
    store = sandbox.identities
    for_identity = target.get("publish_for_identity")
    if for_identity is not None:
        identity = store.get(for_identity["identity_token"])
        return [(identity.provider, identity)]
    for_user = target["publish_for_user"]
    user = store.user(for_user["user_token"])
    identities = store.identities_of(user)
    providers = for_user.get("providers")
    if providers is None:
        return [(identity.provider, identity) for identity in identities]
    chosen: list[tuple[str, Identity | None]] = []
    for provider in dict.fromkeys(providers):
        mine = [identity for identity in identities if identity.provider == provider]
        chosen += [(provider, identity) for identity in mine] or [(provider, None)]
    return chosen


def _publish(sandbox: Sandbox, message: Message, target: Mapping[str, Any], ask: Ask) -> Answer:
    """Each publication is the push it stands for (validation, faults, journal, ids)."""
    publications = []
    warnings = []
    for provider, identity in _targets_of(sandbox, target):
        if identity is None:
            # A OneAll network the sandbox does not emulate (instagram, ...) is not a bad
            # request: no identity of the user can be on it, so that publication fails.
            name = PROVIDER_NAMES.get(provider)
            if name is None:
                warnings.append(
                    f"{provider} is not a network the sandbox emulates "
                    f"({', '.join(PROVIDER_NAMES)}): its publication fails"
                )
            publications.append(
                Publication(
                    provider,
                    None,
                    404,
                    f"The user has no {name or provider} identity to publish with",
                )
            )
            continue
        endpoint, body = as_push(identity, message.parts)
        path = PUSH_PREFIX.format(token=identity.token) + endpoint.path
        entry = Entry("POST", path, time.time(), ask.headers)
        entry.resource, entry.provider, entry.identity = endpoint.name, provider, identity.token
        entry.body = body
        try:
            published = sandbox.publish(endpoint, identity.token, body, path=path, entry=entry)
        except RequestError as refusal:
            entry.status, entry.info = refusal.status, refusal.info
            publication = Publication(
                provider, identity.token, refusal.status, refusal.info, endpoint.name
            )
        else:
            entry.status, entry.info, entry.data = 200, "Published", published.data
            publication = Publication(
                provider, identity.token, 200, "Published", endpoint.name, published.data
            )
        entry.info = f"{entry.info} (sharing message {message.token})"
        sandbox.journal.record(entry)
        publications.append(publication)
    message.add(publications)
    sandbox.messages.add(message)  # counted anew with its publications
    failed = any(not publication.ok for publication in publications)
    return Answer(
        {"sharing_message": message_json(message)},
        status=207 if failed else 200,
        warnings=warnings,
    )


def create_message(sandbox: Sandbox, ask: Ask) -> Answer:
    node = ask.body["request"]["sharing_message"]
    target = {key: node[key] for key in ("publish_for_user", "publish_for_identity") if key in node}
    _targets_of(sandbox, target)  # an unknown user or identity: 404 before anything is kept
    message = Message(sandbox.tokens.new("sharing_message"), dict(node["parts"]), target)
    return _publish(sandbox, message, target, ask)


def _message(sandbox: Sandbox, ask: Ask) -> Message:
    return _named(ask, "sharing message", sandbox.messages.get)


def read_message(sandbox: Sandbox, ask: Ask) -> Answer:
    return Answer({"sharing_message": message_json(_message(sandbox, ask))})


def delete_message(sandbox: Sandbox, ask: Ask) -> Answer:
    message = _message(sandbox, ask)
    sandbox.messages.remove(message.token)
    return Answer({"sharing_message": message_json(message)})


def republish_message(sandbox: Sandbox, ask: Ask) -> Answer:
    message = _message(sandbox, ask)
    node = ((ask.body or {}).get("request") or {}).get("sharing_message") or {}
    target = {key: node[key] for key in ("publish_for_user", "publish_for_identity") if key in node}
    return _publish(sandbox, message, target or message.target, ask)


def list_messages(sandbox: Sandbox, ask: Ask) -> Answer:
    return _listed(ask, sandbox.messages.all(), _creation, message_json)


AnswerFunction = Callable[[Sandbox, Ask], Answer]
ANSWERS: dict[str, AnswerFunction] = by_name(
    ping,
    list_connections,
    read_connection,
    list_users,
    read_user,
    delete_user,
    list_identities,
    read_identity,
    delete_identity,
    link_identity,
    synchronize_identity,
    pull,
    list_messages,
    create_message,
    read_message,
    delete_message,
    republish_message,
)
