"""The models one running sandbox holds, without HTTP: identities, validators, ids."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from sandbox.catalog import ENDPOINTS
from sandbox.config import Settings
from sandbox.datafiles import data_path
from sandbox.fabricate import Fabricator, make_user
from sandbox.identities import IdentityStore, read_identities_file
from sandbox.schemas import Validators


@dataclass(slots=True)
class Sandbox:
    settings: Settings
    identities: IdentityStore
    validators: Validators
    fabricator: Fabricator

    @classmethod
    def from_settings(cls, settings: Settings) -> Sandbox:
        """Load every file the settings name; SettingsError says which one is wrong and why."""
        path = settings.identities or data_path("fixtures") / "identities.json"
        fabricator = Fabricator(settings.seed)
        identities = IdentityStore(
            read_identities_file(path),
            source=str(path),
            strict=settings.strict_identities,
            max_auto=settings.max_auto_identities,
            make_user=lambda provider, token: make_user(provider, token, fabricator.seed),
            on_forget=fabricator.forget,
        )
        validators = Validators.load(
            (endpoint.name for endpoint in ENDPOINTS),
            allow_unknown_keys=settings.allow_unknown_keys,
        )
        return cls(settings, identities, validators, fabricator)

    def reset(self) -> None:
        """Back to the start-up state; the seed restarts too."""
        self.identities.reset()
        self.fabricator.reseed(self.settings.seed)


# The typed key under which the aiohttp application holds its Sandbox.
SANDBOX = web.AppKey("sandbox", Sandbox)

# Set when the server begins to stop (SIGTERM, Ctrl-C). A request that waits on purpose (an
# injected delay or hang) waits on this too, so a stop cuts it short instead of using up the
# whole --grace period that real requests in flight get to finish.
STOPPING = web.AppKey("stopping", asyncio.Event)
