"""The handle tests hold on a running sandbox: its URL and keys, identities, fault rules, the
journal and assertions on it. ``run()`` serves one from a background thread, for synchronous
clients and code outside pytest."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from sandbox.api.connections import SOCIAL_LOGIN
from sandbox.api.control import OUTBOUND
from sandbox.config import Settings
from sandbox.http.server import Running, start
from sandbox.model.answers import connection_json
from sandbox.model.faults import Fault
from sandbox.model.journal import body_matches, push_node
from sandbox.model.sandbox import Sandbox

T = TypeVar("T")

# Settings a running sandbox can change for one test and restore after it.
RUNTIME_SETTINGS = frozenset({"seed", "faults", "strict_identities", "deprecated", "validation"})


class SiteAuth(aiohttp.BasicAuth):
    """The site keys as HTTP Basic auth, for requests (``auth=``) and aiohttp (``auth=``, which
    aiohttp 3.14 deprecates: there pass ``headers=handle.headers`` instead)."""

    def __new__(cls, login: str, password: str = "", encoding: str = "latin1") -> SiteAuth:
        # aiohttp 3.14 deprecates constructing BasicAuth, not passing one as ``auth=``: build
        # the tuple directly so tests running with warnings as errors keep working.
        return tuple.__new__(cls, (login, password, encoding))

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = self.encode()
        return request


class UnfiredFaultWarning(UserWarning):
    """A fault rule armed by a test never fired during it: the test may not test what it says."""


@dataclass(frozen=True, slots=True)
class Call:
    """One journaled exchange, as a test sees it (the Authorization header redacted)."""

    id: int
    time: str
    duration_ms: float
    method: str
    path: str
    resource: str | None
    identity: str | None
    provider: str | None
    direction: str
    headers: dict[str, str]
    body: Any
    status: int | None
    info: str | None
    data: Any
    fault: dict[str, Any] | None
    warnings: tuple[str, ...] = ()  # what validation warned about (X-Sandbox-Warning)
    detail: str | None = None  # the sandbox's sentence where info is the live API's

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> Call:
        return cls(
            id=entry["id"],
            time=entry["time"],
            duration_ms=entry["duration_ms"],
            method=entry["method"],
            path=entry["path"],
            resource=entry["resource"],
            identity=entry["identity"],
            provider=entry["provider"],
            direction=entry["direction"],
            headers=entry["request"]["headers"],
            body=entry["request"]["body"],
            status=entry["response"]["status"],
            info=entry["response"]["info"],
            data=entry["response"]["data"],
            fault=entry["fault"],
            warnings=tuple(entry.get("warnings", ())),
            detail=entry.get("detail"),
        )

    @property
    def node(self) -> Any:
        """The object node sent (``body["request"]["push"][<node>]``), or None."""
        return push_node(self.body)

    def describe(self) -> str:
        body = json.dumps(self.body, ensure_ascii=False)
        if len(body) > 300:
            body = body[:300] + "…"
        where = self.resource or self.path
        described = f"#{self.id} {where} identity={self.identity} -> {self.status}: {body}"
        if self.detail:
            described += f"\n      detail: {self.detail}"
        for warning in self.warnings:
            described += f"\n      warning: {warning}"
        return described


class Journal:
    """The journal as typed calls, newest last."""

    def __init__(self, calls: list[Call]) -> None:
        self._calls = calls

    def __iter__(self) -> Iterator[Call]:
        return iter(self._calls)

    def __len__(self) -> int:
        return len(self._calls)

    def __getitem__(self, index: int) -> Call:
        return self._calls[index]

    def filter(
        self,
        resource: str | None = None,
        *,
        identity: str | None = None,
        status: int | None = None,
        body: Any = None,
    ) -> list[Call]:
        return [
            call
            for call in self._calls
            if (resource is None or call.resource == resource)
            and (identity is None or call.identity == identity)
            and (status is None or call.status == status)
            and (body is None or body_matches(call.body, body))
        ]


class SandboxHandle:
    """What a test needs of one running sandbox. Every change runs on the server's event loop,
    so a handle served from another thread is safe to use from the test's thread."""

    def __init__(self, running: Running, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._running = running
        self._loop = loop
        self._armed: list[tuple[Fault, bool]] = []
        self._restore: dict[str, Any] = {}
        self.url = running.url
        # With HTTPS: the CA certificate to trust (requests' verify=, ssl.create_default_context)
        self.ca_path = running.ca_path
        settings = running.sandbox.settings
        self.public_key, self.private_key = settings.public_key, settings.private_key
        self.auth = SiteAuth(settings.public_key, settings.private_key)
        self.headers = {"Authorization": self.auth.encode()}

    @property
    def state(self) -> Sandbox:
        return self._running.sandbox

    def _on_loop(self, action: Callable[[], T]) -> T:
        if self._loop is None:
            return action()

        async def call() -> T:
            return action()

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout=10)

    def push_url(self, resource_path: str, token: str) -> str:
        """``push_url("twitter/post.json", token)`` -> the full URL of that push resource."""
        return f"{self.url}/push/identities/{token}/{resource_path}"

    def identity(self, provider: str, **details: Any) -> str:
        """Register an identity (targets, consent, user ...) and return its token."""
        return self._on_loop(
            lambda: self.state.identities.register({"provider": provider, **details}).token
        )

    def connect(
        self,
        provider: str,
        identity: str | None = None,
        *,
        user: str | None = None,
        service: str = SOCIAL_LOGIN,
    ) -> dict[str, Any]:
        """A Social Login connection, as a person allowing the consent page makes it (a new
        identity of a new user when ``identity`` is None): what ``GET /connections/<token>.json``
        answers in ``result.data``, plus its ``connection_token``. The identity token a push
        needs is ``["user"]["identity"]["identity_token"]``."""

        def make() -> dict[str, Any]:
            sandbox = self.state
            connection = sandbox.connect(provider, identity, user_token=user, service=service)
            return {"connection_token": connection.token, **connection_json(sandbox, connection)}

        return self._on_loop(make)

    def expire_token(self, identity: str) -> None:
        """The network's access token of ``identity`` expires: its pushes answer 403 until it is
        synchronized (``force_token_update``) or connects again (oneall-api.md §5)."""
        self._on_loop(lambda: self.state.expire_token(identity))

    def fail(
        self,
        resource: str = "*",
        *,
        expect_fired: bool = False,
        **rule: Any,
    ) -> Fault:
        """Arm one fault rule (``preset=`` or ``effect=`` and its parameters); the returned rule's
        ``matched`` and ``fired`` counters stay live. A rule that never fires during the test is
        reported at its end: a warning, or a failure with ``expect_fired=True``."""
        fault = self._on_loop(lambda: self.state.faults.arm([{"resource": resource, **rule}])[0])
        self._armed.append((fault, expect_fired))
        return fault

    def answer(
        self,
        resource: str,
        data: Mapping[str, Any] | None = None,
        *,
        expect_fired: bool = False,
        **rule: Any,
    ) -> Fault:
        """Arm a canned answer: ``data`` (result keys) is merged into the result of the next
        successes of ``resource`` (``times=``, ``after=``, ``identity=``, ``probability=`` as
        for a fault). Data the resource could never return is refused here, naming the key;
        a rule that never fires is reported at the end of the test, as ``fail()``'s are."""
        spec = {"resource": resource, "answer": dict(data or {}), **rule}
        fault = self._on_loop(lambda: self.state.faults.arm([spec])[0])
        self._armed.append((fault, expect_fired))
        return fault

    @property
    def journal(self) -> Journal:
        return Journal(
            self._on_loop(lambda: [Call.from_json(entry.to_json()) for entry in self.state.journal])
        )

    @property
    def objects(self) -> list[dict[str, Any]]:
        return self._on_loop(self.state.objects.all)

    @property
    def jobs(self) -> list[dict[str, Any]]:
        """Every video job with its state and callback deliveries."""
        return self._on_loop(lambda: [job.to_json() for job in self.state.jobs.all()])

    def finish_jobs(self) -> list[dict[str, Any]]:
        """End every unfinished video job now and return those jobs, their state already final
        (``succeeded`` or ``failed``); their callbacks then go out (``await callbacks()``)."""
        queue = self.state.jobs
        return self._on_loop(lambda: [job.to_json() for job in queue.finish(queue.all())])

    async def callbacks(self, count: int = 1, *, timeout: float = 5.0) -> list[Call]:
        """Wait until at least ``count`` callback deliveries (outbound exchanges, any status)
        are in the journal, and return them; fails after ``timeout`` seconds listing the jobs."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            delivered = [call for call in self.journal if call.direction == OUTBOUND]
            if len(delivered) >= count:
                return delivered
            if loop.time() >= deadline:
                raise AssertionError(
                    f"expected {count} callback deliveries within {timeout} s, got "
                    f"{len(delivered)}; jobs: {json.dumps(self.jobs)}"
                )
            await asyncio.sleep(0.005)

    def reset(self) -> None:
        self._on_loop(self.state.reset)
        self._armed.clear()

    def reseed(self, seed: int | None) -> None:
        self._on_loop(lambda: self.state.reseed(seed))

    def assert_pushed(
        self,
        resource: str,
        *,
        times: int | None = None,
        identity: str | None = None,
        body: Any = None,
        status: int | None = None,
    ) -> list[Call]:
        """The calls to ``resource`` matching the filters (``body`` may be a part of the body or
        of the object node); fails listing the closest recorded calls when there are none, or
        not exactly ``times``."""
        journal = self.journal
        found = journal.filter(resource, identity=identity, status=status, body=body)
        if (times is None and found) or (times is not None and len(found) == times):
            return found
        wanted = f"{times} call(s)" if times is not None else "at least one call"
        criteria = ", ".join(
            f"{name}={value!r}"
            for name, value in (("identity", identity), ("body", body), ("status", status))
            if value is not None
        )
        raise AssertionError(
            f"expected {wanted} to {resource}{' with ' + criteria if criteria else ''}, "
            f"found {len(found)}.\n{self._near_misses(journal, resource, identity)}"
        )

    def assert_no_warnings(self, resource: str | None = None) -> None:
        """Fails listing every call (to ``resource``, or any) the sandbox warned about:
        doubtful input the live profile took (spec §6) that strict would refuse, or a page size
        a list clamped to its maximum."""
        warned = [
            call
            for call in self.journal
            if call.warnings and (resource is None or call.resource == resource)
        ]
        if warned:
            listed = "\n".join("  " + call.describe() for call in warned)
            raise AssertionError(
                f"expected no validation warnings, {len(warned)} call(s) had:\n{listed}"
            )

    def assert_not_pushed(
        self, resource: str, *, identity: str | None = None, body: Any = None
    ) -> None:
        found = self.journal.filter(resource, identity=identity, body=body)
        if found:
            listed = "\n".join("  " + call.describe() for call in found)
            raise AssertionError(f"expected no call to {resource}, found {len(found)}:\n{listed}")

    @staticmethod
    def _near_misses(journal: Journal, resource: str, identity: str | None) -> str:
        near = [
            call
            for call in journal
            if call.resource == resource or (identity is not None and call.identity == identity)
        ]
        if not near:
            recorded = sorted({call.resource or call.path for call in journal})
            return "No call to that resource or identity was recorded" + (
                f"; recorded: {', '.join(recorded)}" if recorded else " (the journal is empty)"
            )
        return "Closest recorded calls:\n" + "\n".join("  " + c.describe() for c in near[-10:])

    # --- per-test settings and end-of-test checks, used by the pytest plugin ---------------

    def apply(self, changes: Mapping[str, Any]) -> None:
        """Apply run-time settings for one test; ``restore`` undoes them."""

        def change() -> None:
            sandbox = self.state
            for name, value in changes.items():
                if name == "faults":
                    sandbox.faults.arm(fault_specs(value), files=True)
                    continue
                self._restore.setdefault(name, getattr(sandbox.settings, name))
                sandbox.settings = sandbox.settings.replace(**{name: value})
                if name == "seed":
                    sandbox.reseed(value)
                if name == "strict_identities":
                    sandbox.identities.strict = value

        self._on_loop(change)

    def restore(self) -> None:
        changes, self._restore = self._restore, {}

        def undo() -> None:
            sandbox = self.state
            sandbox.settings = sandbox.settings.replace(**changes)
            sandbox.identities.strict = sandbox.settings.strict_identities
            sandbox.seed = sandbox.settings.seed

        self._on_loop(undo)

    def check_fired(self) -> None:
        """Report rules armed with ``fail()`` that never fired (called at the end of a test)."""
        armed, self._armed = self._armed, []
        unfired = [(fault, strict) for fault, strict in armed if fault.fired == 0]
        for fault, strict in unfired:
            message = (
                f"fault rule {fault.id} ({fault.preset or fault.effect} on {fault.resource}) "
                f"never fired: it matched {fault.matched} call(s)"
            )
            if strict:
                raise AssertionError(message)
            warnings.warn(message, UnfiredFaultWarning, stacklevel=2)


def fault_specs(value: Any) -> list[Any]:
    """The marker's ``faults=``: rules, scenario names and paths, or one of them alone."""
    if isinstance(value, str | os.PathLike | Mapping):
        value = [value]
    return [os.fspath(spec) if isinstance(spec, os.PathLike) else spec for spec in value]


