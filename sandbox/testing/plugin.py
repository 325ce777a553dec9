"""The pytest plugin: ``sandbox`` (async, on the test's loop), ``sandbox_server`` (threaded,
session-wide, reset before each test), ``sandbox_settings`` and the ``sandbox`` marker.

It works in a project with no pytest configuration at all: an ``async def`` test that uses a
sandbox fixture is marked ``asyncio`` here, whatever the project's ``asyncio_mode``, and
pytest-asyncio's warning about an unset ``asyncio_default_fixture_loop_scope`` is answered
with the value that keeps its behaviour. pytest-asyncio itself is optional (the ``pytest``
extra): without it the threaded fixture works and the async one says what to install.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from typing import Any

import pytest

from sandbox.config import Settings
from sandbox.http.server import start
from sandbox.testing.handle import RUNTIME_SETTINGS, SandboxHandle, ThreadedSandbox, settings_for

try:
    import pytest_asyncio
except ImportError:  # installed without the ``pytest`` extra
    pytest_asyncio = None  # type: ignore[assignment]

FIXTURES = ("sandbox", "sandbox_server")
LOOP_SCOPE_INI = "asyncio_default_fixture_loop_scope"
MISSING_ASYNCIO = (
    "the async sandbox fixture needs pytest-asyncio: pip install 'oneall-push-sandbox[pytest]' "
    "(or use the threaded sandbox_server fixture)"
)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sandbox(**settings): settings for this test's sandbox, e.g. seed=42, "
        "faults=[{'resource': 'twitter.post', 'preset': 'rate_limited'}], strict_identities=True",
    )
    if pytest_asyncio is not None:
        _answer_loop_scope_warning(config)


def _answer_loop_scope_warning(config: pytest.Config) -> None:
    """pytest-asyncio warns on every run of a project that leaves its fixture loop scope unset:
    before it looks (this hook runs first), set the value it names as today's behaviour
    ("fixture-scope"; "function" on versions before it, their announced default). A value the
    project sets itself is kept."""
    try:
        if config.getini(LOOP_SCOPE_INI):
            return
    except ValueError:  # a pytest-asyncio without the option: nothing to answer
        return
    import pytest_asyncio.plugin as asyncio_plugin

    scope = getattr(asyncio_plugin, "_MATCH_FIXTURE_SCOPE", "function")
    # getini() answers from its cache of what it read: the value goes there, as -o would.
    cache = getattr(config, "_inicache", None)
    if isinstance(cache, dict):
        cache[LOOP_SCOPE_INI] = scope


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, Any, Any]:
    """Mark ``async def`` tests that use a sandbox fixture ``asyncio`` as they are collected,
    before pytest-asyncio (whose wrapper runs around this one) decides how to run them: the
    project's strict mode then needs no marker, and auto mode is unaffected."""
    collected = yield
    if pytest_asyncio is None or not inspect.iscoroutinefunction(obj):
        return collected
    items = collected if isinstance(collected, list) else [collected]
    for item in items:
        if (
            isinstance(item, pytest.Function)
            and any(name in item.fixturenames for name in FIXTURES)
            and item.get_closest_marker("asyncio") is None
        ):
            item.add_marker(pytest.mark.asyncio)
    return collected


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


async def _sandbox(
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


def _sandbox_needs_asyncio(request: pytest.FixtureRequest) -> SandboxHandle:
    """A sandbox of this test's own, served on the test's event loop, for async clients."""
    pytest.fail(MISSING_ASYNCIO, pytrace=False)


sandbox: Callable[..., Any] = (
    pytest.fixture(_sandbox_needs_asyncio, name="sandbox")
    if pytest_asyncio is None
    else pytest_asyncio.fixture(_sandbox, name="sandbox")
)


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
