"""The models one running sandbox holds, without HTTP: identities, validators, ids, faults,
journal, what was published and the video jobs."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from dataclasses import dataclass
from typing import Any

from sandbox.api.datafiles import data_path
from sandbox.api.errors import SettingsError
from sandbox.api.push import ENDPOINTS
from sandbox.config import Settings
from sandbox.model.bounds import REFUSE, Bound, InFlight
from sandbox.model.faults import FaultPlan
from sandbox.model.health import Troubles
from sandbox.model.identities import IdentityStore, read_identities_file
from sandbox.model.jobs import JobQueue, Poster
from sandbox.model.journal import Journal, JournalFile, PublishedObjects
from sandbox.model.results import Fabricator
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
        )

    def health(self) -> dict[str, Any]:
        """``ok``, or ``degraded`` with the troubles, and every bound's counters."""
        troubles = self.troubles
        return {
            "status": "degraded" if troubles.degraded else "ok",
            "reasons": [t["reason"] for t in troubles.to_json() if t["active"]],
            "troubles": troubles.to_json(),
            "bounds": {bound.name: bound.report() for bound in self.bounds},
        }

    @classmethod
    def from_settings(cls, settings: Settings, *, poster: Poster) -> Sandbox:
        """Load every file the settings name; SettingsError says which one is wrong and why."""
        path = settings.identities or data_path("fixtures") / "identities.json"
        fabricator = Fabricator(settings.seed)
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
        )

    def reseed(self, seed: int | None) -> None:
        """Restart every random source from ``seed``."""
        self.seed = seed
        self.fabricator.reseed(seed)
        self.faults.reseed(seed)

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

    async def close(self) -> None:
        """Nothing outlives the server: job tasks, the callback client, the journal file."""
        await self.jobs.close()
        if self.journal.sink is not None:
            self.journal.sink.close()


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
