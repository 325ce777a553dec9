"""The models one running sandbox holds, without HTTP: identities, validators, ids, faults,
journal, what was published and the video jobs."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from dataclasses import dataclass
from typing import Any

from sandbox.api.connections import SERVICES, SOCIAL_LINK, SOCIAL_LOGIN
from sandbox.api.datafiles import data_path
from sandbox.api.errors import BadRequest, Forbidden, NotFound, ProviderError, SettingsError
from sandbox.api.live import IDENTITY_NOT_FOUND
from sandbox.api.push import ENDPOINTS, PROVIDER_NAMES, Endpoint
from sandbox.config import Settings
from sandbox.model import publishing
from sandbox.model.bounds import REFUSE, Bound, InFlight
from sandbox.model.connections import Connection, Connections
from sandbox.model.faults import ANSWER_EFFECTS, Fault, FaultPlan, expire_on
from sandbox.model.health import DEGRADED, OK, Troubles
from sandbox.model.identities import Identity, IdentityStore, read_identities_file
from sandbox.model.jobs import JobQueue, Poster
from sandbox.model.journal import Entry, Journal, JournalFile, PublishedObjects
from sandbox.model.publishing import Published
from sandbox.model.results import Fabricator
from sandbox.model.sharing import Messages
from sandbox.model.tokens import TokenSource
from sandbox.validation.schemas import Validators


class Shutdown:
    """Cut short every injected wait when the server stops, so nothing outlives it."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    async def sleep(self, seconds: float) -> bool:
        """Sleep; False when the wait was cut short by a shutdown."""
        if seconds <= 0:
            return not self.event.is_set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), seconds)
            return False
        return True


