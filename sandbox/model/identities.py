"""Identities: who publishes, on which provider, to which pages, groups, boards and playlists."""

from __future__ import annotations

import copy
import json
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from sandbox.api import live
from sandbox.api.datafiles import read_schema
from sandbox.api.errors import Forbidden, NotFound, SettingsError
from sandbox.api.live import IDENTITY_NOT_FOUND, provider_refused
from sandbox.api.push import PROVIDER_NAMES
from sandbox.config import DEFAULTS, UUID_PATTERN
from sandbox.model.bounds import FORGET_OLDEST, REFUSE, Bound, BoundedStore
from sandbox.model.files import read_settings_text
from sandbox.model.tokens import derived
from sandbox.validation import bodies

IDENTITY_SCHEMA = "control/identity"
# The kinds of target an identity has: the properties of its schema that are lists of targets.
TARGET_KINDS: tuple[str, ...] = tuple(
    key
    for key, value in read_schema("control", "identity")["properties"].items()
    if value.get("$ref") == "#/$defs/targets"
)
# Where an identity comes from (GET /__sandbox/identities says it): the identities file, a
# registration, made up for an unknown token, or a connection made on the consent page.
FIXTURE, REGISTERED, AUTO, CONNECTED = ORIGINS = ("fixture", "registered", "auto", "connected")


# Boards and playlists created by pushes an identity keeps, newest last: past this many, the
# oldest created one is forgotten (those it started with stay): --max-created-targets.
MAX_CREATED_TARGETS = DEFAULTS.max_created_targets

Targets = list[dict[str, Any]]
UserMaker = Callable[[str, str], dict[str, Any]]


class TargetList(list[dict[str, Any]]):
    """An identity's targets of one kind: the first ``fixed`` stay, the ones appended after them
    (created by pushes) are kept up to ``limit``, the oldest forgotten first."""

    __slots__ = ("fixed", "limit")

    def __init__(self, items: Iterable[dict[str, Any]] = (), limit: int = MAX_CREATED_TARGETS):
        super().__init__(items)
        self.fixed = len(self)
        self.limit = limit

    def append(self, target: dict[str, Any]) -> None:
        super().append(target)
        if len(self) - self.fixed > self.limit:
            del self[self.fixed]


class TokenTaken(ValueError):
    """Registering a token that is already an identity's, without ``replace``."""


