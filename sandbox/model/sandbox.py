"""The models one running sandbox holds, without HTTP: identities, validators, ids, faults,
journal, what was published and the video jobs."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from dataclasses import dataclass
from typing import IO

from sandbox.api.datafiles import data_path
from sandbox.api.errors import SettingsError
from sandbox.api.push import ENDPOINTS
from sandbox.config import Settings
from sandbox.model.faults import FaultPlan
from sandbox.model.identities import IdentityStore, read_identities_file
from sandbox.model.jobs import JobQueue, Poster
from sandbox.model.journal import Journal, PublishedObjects
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
            max_created=settings.journal_size,
            on_forget=fabricator.forget,
        )
        validators = compiled_validators(settings.allow_unknown_keys)
        faults = FaultPlan.from_files(settings.faults, settings.seed)
        journal = Journal(settings.journal_size, _open_sink(settings))
        jobs = JobQueue(
            journal=journal,
            processing_time=settings.processing_time,
            retries=settings.callback_retries,
            size=settings.journal_size,
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
            objects=PublishedObjects(settings.journal_size),
            shutdown=Shutdown(),
            jobs=jobs,
            seed=settings.seed,
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


def _open_sink(settings: Settings) -> IO[str] | None:
    if settings.journal_file is None:
        return None
    try:
        return settings.journal_file.open("a", encoding="utf-8")
    except OSError as error:
        raise SettingsError(
            f"cannot open journal file {settings.journal_file}: {error.strerror}"
        ) from None