@dataclass(slots=True)
class Sandbox:
    settings: Settings
    identities: IdentityStore
    validators: Validators
    fabricator: Fabricator
    faults: FaultPlan
    journal: Journal
    objects: PublishedObjects
    shutdown: Shutdown
    jobs: JobQueue
    seed: int | None
    troubles: Troubles
    bodies: InFlight
    # Browser tabs the dashboard streams the journal to (sandbox.http.dashboard.live).
    dashboard_clients: Bound

    @property
    def bounds(self) -> tuple[Bound, ...]:
        """Every bounded store, for the health report (docs/limits.md)."""
        return (
            self.journal.bound,
            self.objects.bound,
            *self.identities.bounds,
            self.jobs.bound,
            self.jobs.unfinished_bound,
            self.faults.rules_bound,
            self.faults.counters_bound,
            self.bodies.bound,
            *((self.dashboard_clients,) if self.settings.ui else ()),
            self.connections.bound,
            self.messages.bound,
        )

    def health(self) -> dict[str, Any]:
        """``ok``, or ``degraded`` with the troubles, and every bound's counters."""
        troubles = self.troubles
        return {
            "status": DEGRADED if troubles.degraded else OK,
            "reasons": [t["reason"] for t in troubles.to_json() if t["active"]],
            "troubles": troubles.to_json(),
            "bounds": {bound.name: bound.report() for bound in self.bounds},
        }

    connections: Connections
    messages: Messages
    tokens: TokenSource

    @classmethod
    def from_settings(cls, settings: Settings, *, poster: Poster) -> Sandbox:
        """Load every file the settings name; SettingsError says which one is wrong and why."""
        path = settings.identities or data_path("fixtures") / "identities.json"
        fabricator = Fabricator(settings.seed)
        tokens = TokenSource(settings.seed)
        identities = IdentityStore(
            read_identities_file(path),
            source=str(path),
            strict=settings.strict_identities,
            max_auto=settings.max_auto_identities,
            user_maker=fabricator.user_maker,
            max_created=settings.max_created_targets,
            on_forget=fabricator.forget,
            max_registered=settings.max_identities,
            registered_max_bytes=settings.identities_max_bytes,
            max_created_total=settings.max_created_targets,
            created_max_bytes=settings.created_targets_max_bytes,
            max_tombstones=settings.max_tombstones,
            new_token=tokens.new,
        )
        validators = compiled_validators(settings.allow_unknown_keys)
        faults = FaultPlan.from_files(
            settings.faults,
            settings.seed,
            max_rules=settings.max_fault_rules,
            max_counters=settings.max_fault_counters,
        )
        troubles = Troubles()
        journal = Journal(
            settings.journal_size,
            _open_sink(settings, troubles),
            max_bytes=settings.journal_max_bytes,
            max_body=settings.journal_max_body,
            secrets=settings.secrets,
        )
        jobs = JobQueue(
            journal=journal,
            processing_time=settings.processing_time,
            retries=settings.callback_retries,
            size=settings.max_jobs,
            max_unfinished=settings.max_unfinished_jobs,
            poster=poster,
            outbound_fault=lambda job: faults.pick(
                job.resource, job.provider, job.identity, stage="callback"
            ),
        )
        return cls(
            settings=settings,
            identities=identities,
            validators=validators,
            fabricator=fabricator,
            faults=faults,
            journal=journal,
            objects=PublishedObjects(settings.journal_size, settings.objects_max_bytes),
            shutdown=Shutdown(),
            jobs=jobs,
            seed=settings.seed,
            troubles=troubles,
            bodies=InFlight(
                Bound(
                    "bodies_in_flight",
                    max_count=None,
                    max_bytes=settings.max_bodies_in_flight,
                    policy=REFUSE,
                    flags=("--max-bodies-in-flight",),
                )
            ),
            dashboard_clients=Bound(
                "dashboard_clients",
                max_count=settings.ui_max_clients,
                policy=REFUSE,
                flags=("--ui-max-clients",),
            ),
            connections=Connections(settings.max_connections, settings.connections_max_bytes),
            messages=Messages(settings.max_sharing_messages, settings.sharing_messages_max_bytes),
            tokens=tokens,
        )

    def reseed(self, seed: int | None) -> None:
        """Restart every random source from ``seed``."""
        self.seed = seed
        self.fabricator.reseed(seed)
        self.faults.reseed(seed)
        self.tokens.reseed(seed)

    def reset(self) -> None:
        """Back to the start-up state: journal, faults, identities and their created targets,
        published objects; the seed restarts too."""
        self.identities.reset()
        self.journal.clear()
        self.objects.clear()
        self.jobs.reset()
        self.faults.seed = self.seed
        self.faults.reset()
        self.fabricator.reseed(self.seed)
        self.connections.clear()
        self.messages.clear()
        self.tokens.reseed(self.seed)

    # --- publishing: the push pipeline's domain steps, for HTTP pushes and sharing -------

    def publish(
        self,
        endpoint: Endpoint,
        token: str,
        body: object,
        params: dict[str, str] | None = None,
        *,
        path: str,
        entry: Entry | None = None,
    ) -> Published:
        """One push without HTTP: identity, validation, the fault rules, fabrication. A fault
        rule that would break the HTTP answer fails the publication instead (a delay does
        nothing here). Raises the RequestError the push would answer; ``entry`` gets the
        fault that fired."""
        params = params or {}
        admitted = publishing.admit(self, endpoint, token, body, params)
        stage = "video" if endpoint.asynchronous else "answer"
        fault = self.faults.pick(endpoint.name, endpoint.provider, token, stage)
        if fault is not None:
            if entry is not None:
                entry.fault = fault.to_json()
            expire_on(fault, admitted.identity)
            if fault.effect in ANSWER_EFFECTS and fault.effect != "delay":
                raise fault_refusal(fault, endpoint.provider, publishing.object_name(endpoint))
        when = entry.started if entry is not None else time.time()
        return publishing.fabricate(self, admitted, path=path, when=when, fault=fault)

    # --- connections and token states ------------------------------------------------------

    def connect(
        self,
        provider: str,
        identity_token: str | None = None,
        *,
        user_token: str | None = None,
        service: str = SOCIAL_LOGIN,
        callback_uri: str | None = None,
    ) -> Connection:
        """The connection Social Login makes when a person allows it: as ``identity_token``,
        or as a new identity of a new user (not with --strict-identities). ``social_link``
        moves the identity to ``user_token``'s user. A new connection ends an expired token."""
        store = self.identities
        if service not in SERVICES:
            raise BadRequest(f"service must be {' or '.join(SERVICES)}, got {service!r}")
        if service == SOCIAL_LINK and user_token is None:
            raise NotFound(
                "No user has been found for the specified user_token: service social_link "
                "needs the user_token of the user to link to"
            )
        if user_token is not None:
            store.user(user_token)  # 404 for an unknown user
        if identity_token is None:
            if store.strict:
                raise BadRequest(
                    "With --strict-identities a connection names a known identity_token: "
                    "no new user is made up"
                )
            identity = store.add_connected(
                self.tokens.new("identity"), provider, user_token or self.tokens.new("user")
            )
        else:
            identity = self._connecting(identity_token, provider)
        action = "login"
        if service == SOCIAL_LINK:
            assert user_token is not None
            store.link(identity.token, user_token)
            action = "link_identity"
        store.login(identity)
        connection = Connection(
            token=self.tokens.new("connection"),
            identity_token=identity.token,
            user_token=identity.user_token,
            provider=provider,
            plugin=service,
            action=action,
            callback_uri=callback_uri,
        )
        return self.connections.add(connection)

    def _connecting(self, token: str, provider: str) -> Identity:
        store = self.identities
        identity = store.find(token)
        if identity is None:
            if store.deleted(token):
                raise NotFound(IDENTITY_NOT_FOUND)
            if store.strict:
                raise NotFound(
                    f"No identity found for the identity_token {token}: register it first "
                    "(POST /__sandbox/identities) or run without --strict-identities"
                )
            identity = store.resolve(token, provider)  # registered as a push would
        if identity.provider != provider:
            raise Forbidden(
                f"The identity {token} is a {PROVIDER_NAMES[identity.provider]} identity, "
                f"not a {PROVIDER_NAMES.get(provider, provider)} one"
            )
        return identity

    def expire_token(self, token: str) -> Identity:
        """The network's access token of this identity has expired (oneall-api.md §5): its
        pushes answer 403 until it is synchronized with force_token_update or connects again."""
        identity = self.identities.get(token)
        identity.expired = True
        return identity

    async def close(self) -> None:
        """Nothing outlives the server: job tasks, the callback client, the journal file."""
        await self.jobs.close()
        if self.journal.sink is not None:
            self.journal.sink.close()