class Identity:
    """A connected social account. ``user`` holds ``id``, ``name`` and, where the network has
    one, ``screen_name``; each target is a dict with at least ``id`` and ``name``.

    Compact, as up to 10,000 automatically registered ones are kept by default: their target
    lists are made on first use, and their user is made again from ``user_maker``
    (deterministic for a token) each time it is read rather than kept.
    """

    __slots__ = (
        "_created_cost",
        "_created_count",
        "_max_created",
        "_targets",
        "_user",
        "_user_maker",
        "channel",
        "consent",
        "created",
        "expired",
        "origin",
        "provider",
        "token",
        "user_token",
    )

    def __init__(
        self,
        token: str,
        provider: str,
        user: dict[str, Any] | None = None,
        *,
        consent: bool = True,
        pages: Iterable[dict[str, Any]] = (),
        groups: Iterable[dict[str, Any]] = (),
        companies: Iterable[dict[str, Any]] = (),
        boards: Iterable[dict[str, Any]] = (),
        playlists: Iterable[dict[str, Any]] = (),
        channel: dict[str, Any] | None = None,
        origin: str = FIXTURE,
        user_maker: UserMaker | None = None,
        max_created: int = MAX_CREATED_TARGETS,
        user_token: str = "",
    ) -> None:
        self.token = token
        self.user_token = user_token or derived("user", token)
        self.created = time.time()
        self.expired = False  # the network's access token has expired (oneall-api.md §5)
        self.provider = sys.intern(provider)  # one string for all, not one per request
        self._user = user if user is not None or user_maker is not None else {}
        self._user_maker = user_maker
        self.consent = consent
        self.channel = channel
        self.origin = origin
        self._max_created = max_created
        self._targets: dict[str, TargetList] | None = None
        # Its boards and playlists that count in the store's created-targets bound (their
        # number and bytes; -1 once the identity left the store and gave them back).
        self._created_count = 0
        self._created_cost = 0
        given = zip(TARGET_KINDS, (pages, groups, companies, boards, playlists), strict=True)
        for kind, items in given:
            fixed = list(items)
            if fixed:
                targets = self._target_list(kind)
                targets.extend(fixed)
                targets.fixed = len(fixed)

    @property
    def user(self) -> dict[str, Any]:
        if self._user is None:
            assert self._user_maker is not None
            return self._user_maker(self.provider, self.token)
        return self._user

    @user.setter
    def user(self, user: dict[str, Any]) -> None:
        self._user = user

    def _target_list(self, kind: str) -> TargetList:
        """The list of ``kind``, made (empty) on first use."""
        if self._targets is None:
            self._targets = {}
        targets = self._targets.get(kind)
        if targets is None:
            targets = self._targets[kind] = TargetList(limit=self._max_created)
        return targets

    def targets_of(self, kind: str) -> Targets:
        """The targets of ``kind`` to read: no list is made for an identity without any."""
        return (self._targets or {}).get(kind) or []

    @property
    def pages(self) -> Targets:
        return self._target_list("pages")

    @property
    def groups(self) -> Targets:
        return self._target_list("groups")

    @property
    def companies(self) -> Targets:
        return self._target_list("companies")

    @property
    def boards(self) -> Targets:
        return self._target_list("boards")

    @property
    def playlists(self) -> Targets:
        return self._target_list("playlists")

    @property
    def targets(self) -> dict[str, Targets]:
        return {kind: self.targets_of(kind) for kind in TARGET_KINDS}

    def __repr__(self) -> str:
        return f"Identity({self.token!r}, {self.provider!r}, origin={self.origin!r})"

    def to_json(self) -> dict[str, Any]:
        return {
            "token": self.token,
            "provider": self.provider,
            "consent": self.consent,
            "user": self.user,
            **{kind: targets for kind, targets in self.targets.items() if targets},
            **({"channel": self.channel} if self.channel else {}),
            "origin": self.origin,
            "user_token": self.user_token,
            "expired": self.expired,
        }

    def find_target(self, kind: str, target_id: str) -> dict[str, Any] | None:
        """The page, group, company, board or playlist named by ``target_id``.

        Boards are also found as ``<screen_name>/<slug>`` or by slug, as the legacy pin path sends.
        """
        targets = self.targets_of(kind)
        if not targets:
            return None
        screen_name = self.user.get("screen_name")
        for target in targets:
            if target["id"] == target_id:
                return target
            slug = target.get("slug")
            if slug and target_id in (slug, f"{screen_name}/{slug}"):
                return target
        return None


# What one of each kind is called: in refusals, result keys (board_id) and Pull API entries.
TARGET_NOUNS = {
    "pages": "page",
    "groups": "group",
    "companies": "company",
    "boards": "board",
    "playlists": "playlist",
    "channels": "channel",
}


def identity_from(
    data: object, where: str, *, token: str, origin: str, max_created: int = MAX_CREATED_TARGETS
) -> Identity:
    """Build an Identity from JSON data of the shape ``schemas/control/identity.json`` says;
    ``where`` prefixes every complaint (file and index) so the user knows what to fix."""
    refused = bodies.refusal(IDENTITY_SCHEMA, data, pointers=True, where=where)
    if refused is not None:
        raise ValueError(refused)
    assert isinstance(data, dict)  # the schema says so
    return _identity(data, token=token, origin=origin, max_created=max_created)


def _identity(data: Mapping[str, Any], *, token: str, origin: str, max_created: int) -> Identity:
    """The Identity of data the schema accepted."""
    targets = {
        kind: [dict(item, id=str(item["id"])) for item in data.get(kind, [])]
        for kind in TARGET_KINDS
    }
    channel = data.get("channel")
    return Identity(
        token=token,
        provider=data["provider"],
        user_token=data.get("user_token") or "",
        user=dict(data.get("user") or {}),
        consent=data.get("consent", True),
        channel=dict(channel) if channel else None,
        origin=origin,
        max_created=max_created,
        pages=targets["pages"],
        groups=targets["groups"],
        companies=targets["companies"],
        boards=targets["boards"],
        playlists=targets["playlists"],
    )