def settings_for(base: Settings, overrides: Mapping[str, Any]) -> Settings:
    """``base`` with ``overrides`` (marker keywords); unknown names are refused by name."""
    names = {f.name for f in fields(Settings)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise TypeError(f"unknown sandbox setting(s): {', '.join(unknown)}; known: {sorted(names)}")
    return base.replace(**{name: _as_setting(name, value) for name, value in overrides.items()})


_FIELD_TYPES = {f.name: str(f.type) for f in fields(Settings)}


def _as_setting(name: str, value: Any) -> Any:
    """What a marker writes naturally as the setting's type: a path as a string, one of a
    list (``tls_names="*.api.localhost"``) alone."""
    kind = _FIELD_TYPES[name]
    if kind.startswith("Path") and isinstance(value, str):
        return Path(value)
    if kind.startswith("tuple") and isinstance(value, str | os.PathLike):
        value = (value,)
    if kind == "tuple[Path, ...]" and isinstance(value, list | tuple):
        return tuple(Path(item) for item in value)
    if kind.startswith("tuple") and isinstance(value, list):
        return tuple(value)
    return value


class ThreadedSandbox:
    """A sandbox served by its own event loop in a daemon thread."""

    def __init__(self, settings: Settings) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(start(settings), self._loop)
        try:
            running = future.result(timeout=30)
        except BaseException:
            self._close_loop()
            raise
        self.handle = SandboxHandle(running, self._loop)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.handle._running.stop(), self._loop).result(30)
        self._close_loop()

    def _close_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


@contextmanager
def run(settings: Settings | None = None, **overrides: Any) -> Iterator[SandboxHandle]:
    """Serve a sandbox from a background thread for the ``with`` block::

    with run(seed=42) as sandbox:
        requests.post(sandbox.push_url("twitter/post.json", token), auth=sandbox.auth, ...)
    """
    server = ThreadedSandbox(settings_for(settings or Settings(port=0), overrides))
    try:
        yield server.handle
    finally:
        server.stop()
