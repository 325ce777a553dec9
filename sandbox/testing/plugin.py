"""The pytest plugin: ``sandbox`` (async, on the test's loop), ``sandbox_server`` (threaded,
session-wide, reset before each test), ``sandbox_settings`` and the ``sandbox`` marker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from sandbox.config import Settings
from sandbox.http.server import start
from sandbox.testing.handle import RUNTIME_SETTINGS, SandboxHandle, ThreadedSandbox, settings_for


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sandbox(**settings): settings for this test's sandbox, e.g. seed=42, "
        "faults=[{'resource': 'twitter.post', 'preset': 'rate_limited'}], strict_identities=True",
    )


def _marker_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Keywords of every ``sandbox`` marker on the test, the closest winning."""
    merged: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("sandbox"))):
        if marker.args:
            raise pytest.UsageError("@pytest.mark.sandbox takes keyword settings only")
        merged.update(marker.kwargs)
    return merged


@pytest.fixture(scope="session")
def sandbox_settings() -> Settings:
    """The settings every sandbox of the session starts from; override it in a conftest.py."""
    return Settings(port=0, log_level="warning")


@pytest_asyncio.fixture
async def sandbox(
    request: pytest.FixtureRequest, sandbox_settings: Settings
) -> AsyncIterator[SandboxHandle]:
    """A sandbox of this test's own, served on the test's event loop, for async clients."""
    overrides = _marker_settings(request)
    faults = overrides.pop("faults", ())
    running = await start(settings_for(sandbox_settings, overrides))
    handle = SandboxHandle(running)
    if faults:
        handle.apply({"faults": faults})
    try:
        yield handle
        handle.check_fired()
    finally:
        await running.stop()


@pytest.fixture(scope="session")
def _sandbox_shared_server(sandbox_settings: Settings) -> Iterator[ThreadedSandbox]:
    server = ThreadedSandbox(sandbox_settings)
    yield server
    server.stop()


@pytest.fixture
def sandbox_server(
    request: pytest.FixtureRequest,
    sandbox_settings: Settings,
    _sandbox_shared_server: ThreadedSandbox,
) -> Iterator[SandboxHandle]:
    """The session's threaded sandbox, reset before each test, for synchronous clients
    (requests, urllib, a subprocess). Run-time settings from the marker apply to this test
    only; any other setting gets the test a server of its own."""
    overrides = _marker_settings(request)
    if set(overrides) - RUNTIME_SETTINGS:
        faults = overrides.pop("faults", ())
        own = ThreadedSandbox(settings_for(sandbox_settings, overrides))
        if faults:
            own.handle.apply({"faults": faults})
        try:
            yield own.handle
            own.handle.check_fired()
        finally:
            own.stop()
        return
    handle = _sandbox_shared_server.handle
    handle.reset()
    handle.apply(overrides)
    try:
        yield handle
        handle.check_fired()
    finally:
        handle.restore()