def read_identities_file(path: Path) -> list[dict[str, Any]]:
    """The ``identities`` list of a JSON file; SettingsError with the file name on any problem."""
    text = read_settings_text(path, "identities file")
    try:
        data = json.loads(text)
    except ValueError as error:
        raise SettingsError(f"identities file {path} is not valid JSON: {error}") from None
    except RecursionError:
        raise SettingsError(f"identities file {path} is JSON nested too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("identities"), list):
        raise SettingsError(
            f'identities file {path} must hold {{"identities": [ ... ]}}, one object per identity'
        )
    return list(data["identities"])


class User:
    """A person behind one or more identities (oneall-api.md §3)."""

    __slots__ = ("created", "identities", "last_login", "logins", "token")

    def __init__(self, token: str) -> None:
        self.token = token
        self.created = time.time()
        self.last_login = self.created
        self.logins = 0
        self.identities: list[str] = []  # their tokens, in the order they joined


class IdentityStore:
    """Known identities and their users: the start-up ones, those registered at run time or
    made by connections, and (unless strict) UUIDs seen for the first time, registered
    automatically and forgotten oldest first. Deleted identities and users leave a tombstone
    (bounded, oldest forgotten first): their tokens answer 404 and are not registered again."""

    def __init__(
        self,
        startup: Sequence[Mapping[str, Any]],
        *,
        source: str,
        strict: bool,
        max_auto: int,
        user_maker: Callable[[], UserMaker],
        max_created: int = MAX_CREATED_TARGETS,
        on_forget: Callable[[str], None] = lambda token: None,
        max_registered: int = DEFAULTS.max_identities,
        registered_max_bytes: int | None = None,
        max_created_total: int = MAX_CREATED_TARGETS,
        created_max_bytes: int | None = None,
        max_tombstones: int = DEFAULTS.max_tombstones,
        new_token: Callable[[str], str] = lambda kind: str(uuid.uuid4()),
    ) -> None:
        self.strict = strict
        # A registered identity given no token gets one from the sandbox's token source:
        # the same in every run of a seeded sandbox.
        self._new_token = new_token
        self.tombstones_bound = Bound(
            "tombstones",
            max_count=max_tombstones,
            policy=FORGET_OLDEST,
            flags=("--max-tombstones",),
        )
        self._tombstones: BoundedStore[str, str] = BoundedStore(self.tombstones_bound)
        # Users are bounded by their identities: one has at least one, and goes with its last.
        self.users: dict[str, User] = {}
        # Registered on purpose: refused past the bound, never forgotten silently.
        self.registered_bound = Bound(
            "identities",
            max_count=max_registered,
            max_bytes=registered_max_bytes,
            policy=REFUSE,
            flags=("--max-identities", "--identities-max-bytes"),
        )
        self._registered: BoundedStore[str, Identity] = BoundedStore(
            self.registered_bound, cost=_identity_cost
        )
        self.auto_bound = Bound(
            "auto_identities",
            max_count=max_auto,
            policy=FORGET_OLDEST,
            flags=("--max-auto-identities",),
        )
        # Boards and playlists created by pushes, all identities together, oldest first.
        self.created_bound = Bound(
            "created_targets",
            max_count=max_created_total,
            max_bytes=created_max_bytes,
            policy=FORGET_OLDEST,
            flags=("--max-created-targets", "--created-targets-max-bytes"),
        )
        self._created: deque[tuple[Identity, str, dict[str, Any], int]] = deque()
        self._stale_created = 0  # records in _created of identities that left the store
        self._startup = [dict(item) for item in startup]
        self._source = source
        self._max_auto = max_auto
        self._user_maker = user_maker
        self._max_created = max_created
        self._on_forget = on_forget
        self._known: dict[str, Identity] = {}
        # Automatically registered identities, and their order of registration (a plain dict
        # and a deque weigh half an OrderedDict; a stale identity in the deque is skipped).
        self._auto: dict[str, Identity] = {}
        self._auto_order: deque[Identity] = deque()
        self.reset()

    def reset(self) -> None:
        """Back to the start-up identities, their targets as first loaded."""
        self._known = {}
        self._auto = {}
        self._auto_order = deque()
        self._registered.clear()
        self._created.clear()
        self._stale_created = 0
        self.auto_bound.reset()
        self.created_bound.reset()
        self._tombstones.clear()
        self.users = {}
        for index, item in enumerate(self._startup):
            where = f"{self._source}: identities/{index}"
            token = item.get("token")
            if not isinstance(token, str) or not UUID_PATTERN.fullmatch(token):
                raise SettingsError(f"{where}/token: must be a lowercase UUID, got {token!r}")
            if "replace" in item:
                raise SettingsError(
                    f"{where}/replace: a file's identities replace nothing (only POST "
                    "/__sandbox/identities takes replace)"
                )
            if token in self._known:
                raise SettingsError(f"{where}/token: {token} is listed twice")
            try:
                identity = identity_from(
                    copy.deepcopy(item),
                    where,
                    token=token,
                    origin=FIXTURE,
                    max_created=self._max_created,
                )
            except ValueError as error:
                raise SettingsError(str(error)) from None
            self._known[token] = identity
            self._join(identity, identity.user_token)

    def all(self) -> list[Identity]:
        registered = self._registered.values()
        replaced = {identity.token for identity in registered}
        return [
            *(identity for identity in self._known.values() if identity.token not in replaced),
            *registered,
            *self._auto.values(),
        ]

    @property
    def bounds(self) -> tuple[Bound, ...]:
        return (self.registered_bound, self.auto_bound, self.created_bound, self.tombstones_bound)

    def add_created(self, identity: Identity, kind: str, target: dict[str, Any]) -> None:
        """A board or playlist a push created: a target of its identity at once (spec §4),
        kept within the per-identity and global bounds, the oldest forgotten first."""
        targets = identity._target_list(kind)
        targets.append(target)
        cost = _target_cost(target)
        self._created.append((identity, kind, target, cost))
        self.created_bound.take(cost)
        identity._created_count += 1
        identity._created_cost += cost
        while self.created_bound.over() and self._created:
            owner, old_kind, old, old_cost = self._created.popleft()
            if owner._created_count < 0:  # its identity left the store: given back then
                self._stale_created -= 1
                continue
            owner._created_count -= 1
            owner._created_cost -= old_cost
            self.created_bound.give_back(old_cost, dropped=True)
            kept = owner.targets_of(old_kind)
            if isinstance(kept, TargetList) and len(kept) > kept.fixed and kept[kept.fixed] is old:
                del kept[kept.fixed]

    def _release_created(self, identity: Identity) -> None:
        """An identity left the store (forgotten, deleted or replaced): the boards and
        playlists it created go with it, out of the created-targets bound (not counted as
        dropped: the identity was). Their records are swept out of the queue once they are a
        fair part of it, so a forgotten identity is not kept alive by what it created."""
        count = identity._created_count
        if count <= 0:
            identity._created_count = -1
            return
        self.created_bound.give_back(identity._created_cost, count)
        identity._created_count, identity._created_cost = -1, 0
        self._stale_created += count
        if self._stale_created > 64 and self._stale_created * 8 > len(self._created):
            self._created = deque(item for item in self._created if item[0]._created_count >= 0)
            self._stale_created = 0

    def first_of(self, provider: str) -> Identity | None:
        """The first start-up identity of a provider that may publish (for banners and docs)."""
        for identity in self._known.values():
            if identity.provider == provider and identity.consent:
                return identity
        return None

    def register(self, data: object) -> Identity:
        """An identity posted to the control plane; ValueError names the bad key.

        A token already known (built in, loaded or registered) is refused with
        :class:`TokenTaken` unless ``"replace": true``: a test suite that reuses a token by
        mistake would otherwise change another test's identity without a word. A token only
        seen in a push (registered automatically) is no one's choice and is simply replaced.
        """
        if not isinstance(data, dict):  # worded as since the control plane began
            raise ValueError(f"an identity must be a JSON object, got {type(data).__name__}")
        refused = bodies.refusal(IDENTITY_SCHEMA, data, pointers=True)
        if refused is not None:
            raise ValueError(refused)
        data = dict(data)
        replace = data.pop("replace", False)
        token = data.get("token") or self._new_token("identity")
        existing = self._registered.get(token) or self._known.get(token)
        if existing is not None and not replace:
            raise TokenTaken(
                f"/token: {token} is already the token of a {existing.provider} identity "
                f'({existing.origin}); send "replace": true to replace it'
            )
        identity = _identity(data, token=token, origin=REGISTERED, max_created=self._max_created)
        if not identity.user:
            identity.user = self._user_maker()(identity.provider, token)
        replaced = self._registered.get(token)
        self._registered.put(token, identity, what="identity")  # BoundFull when full
        old = self._known.get(token) or self._auto.get(token)
        if old is not None:
            self._leave(old)
        if self._auto.pop(token, None) is not None:
            self.auto_bound.give_back(0)
        for gone in (replaced, self._known.get(token), old):
            if gone is not None:
                self._release_created(gone)  # shadowed or replaced: never found again
        self._tombstones.pop(token)  # registered on purpose: alive again
        self._join(identity, identity.user_token)
        return identity

    def of_provider(self, provider: str) -> list[Identity]:
        """The identities of a provider that were not registered automatically: what the
        consent page offers."""
        return [
            identity
            for identity in self.all()
            if identity.provider == provider and identity.origin != AUTO
        ]

    def add_connected(self, token: str, provider: str, user_token: str) -> Identity:
        """A new identity made by a connection ("a new user" on the consent page): kept
        among the automatically registered ones, so their bound applies."""
        identity = Identity(
            token,
            provider,
            origin=CONNECTED,
            user_maker=self._user_maker(),
            max_created=self._max_created,
            user_token=user_token,
        )
        self._add_auto(identity)
        self._join(identity, user_token)
        return identity

    def find(self, token: str) -> Identity | None:
        return self._registered.get(token) or self._known.get(token) or self._auto.get(token)

    def get(self, token: str) -> Identity:
        """An identity to read: never registered on the way (reads do not auto-register)."""
        identity = self.find(token)
        if identity is None:
            raise NotFound(IDENTITY_NOT_FOUND, headers=self._detail(token, "identity"))
        return identity

    def user(self, token: str) -> User:
        user = self.users.get(token)
        if user is None:
            raise NotFound(
                "No user has been found for the specified user_token",
                headers=self._detail(token, "user"),
            )
        return user

    def _detail(self, token: str, kind: str) -> dict[str, str]:
        if self._tombstones.get(token) == kind:
            return {"X-Sandbox-Detail": f"The {kind} {token} has been deleted"}
        return {"X-Sandbox-Detail": f"No {kind} has the token {token!r}"}

    def deleted(self, token: str) -> bool:
        return token in self._tombstones

    def identities_of(self, user: User) -> list[Identity]:
        return [identity for token in user.identities if (identity := self.find(token))]

    def delete_identity(self, token: str) -> Identity:
        identity = self.get(token)
        self._drop(token)
        self._tombstones.put(token, "identity")
        self._on_forget(token)
        return identity

    def delete_user(self, token: str) -> tuple[User, list[Identity]]:
        user = self.user(token)
        identities = self.identities_of(user)
        for identity in identities:
            self._drop(identity.token)
            self._tombstones.put(identity.token, "identity")
            self._on_forget(identity.token)
        self.users.pop(token, None)
        self._tombstones.put(token, "user")
        return user, identities

    def link(self, token: str, user_token: str) -> tuple[Identity, User]:
        """Move the identity to that user (``link.json``; ``social_link`` connections)."""
        identity = self.get(token)
        user = self.user(user_token)
        if identity.user_token != user_token:
            self._leave(identity)
            self._join(identity, user_token)
        return identity, user

    def login(self, identity: Identity) -> User:
        """A connection of this identity: its user logs in, its token is fresh again."""
        identity.expired = False
        user = self.users.get(identity.user_token) or self._join(identity, identity.user_token)
        user.logins += 1
        user.last_login = time.time()
        return user

    def _join(self, identity: Identity, user_token: str) -> User:
        identity.user_token = user_token
        user = self.users.get(user_token)
        if user is None:
            user = self.users[user_token] = User(user_token)
        if identity.token not in user.identities:
            user.identities.append(identity.token)
        return user

    def _leave(self, identity: Identity) -> None:
        """Out of its user; a user left without identities goes too (ours: OneAll's users
        have at least one)."""
        user = self.users.get(identity.user_token)
        if user is None:
            return
        if identity.token in user.identities:
            user.identities.remove(identity.token)
        if not user.identities:
            del self.users[user.token]

    def _drop(self, token: str) -> None:
        for identity in (self._registered.pop(token), self._known.pop(token, None)):
            if identity is not None:
                self._leave(identity)
                self._release_created(identity)
        auto = self._auto.pop(token, None)
        if auto is not None:
            self.auto_bound.give_back(0)
            self._leave(auto)
            self._release_created(auto)

    def resolve(self, token: str, provider: str, object_name: str = "post") -> Identity:
        """The identity allowed to publish to ``provider``, or the refusal the live API gives;
        ``object_name`` (post, picture, video ...) words the refusal of an expired token."""
        identity = self._registered.get(token) or self._known.get(token) or self._auto.get(token)
        if identity is None:
            identity = self._auto_register(token, provider)
        if identity.provider != provider:
            raise Forbidden(
                f"The identity {token} is a {PROVIDER_NAMES[identity.provider]} identity and "
                f"cannot publish to {PROVIDER_NAMES[provider]}: use a {PROVIDER_NAMES[provider]} "
                "identity_token for this resource"
            )
        if not identity.consent:
            raise Forbidden(
                f"The identity {token} has not granted the permission to publish: the user must "
                f"reconnect the {PROVIDER_NAMES[provider]} account and accept publishing"
            )
        if identity.expired:
            raise Forbidden(
                provider_refused(object_name),
                headers={
                    "X-Sandbox-Detail": f"The {PROVIDER_NAMES[provider]} access token of the "
                    f"identity {token} has expired: synchronize it (PUT /identities/{token}/"
                    "synchronize.json with force_token_update true) or connect it again"
                },
            )
        return identity

    def _auto_register(self, token: str, provider: str) -> Identity:
        if not UUID_PATTERN.fullmatch(token):
            raise NotFound(
                live.IDENTITY_NOT_FOUND,
                detail=f"No identity found for the identity_token {token!r}: identity tokens "
                "are lowercase UUIDs (8-4-4-4-12 hex digits)",
            )
        if token in self._tombstones:
            raise NotFound(IDENTITY_NOT_FOUND, headers=self._detail(token, "identity"))
        if self.strict:
            raise NotFound(
                live.IDENTITY_NOT_FOUND,
                detail=f"No identity found for the identity_token {token}: register it first "
                "(POST /__sandbox/identities) or run without --strict-identities",
            )
        # Its user is made again when read (from the maker of the current seed), not kept.
        identity = Identity(
            token,
            provider,
            origin=AUTO,
            user_maker=self._user_maker(),
            max_created=self._max_created,
        )
        self._add_auto(identity)
        self._join(identity, identity.user_token)
        return identity

    def _add_auto(self, identity: Identity) -> None:
        self._auto[identity.token] = identity
        self._auto_order.append(identity)
        self.auto_bound.take(0)
        while len(self._auto) > self._max_auto:
            oldest = self._auto_order.popleft()
            if self._auto.get(oldest.token) is oldest:
                del self._auto[oldest.token]
                self.auto_bound.give_back(0, dropped=True)
                self._leave(oldest)
                self._release_created(oldest)
                self._on_forget(oldest.token)


def _identity_cost(identity: Identity) -> int:
    """A registered identity's bytes: its JSON, as GET /__sandbox/identities lists it."""
    try:
        return len(orjson.dumps(identity.to_json()))
    except (orjson.JSONEncodeError, TypeError):  # integers over 64 bits
        return len(json.dumps(identity.to_json()))


def _target_cost(target: Mapping[str, Any]) -> int:
    return len(json.dumps(target, ensure_ascii=False).encode("utf-8", "replace"))


def describe_targets(identity: Identity, kind: str) -> str:
    """``104582931357924 (Analytical Engines Ltd), ...`` or ``none``, for refusals."""
    targets = identity.targets_of(kind)
    if not targets:
        return "none"
    return ", ".join(f"{target['id']} ({target.get('name', '')})" for target in targets)