def fault_refusal(fault: Fault, provider: str, noun: str) -> ProviderError:
    """A fired rule as the refusal of one publication: ``{provider}`` and ``{object}`` filled
    in as the HTTP answer would have them."""
    name = PROVIDER_NAMES.get(provider, provider)

    def filled(sentence: str) -> str:
        return sentence.replace("{provider}", name).replace("{object}", noun)

    info = filled(fault.info or "") or (
        f"The provider {name} answered unexpectedly (injected fault: {fault.effect})"
    )
    headers = dict(fault.headers)
    if fault.detail is not None:
        headers["X-Sandbox-Detail"] = filled(fault.detail)
    return ProviderError(info, status=fault.status or 502, headers=headers)


@functools.cache
def compiled_validators(allow_unknown_keys: bool) -> Validators:
    """Compiled once per process: validators hold no state, so every sandbox (one per test in
    the pytest plugin) shares them instead of paying ~50 ms of compilation each."""
    return Validators.load(
        (endpoint.name for endpoint in ENDPOINTS), allow_unknown_keys=allow_unknown_keys
    )


def _open_sink(settings: Settings, troubles: Troubles) -> JournalFile | None:
    if settings.journal_file is None:
        return None
    try:
        return JournalFile(settings.journal_file, troubles)
    except OSError as error:
        raise SettingsError(
            f"cannot open journal file {settings.journal_file}: {error.strerror}"
        ) from None
