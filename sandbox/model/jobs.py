"""Asynchronous video jobs: queued -> processing -> succeeded or failed, then the result POSTed
to the request's ``callback_url`` with retries. The only outbound traffic the sandbox makes."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import ipaddress
import math
import re
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from sandbox import __version__
from sandbox.api import control, envelope
from sandbox.api.push import PROVIDER_NAMES
from sandbox.config import DEFAULTS
from sandbox.model.bounds import FORGET_OLDEST, REFUSE, Bound
from sandbox.model.faults import Fault
from sandbox.model.journal import Entry, Journal

USER_AGENT = f"oneall-push-sandbox/{__version__} (video processing callback)"
JOB_HEADER = "X-Sandbox-Job"
JOB_STATES = control.JOB_STATES
QUEUED, PROCESSING, SUCCEEDED, FAILED = JOB_STATES
CALLBACK_TIMEOUT_S = 5.0
FIRST_RETRY_DELAY_S = 0.5
JOB_TICK_S = 0.01  # jobs move on at most this late (one loop timer for all due within it)


# A host name as DNS spells it (RFC 1123 labels), dot-terminated or not.
_HOST_NAME = re.compile(
    r"(?=.{1,253}\.?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?"
)
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f]")


def loopback_name(host: str) -> bool:
    """``localhost`` and every name under ``.localhost`` (RFC 6761 §6.3): loopback by
    definition, so the sandbox connects to 127.0.0.1 without asking any resolver."""
    host = host.lower()
    return host == "localhost" or host.endswith(".localhost")


def callback_refusal(url: str, allowed: Iterable[str]) -> str | None:
    """Why a callback URL may not be called (None when it may): loopback, or a host the user
    allowed explicitly. Hosts are compared as written; nothing is resolved here, and
    ``localhost`` names are never resolved at all (:func:`loopback_name`)."""
    if _URL_FORBIDDEN.search(url):
        return "must not hold spaces or control characters"
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:  # a stray [ or ] in the host part: urlsplit will not read it
        host = ""
    is_ip = False
    with contextlib.suppress(ValueError):
        is_ip = ipaddress.ip_address(host) is not None
    if host and not is_ip and not _HOST_NAME.fullmatch(host):
        shown = host if len(host) <= 60 else host[:60] + "…"
        return f"has no valid host name (letters, digits, hyphens and dots), got {shown!r}"
    if loopback_name(host):
        return None
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).is_loopback:
            return None
    if host in {name.lower() for name in allowed}:
        return None
    shown = host if len(host) <= 60 else host[:60] + "…"
    return (
        f"must point to a loopback address (localhost, 127.0.0.0/8, [::1]) or to a host "
        f"allowed with --callback-allow, got the host {shown or '(none)'!r}"
    )


@dataclass(slots=True)
class Delivery:
    attempt: int
    time: float
    status: int | None = None
    error: str | None = None
    duration_ms: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "time": self.time,
            "status": self.status,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 3),
        }


@dataclass(slots=True)
class Job:
    number: int  # the n of its id, job-n: jobs are forgotten in this order
    resource: str
    path: str
    identity: str
    provider: str
    video_id: str
    data: Mapping[str, Any]  # as answered (shared with the journal): processing_status queued
    callback_url: str | None
    failure: Fault | None
    outbound: Fault | None = None  # a callback fault named by the request's X-Sandbox-Fault
    state: str = QUEUED
    created: float = field(default_factory=time.time)
    finished: float | None = None
    deliveries: tuple[Delivery, ...] = ()
    # Whether the queue will move the job on (false once it has ended, or the queue stopped),
    # then the task delivering its callback, dropped when done: the queue keeps up to the
    # journal size of jobs.
    waiting: bool = True
    task: asyncio.Task[None] | None = None
    body: bytes | None = None  # the final envelope, fixed when processing ends

    @property
    def id(self) -> str:
        return f"job-{self.number}"

    def __lt__(self, other: Job) -> bool:
        """In the order they were made: the heap of finished jobs forgets the oldest first."""
        return self.number < other.number

    @property
    def done(self) -> bool:
        return self.state in (SUCCEEDED, FAILED)

    @property
    def state_words(self) -> str:
        """For refusals: ``not finished yet (processing)`` or ``failed``."""
        return FAILED if self.state == FAILED else f"not finished yet ({self.state})"

    def final_envelope(self) -> bytes:
        """What the callback carries: the synchronous envelope, success or error (no result).
        Made once, when processing ends, so every attempt and copy carries the same bytes."""
        if self.body is None:
            self.body = self._make_envelope()
        return self.body

    def _make_envelope(self) -> bytes:
        if self.failure is not None:
            status = self.failure.status or 403
            info = (self.failure.info or "The video could not be processed").replace(
                "{provider}", PROVIDER_NAMES.get(self.provider, self.provider)
            )
            return envelope.failure(self.path, status, info)
        return envelope.success(self.path, {**self.data, "processing_status": self.state})

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "resource": self.resource,
            "identity": self.identity,
            "provider": self.provider,
            "video_id": self.video_id,
            "state": self.state,
            "callback_url": self.callback_url,
            "created": self.created,
            "finished": self.finished,
            "deliveries": [delivery.to_json() for delivery in self.deliveries],
        }


OutboundFaults = Callable[[Job], Fault | None]


class CallbackFailed(Exception):
    """A callback that got no HTTP answer; its text says why, as the journal shows it."""


class Poster(Protocol):
    """Delivers a callback over HTTP: the one piece of a job that needs a network client, kept
    in the HTTP layer (:mod:`sandbox.http.callbacks`) so the model needs none."""

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        """The receiver's status; :class:`CallbackFailed` when there was no answer."""

    async def close(self) -> None:
        """Release connections; the poster may be used again afterwards."""


class JobQueue:
    """Jobs by id, bounded (finished jobs forgotten oldest first). Processing runs on one loop
    timer, not a timer or task per job: every job waits the same time at each stage, so the
    jobs due at a stage are in the order they reached it and a deque per stage replaces the
    loop's heap (hundreds of videos a second, thousands in flight). A task is made only to
    deliver a callback."""

    def __init__(
        self,
        *,
        journal: Journal,
        processing_time: float,
        retries: int,
        size: int,
        outbound_fault: OutboundFaults,
        poster: Poster,
        max_unfinished: int = DEFAULTS.max_unfinished_jobs,
    ) -> None:
        self.journal = journal
        self.processing_time = processing_time
        self.retries = retries
        self.size = size
        self.outbound_fault = outbound_fault
        self.poster = poster
        # Finished jobs are forgotten oldest first past ``size``; unfinished ones are never
        # forgotten, a video push past ``max_unfinished`` of them is refused (admit).
        self.bound = Bound("jobs", max_count=size, policy=FORGET_OLDEST, flags=("--max-jobs",))
        self.unfinished_bound = Bound(
            "unfinished_jobs",
            max_count=max_unfinished,
            policy=REFUSE,
            flags=("--max-unfinished-jobs",),
        )
        self._jobs: dict[int, Job] = {}  # by number, in order; forgotten in any order
        self._by_video: dict[str, Job] = {}
        self._next = 1
        # A heap of the finished jobs, the oldest first: the bound forgets from here without
        # walking past the unfinished ones (thousands, when videos come quickly).
        self._finished: list[Job] = []
        # Every delivery task with its job, also of jobs forgotten by the bound or by reset:
        # held strongly (the loop keeps only weak references) and cancelled by close().
        self._tasks: dict[asyncio.Task[None], Job] = {}
        # (when, job) by stage, each in order of when; the timer is set for the earliest.
        self._to_process: deque[tuple[float, Job]] = deque()
        self._to_end: deque[tuple[float, Job]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_when = 0.0

    def admit(self) -> None:
        """Room for one more job, or the refusal: 503 with Retry-After, as processing will
        end and free room. Asked before a video push uses any id."""
        bound = self.unfinished_bound
        bound.count = len(self._jobs) - len(self._finished)
        if not bound.fits(0):
            bound.refused += 1
            raise bound.full(
                "video job (processing ends in --processing-time, or at once with POST "
                "/__sandbox/jobs/finish)",
                status=503,
                headers={"Retry-After": "1"},
            )

    def start(
        self,
        *,
        resource: str,
        path: str,
        identity: str,
        provider: str,
        data: dict[str, Any],
        callback_url: str | None,
        failure: Fault | None,
        outbound: Fault | None = None,
    ) -> Job:
        job = Job(
            number=self._next,
            resource=resource,
            path=path,
            identity=identity,
            provider=provider,
            video_id=data["video_id"],
            data=data,
            callback_url=callback_url,
            failure=failure,
            outbound=outbound,
        )
        self._next += 1
        self._jobs[job.number] = job
        self._by_video[job.video_id] = job
        self._forget_oldest_finished()
        self._count()
        self._wait(self._to_process, self.processing_time / 2, job)
        return job

    def get(self, job_id: str) -> Job | None:
        number = job_id[4:]
        if not (job_id.startswith("job-") and number.isascii() and number.isdigit()):
            return None
        job = self._jobs.get(int(number[:30]))  # more digits than any job has: none
        return job if job is not None and job.id == job_id else None

    def by_video(self, video_id: str) -> Job | None:
        return self._by_video.get(video_id)

    def all(self) -> list[Job]:
        return list(self._jobs.values())

    def finish(self, jobs: Iterable[Job]) -> list[Job]:
        """End processing now: the state is final on return (the callback then goes out from
        the job's task), so tests never sleep, even on the test's own event loop."""
        woken = []
        for job in jobs:
            if job.waiting:  # still processing: close and reset stop the others
                self._end(job)
                woken.append(job)
        return woken

    def fail(self, jobs: Iterable[Job], failure: Fault) -> list[Job]:
        """End processing now, failed as ``failure`` says (the dashboard's *fail* button)."""
        waiting = [job for job in jobs if job.waiting]
        for job in waiting:
            job.failure = failure
        return self.finish(waiting)

    async def close(self) -> None:
        """Cancel every timer and task and close the client: nothing outlives the server."""
        await asyncio.gather(*self._cancel(), return_exceptions=True)
        await self.poster.close()

    def reset(self) -> None:
        """Forget every job; running ones are cancelled (their callbacks never go out)."""
        self._cancel()
        self._jobs.clear()
        self._by_video.clear()
        self._finished.clear()
        self._next = 1
        self.bound.reset()
        self.unfinished_bound.reset()

    def _count(self) -> None:
        self.bound.count = len(self._jobs)
        self.unfinished_bound.count = len(self._jobs) - len(self._finished)

    def _forget_oldest_finished(self) -> None:
        while len(self._jobs) > self.size and self._finished:
            oldest = heapq.heappop(self._finished)
            del self._jobs[oldest.number]
            self.bound.dropped += 1
            if self._by_video.get(oldest.video_id) is oldest:
                del self._by_video[oldest.video_id]

    def _cancel(self) -> list[asyncio.Task[None]]:
        """Stop every job: the processing of those unfinished (never forgotten, as
        unfinished) and the delivery tasks, which are returned."""
        for _, job in (*self._to_process, *self._to_end):
            job.waiting = False
        self._to_process.clear()
        self._to_end.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        return tasks

    def _wait(self, stage: deque[tuple[float, Job]], delay: float, job: Job) -> None:
        loop = asyncio.get_running_loop()
        # On the next tick: the jobs due within one move on together, at one timer a tick.
        when = math.ceil((loop.time() + delay) / JOB_TICK_S) * JOB_TICK_S
        stage.append((when, job))
        if self._timer is None or when < self._timer_when:
            self._arm(loop, when)

    def _arm(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_at(when, self._move_on)
        self._timer_when = when

    def _move_on(self) -> None:
        """The timer is up: every job due moves on a stage, then the timer is set again."""
        self._timer = None
        loop = asyncio.get_running_loop()
        now = max(loop.time(), self._timer_when)
        for stage, step in ((self._to_process, self._process), (self._to_end, self._end)):
            while stage and stage[0][0] <= now:
                _, job = stage.popleft()
                if job.waiting:  # not finished early, nor stopped
                    step(job)
        heads = [stage[0][0] for stage in (self._to_process, self._to_end) if stage]
        if heads and (self._timer is None or min(heads) < self._timer_when):
            self._arm(loop, min(heads))

    def _process(self, job: Job) -> None:
        """Half the processing time is up: queued -> processing, then the rest of the time."""
        job.state = PROCESSING
        rest = self.processing_time - self.processing_time / 2
        if rest > 0:
            self._wait(self._to_end, rest, job)
        else:
            self._end(job)

    def _end(self, job: Job) -> None:
        """Processing is over (its time is up, or ``finish``): the final state, then a task
        for the callback, if any."""
        job.waiting = False
        job.state = FAILED if job.failure is not None else SUCCEEDED
        heapq.heappush(self._finished, job)
        self._count()
        job.finished = time.time()
        if job.callback_url is not None:
            job.final_envelope()
            job.task = asyncio.get_running_loop().create_task(self._deliver(job))
            self._tasks[job.task] = job
            job.task.add_done_callback(self._delivered)

    def _delivered(self, task: asyncio.Task[None]) -> None:
        """Drop the ended (or cancelled) task: a finished job keeps none."""
        self._tasks.pop(task).task = None

    async def _deliver(self, job: Job) -> None:
        """POST the result; retry with doubling back-off when the receiver fails or times out."""
        fault = job.outbound or self.outbound_fault(job)
        if fault is not None and fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)
        if fault is not None and fault.effect == "callback_drop":
            self._record(
                job,
                started=time.time(),
                status=None,
                error="dropped by fault rule",
                duration_ms=0.0,
                fault=fault,
            )
            return
        copies = 2 if fault is not None and fault.effect == "callback_duplicate" else 1
        for _ in range(copies):
            await self._deliver_once(job, fault)

    async def _deliver_once(self, job: Job, fault: Fault | None) -> None:
        assert job.callback_url is not None
        body = job.final_envelope()
        delay = FIRST_RETRY_DELAY_S
        for attempt in range(1, self.retries + 1):
            delivery = Delivery(attempt=len(job.deliveries) + 1, time=time.time())
            job.deliveries = (*job.deliveries, delivery)
            started = time.perf_counter()
            try:
                delivery.status = await self.poster.post(
                    job.callback_url, body, self._headers(job), CALLBACK_TIMEOUT_S
                )
            except CallbackFailed as error:
                # Interned: a receiver that is down fails every job's attempts the same way.
                delivery.error = sys.intern(str(error))
            delivery.duration_ms = (time.perf_counter() - started) * 1000
            self._record(
                job,
                started=delivery.time,
                status=delivery.status,
                error=delivery.error,
                duration_ms=delivery.duration_ms,
                fault=fault,
            )
            if delivery.status is not None and 200 <= delivery.status < 300:
                return
            if attempt < self.retries:
                await asyncio.sleep(delay)
                delay *= 2

    def _headers(self, job: Job) -> Mapping[str, str]:
        return {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            JOB_HEADER: job.id,
        }

    def _record(
        self,
        job: Job,
        *,
        started: float,
        status: int | None,
        error: str | None,
        duration_ms: float,
        fault: Fault | None,
    ) -> None:
        assert job.callback_url is not None
        entry = Entry(
            "POST",
            job.callback_url,
            started,
            dict(self._headers(job)),
            direction=control.OUTBOUND,
            resource=job.resource,
            identity=job.identity,
            provider=job.provider,
            body=job.final_envelope(),  # JSON bytes, shared by the job and each attempt
            status=status,
            info=error or _delivery_info(job, status),
            duration_ms=duration_ms,
            fault=fault.to_json() if fault is not None else None,
        )
        self.journal.record(entry)


def _delivery_info(job: Job, status: int | None) -> str:
    if status is not None and 200 <= status < 300:
        return f"callback delivered for {job.id}"
    return f"callback for {job.id} not accepted: the receiver answered {status}"
