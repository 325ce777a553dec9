"""The HTTP application: one route per catalog row and the push pipeline, stage by stage.

route -> authenticate -> identity -> parse -> validate -> fault rules -> fabricate -> respond:
:func:`push` runs :func:`pipeline`, turns its refusal into the OneAll error envelope, records
the exchange in the journal and logs one line; the middleware does the same for what no push
route answers (unknown paths, other methods) and wraps the control plane. Routes come from
aiohttp's router, or for a plain push from :func:`direct_pushes`. Validation runs before faults
so an injected failure never hides a bug in the caller; faults run before fabrication so a
refused call uses up no ids and seeded runs stay reproducible.
"""

from __future__ import annotations

import asyncio
import base64
import difflib
import functools
import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import Any, cast

from aiohttp import web
from aiohttp.http import HttpVersion11
from aiohttp.http_exceptions import HttpProcessingError
from yarl import URL

from sandbox.api import envelope, live
from sandbox.api.errors import (
    BadRequest,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RequestError,
    Unauthorized,
)
from sandbox.api.families import CALLS as FAMILY_CALLS
from sandbox.api.families import out_of_scope
from sandbox.api.headers import (
    DETAIL_HEADER,
    PROFILE_HEADER,
    WARNING_HEADER,
    header_value,
    warning_values,
)
from sandbox.api.push import ENDPOINTS, PUSH_PREFIX, Endpoint
from sandbox.config import Settings
from sandbox.http import effects
from sandbox.http.appkeys import ACCESS_LINES, SANDBOX
from sandbox.http.callbacks import CallbackPoster
from sandbox.http.control import ADMIN_PREFIX, add_admin_routes
from sandbox.http.dashboard import add_dashboard_routes
from sandbox.http.dashboard import auth as ui_auth
from sandbox.http.wire import answer as json_answer
from sandbox.model import publishing
from sandbox.model.faults import (
    ANSWER_EFFECTS,
    CANNED_ANSWER,
    Fault,
    FaultSpecError,
    build_fault,
    expire_on,
    parse_header,
)
from sandbox.model.jobs import JOB_HEADER
from sandbox.model.journal import Entry, body_for_journal
from sandbox.model.sandbox import Sandbox
from sandbox.validation.body import BOM, read_json, strict_json
from sandbox.validation.profiles import PROFILES

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ENTRY = web.RequestKey("entry", Entry)  # the request's journal Entry, made by push()
FAULT_HEADER = "X-Sandbox-Fault"
NO_ANSWER = "no answer: the connection was closed"

log = logging.getLogger("sandbox")
access_log = logging.getLogger("sandbox.access")

# Facebook ended third-party publishing to personal profiles on this day (spec §4).
PROFILE_PUBLISHING_ENDED = "2018-08-01"
DEPRECATION_HEADERS = {"Deprecation": "@1533081600"}
KNOWN_PATHS = [endpoint.display_path for endpoint in ENDPOINTS] + [
    call.display_path for call in FAMILY_CALLS
]


def create_app(settings: Settings) -> web.Application:
    """Routes compiled once from the catalog, models loaded from the settings' files."""
    app = web.Application(middlewares=[envelope_middleware], client_max_size=settings.max_body)
    state = app[SANDBOX] = Sandbox.from_settings(settings, poster=CallbackPoster())
    app.on_shutdown.append(lambda _: _stop_waiting(state))
    app.on_cleanup.append(lambda _: state.close())
    index = PushIndex()
    app.router.register_resource(index)  # first: tried before the 21 resources it stands for
    for endpoint in ENDPOINTS:
        route = app.router.add_post(
            endpoint.route,
            push_handler(endpoint),
            name=endpoint.name,
            expect_handler=expect_continue,
        )
        index.add(endpoint, route.resource)
    add_admin_routes(app)
    add_dashboard_routes(app)
    # The API around the push: its modules use this one's stages (no import cycle at load).
    from sandbox.http.families import add_family_routes
    from sandbox.http.login import add_login_routes

    add_family_routes(app)
    add_login_routes(app)
    return app


class PushRoutes:
    """The push resource of a path by one dict lookup (a pattern each for the two with a path
    parameter) instead of trying 21 patterns in turn, as aiohttp's router would."""

    PREFIX = PUSH_PREFIX.removesuffix("{token}/")

    def __init__(self, endpoints: Iterable[Endpoint]) -> None:
        self._static: dict[str, Endpoint] = {}
        self._dynamic: list[tuple[re.Pattern[str], Endpoint]] = []
        for endpoint in endpoints:
            if "{" in endpoint.path:
                # aiohttp's own pattern for a {name}: one segment without braces
                pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^{}/]+)", re.escape(endpoint.path))
                self._dynamic.append((re.compile(pattern), endpoint))
            else:
                self._static[endpoint.path] = endpoint

    def find(self, path: str) -> tuple[Endpoint, str, dict[str, str]] | None:
        """The endpoint, identity token and path parameters of ``path``, or None."""
        if not path.startswith(self.PREFIX):
            return None
        token, slash, rest = path[len(self.PREFIX) :].partition("/")
        if not token or not slash or "{" in token or "}" in token:
            return None
        endpoint = self._static.get(rest)
        if endpoint is not None:
            return endpoint, token, {}
        for pattern, endpoint in self._dynamic:
            match = pattern.fullmatch(rest)
            if match is not None:
                return endpoint, token, match.groupdict()
        return None


PUSH_ROUTES = PushRoutes(ENDPOINTS)


class PushIndex(web.AbstractResource):
    """Registered first under ``/push/identities``, it lets only the one resource
    :data:`PUSH_ROUTES` finds for the path match, so what matches, its match info and the 405
    for another method are exactly the resource's own. On a miss it answers nothing and
    aiohttp goes on to the resources themselves, which refuse as before."""

    def __init__(self) -> None:
        super().__init__()
        self._resources: dict[str, web.AbstractResource] = {}

    def add(self, endpoint: Endpoint, resource: web.AbstractResource | None) -> None:
        assert resource is not None
        self._resources[endpoint.name] = resource

    async def resolve(self, request: web.Request) -> Any:
        found = PUSH_ROUTES.find(request.rel_url.path_safe)
        if found is None:
            return None, set()
        resource = self._resources[found[0].name]
        return await resource.resolve(request)

    @property
    def canonical(self) -> str:
        return PushRoutes.PREFIX + "{token}"

    def url_for(self, **kwargs: str) -> URL:
        raise NotImplementedError("name the push resource itself, e.g. twitter.post")

    def add_prefix(self, prefix: str) -> None:
        raise NotImplementedError("the push index lives at the application root")

    def get_info(self) -> Any:
        return {"formatter": self.canonical}

    def raw_match(self, path: str) -> bool:
        return False

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[web.AbstractRoute]:
        return iter(())


RawHandler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


def direct_pushes(app: web.Application, app_handler: RawHandler) -> RawHandler:
    """The server's request handler: a plain push goes straight to its pipeline, anything else
    (the control plane, other methods, unknown paths) to the application.

    aiohttp's router and middleware cost a push about as much as the whole pipeline; here a
    push is found by :data:`PUSH_ROUTES` and answered by the same :func:`push` its route
    handler calls. Paths that need decoding or normalising (``%``, ``?``, dot segments) and
    ``Expect: 100-continue`` take the application's way, which handles them.
    """
    sandbox = app[SANDBOX]
    find = PUSH_ROUTES.find

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        raw_path = request.raw_path
        if request.method == "POST" and not _needs_the_router(raw_path):
            found = find(raw_path)
            if found is not None and "Expect" not in request.headers:
                endpoint, token, params = found
                # the application's request factory made it: a web.Request, without a route
                request = cast(web.Request, request)
                return await push(request, sandbox, endpoint, token, params, path=raw_path, app=app)
        return await app_handler(request)

    return handle


def _needs_the_router(raw_path: str) -> bool:
    return "%" in raw_path or "?" in raw_path or "#" in raw_path or "/." in raw_path


async def _stop_waiting(state: Sandbox) -> None:
    """Injected hangs and delays end at once when the server stops."""
    state.shutdown.event.set()


# --- the middleware ---------------------------------------------------------------------------


def error_response(path: str, error: RequestError) -> web.Response:
    return json_answer(
        envelope.failure(path, error.status, error.info), error.status, error.headers
    )


def unknown_path(request: web.Request) -> NotFound:
    if request.path.startswith(ADMIN_PREFIX):
        return NotFound(
            f"Unknown control-plane path {request.method} {request.path}: see the README's "
            "control plane section"
        )
    not_emulated = out_of_scope(request.method, request.path)
    if not_emulated is not None:
        return NotFound(not_emulated)
    close = difflib.get_close_matches(_as_pattern(request.path), KNOWN_PATHS, n=1, cutoff=0.8)
    hint = f"; did you mean {close[0]}?" if close else ""
    return NotFound(
        f"Unknown resource {request.path}: the push resources are POST "
        f"/push/identities/<identity_token>/<provider>/....json (see oneall-sandbox --list){hint}"
    )


def _as_pattern(path: str) -> str:
    parts = path.split("/")
    if len(parts) > 3 and parts[1:3] == ["push", "identities"]:
        parts[3] = "<identity_token>"
    return "/".join(parts)


def http_error(
    request: web.Request, error: web.HTTPException | web.RequestPayloadError
) -> RequestError:
    """aiohttp's own refusals (no route, wrong method, body too large or unreadable) as OneAll
    errors."""
    if isinstance(error, web.RequestPayloadError):
        # Raised by request.read(), e.g. for a body that is not what its Content-Encoding says.
        cause = error.__cause__
        reason = cause.message if isinstance(cause, HttpProcessingError) else str(error)
        return BadRequest(f"The request body cannot be read: {reason}")
    if isinstance(error, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(error.allowed_methods))
        accepts = (
            "push resources accept POST only"
            if request.path.startswith(PushRoutes.PREFIX)
            else f"it accepts {allowed} only"
        )
        # Another method of an emulated path (PUT /users.json): 405, naming what is not emulated.
        not_emulated = out_of_scope(request.method, request.path)
        if not_emulated is not None:
            accepts += f". {not_emulated}"
        return MethodNotAllowed(
            f"The method {request.method} is not allowed on {request.path}: {accepts}",
            headers={"Allow": allowed},
        )
    if isinstance(error, web.HTTPNotFound):
        return unknown_path(request)
    if isinstance(error, web.HTTPRequestEntityTooLarge):
        return too_large(request.app[SANDBOX].settings.max_body)
    return RequestError(error.reason, status=error.status)


@web.middleware
async def envelope_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every refusal as the OneAll envelope, for what the push pipeline does not answer itself:
    the control plane, and aiohttp's own refusals (no route, wrong method), journaled."""
    if request.path.startswith(ADMIN_PREFIX):
        response, _ = await answer(request, admin_guard(handler))
        return response
    started = time.perf_counter()
    try:
        return await handler(request)  # a push: the pipeline answers and journals itself
    except (web.HTTPException, web.RequestPayloadError) as http:
        answered = refusal_response(request, http)
    entry = Entry(request.method, request.path, time.time(), request.headers)
    request[ENTRY] = entry
    return finish(request, request.app[SANDBOX], entry, started, answered, app=request.app)


def finish(
    request: web.Request,
    sandbox: Sandbox,
    entry: Entry,
    started: float,
    answered: tuple[web.StreamResponse, str],
    *,
    app: web.Application,
) -> web.StreamResponse:
    """Journal the exchange and log its line; the answer goes out as it is, with the
    sandbox's warnings and detail (spec §6, §7) when it is not already on its way. ``app``: a
    push :func:`direct_pushes` answered has no route, so no ``request.app``."""
    response, info = answered
    info = entry.info or info  # what an injected fault put in place of the answer
    if not request.content.is_eof() and not response.prepared:
        # Refused before its body arrived (too large, too many in flight): the connection
        # is closed after the answer rather than kept reading a body no one will use.
        response.force_close()
    if (entry.warnings or entry.detail) and not response.prepared:
        for name, value in sandbox_headers(entry):
            response.headers.add(name, value)
    if entry.body is None and request.body_exists:  # refused before the pipeline read it
        entry.body = body_received(request)
    entry.duration_ms = (time.perf_counter() - started) * 1000
    transport = request.transport
    if transport is None or transport.is_closing():
        entry.info = NO_ANSWER
    else:
        entry.status, entry.info = response.status, info
    sandbox.journal.record(entry)
    if access_log.isEnabledFor(logging.INFO):
        line = (
            f"{entry.method} {entry.path} -> {entry.status or 'closed'} "
            f"{entry.duration_ms:.1f}ms{'' if response.status < 400 else f' ({info})'}"
            + (f" [fault {entry.fault['id']}: {entry.fault['effect']}]" if entry.fault else "")
            + (f" [detail: {header_value(entry.detail)}]" if entry.detail else "")
            + (warnings_for_log(entry.warnings) if entry.warnings else "")
        )
        lines = app.get(ACCESS_LINES)
        if lines is None:
            access_log.info("%s", line)
        else:
            lines.add(line)
    return response


def sandbox_headers(entry: Entry) -> list[tuple[str, str]]:
    """The ``X-Sandbox-Warning`` headers (one a warning, bounded) and ``X-Sandbox-Detail``."""
    pairs = [(WARNING_HEADER, value) for value in warning_values(entry.warnings)]
    if entry.detail:
        pairs.append((DETAIL_HEADER, header_value(entry.detail)))
    return pairs


_LOGGED_WARNINGS = 3


def warnings_for_log(warnings: tuple[str, ...]) -> str:
    """The first warnings for the access log line, shaped as in the headers."""
    shown = "; ".join(header_value(warning) for warning in warnings[:_LOGGED_WARNINGS])
    more = len(warnings) - _LOGGED_WARNINGS
    return f" [warnings: {shown}{f'; and {more} more' if more > 0 else ''}]"


def validation_profile(request: web.Request, settings: Settings) -> str:
    """The request's ``X-Sandbox-Validation`` profile, else the server's (``--validation``)."""
    sent = request.headers.get(PROFILE_HEADER)
    if sent is None:
        return settings.validation
    profile = sent.strip().lower()
    if profile not in PROFILES:
        raise BadRequest(
            f"{PROFILE_HEADER} must be one of {', '.join(PROFILES)}, got {header_value(sent)!r}"
        )
    return profile


def body_received(request: web.Request) -> Any:
    """For the journal, the body of a request refused before the pipeline read it (unknown
    path, wrong method, too large): what has already arrived, never waiting for more."""
    try:
        received = request.content.read_nowait()
    except (web.RequestPayloadError, ConnectionError, RuntimeError):
        return None
    return body_for_journal(received) if received else None


def admin_guard(handler: Handler) -> Handler:
    """With --admin-token, the control plane (but its health check and the dashboard's login
    page) needs the bearer token, or the cookie the dashboard's login sets; a change made on
    the strength of that cookie must come from the sandbox's own pages (``Origin``)."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        token = request.app[SANDBOX].settings.admin_token
        path = request.path
        if token is not None and path != ADMIN_PREFIX + "health" and not ui_auth.is_open(path):
            sent = request.headers.get("Authorization", "")
            if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
                if not ui_auth.has_session(request, token):
                    if ui_auth.wants_page(request):
                        return ui_auth.to_login(request)
                    raise Unauthorized(
                        "The control plane needs the header Authorization: Bearer <admin token>, "
                        "the token given with --admin-token (SANDBOX_ADMIN_TOKEN)",
                        headers={"WWW-Authenticate": "Bearer"},
                    )
                ui_auth.check_origin(request)
        return await handler(request)

    return guarded


async def answer(request: web.Request, handler: Handler) -> tuple[web.StreamResponse, str]:
    """Run the handler; refusals, raised or aiohttp's own, become the error envelope."""
    try:
        return await handler(request), envelope.SUCCESS_INFO
    except RequestError as error:
        return error_response(request.path, error), error.info
    except (web.HTTPException, web.RequestPayloadError) as http:
        return refusal_response(request, http)


def refusal_response(
    request: web.Request, http: web.HTTPException | web.RequestPayloadError
) -> tuple[web.Response, str]:
    """aiohttp's own refusal as the envelope."""
    refusal = http_error(request, http)
    response = error_response(request.path, refusal)
    if isinstance(http, web.RequestPayloadError):
        response.force_close()  # aiohttp drops the connection: the client must not reuse it
    return response, refusal.info


# --- the push pipeline ------------------------------------------------------------------------


def push_handler(endpoint: Endpoint) -> Handler:
    """The route handler of one resource, for requests aiohttp's router brought."""

    async def handle(request: web.Request) -> web.StreamResponse:
        params = dict(request.match_info)
        token = params.pop("token")
        return await push(request, request.app[SANDBOX], endpoint, token, params, app=request.app)

    return handle


async def push(
    request: web.Request,
    sandbox: Sandbox,
    endpoint: Endpoint,
    token: str,
    params: dict[str, str],
    *,
    path: str | None = None,
    app: web.Application,
) -> web.StreamResponse:
    """One push exchange: the pipeline, its refusal as the envelope, the journal, the log.

    ``path``: the request's path when it is known to need no decoding (saves yarl's work).
    """
    started = time.perf_counter()
    entry = Entry(request.method, path or request.path, time.time(), request.headers)
    entry.resource, entry.provider, entry.identity = endpoint.name, endpoint.provider, token
    request[ENTRY] = entry
    try:
        answered = await pipeline(
            request, sandbox, entry, endpoint=endpoint, token=token, params=params
        )
    except RequestError as error:
        answered = error_response(entry.path, error), error.info
        entry.detail = error.detail
        if error.warnings:
            entry.warnings = error.warnings
    except (web.HTTPException, web.RequestPayloadError) as http:
        answered = refusal_response(request, http)
    except ClientGone:  # the client hung up while sending its body: journaled, no traceback
        entry.duration_ms = (time.perf_counter() - started) * 1000
        entry.info = NO_ANSWER + " while the body was being sent"
        sandbox.journal.record(entry)
        return web.Response(status=400)  # written to no one: the connection is closed
    except asyncio.CancelledError:  # the client hung up and the server cancels its handlers
        entry.duration_ms = (time.perf_counter() - started) * 1000
        entry.info = NO_ANSWER
        sandbox.journal.record(entry)
        raise
    return finish(request, sandbox, entry, started, answered, app=app)


async def pipeline(
    request: web.Request,
    sandbox: Sandbox,
    entry: Entry,
    *,
    endpoint: Endpoint,
    token: str,
    params: dict[str, str],
) -> tuple[web.StreamResponse, str]:
    """The straight pipeline for one resource; each stage raises the refusal it owns."""
    settings = sandbox.settings
    raw = await read_body(request, sandbox)
    body, unreadable = read_json(raw)
    # The journal keeps the body as sent: its JSON text, or the text it is (also when only
    # Python's parser read it, with NaN or Infinity, which are no JSON: kept as text, the
    # journal stays JSON).
    if unreadable is not None:
        entry.body = body
    elif strict_json(raw):
        entry.body = raw.removeprefix(BOM)
    else:
        entry.body = raw.decode("utf-8", "replace")
    authenticate(request.headers.get("Authorization"), settings)
    headers = deprecation(endpoint, settings)
    admitted = publishing.admit(
        sandbox,
        endpoint,
        token,
        body,
        params,
        unreadable=unreadable,
        profile=validation_profile(request, settings),
    )
    entry.warnings = admitted.warnings
    fault = pick_fault(request, sandbox, endpoint, token)
    canned = None
    if fault is not None and fault.effect == CANNED_ANSWER:  # from the header
        canned, fault = fault, None
    elif fault is None and not request.headers.get(FAULT_HEADER):
        canned = sandbox.faults.pick(endpoint.name, endpoint.provider, token, "data")
    if fault is not None:
        entry.fault = fault.to_json()
        expire_on(fault, admitted.identity)
        if fault.effect in ANSWER_EFFECTS:
            replaced = await effects.before_answer(
                fault,
                request,
                endpoint.provider,
                sandbox.shutdown,
                publishing.object_name(endpoint),
            )
            if replaced is not None:
                entry.info = f"Injected fault: {fault.preset or fault.effect}"
                return replaced, entry.info
    if canned is not None:
        entry.fault = canned.to_json()
    published = publishing.fabricate(
        sandbox, admitted, path=entry.path, when=entry.started, fault=fault, canned=canned
    )
    data = entry.data = published.data
    if published.job is not None:
        headers = {**headers, JOB_HEADER: published.job.id}
    answer = envelope.success(entry.path, data)
    if fault is not None and fault.effect == "slow_body":
        return (
            await effects.dribble(
                request, answer, fault, headers, sandbox.shutdown, extra=sandbox_headers(entry)
            ),
            envelope.SUCCESS_INFO,
        )
    return json_answer(answer, headers=headers), envelope.SUCCESS_INFO


def pick_fault(
    request: web.Request, sandbox: Sandbox, endpoint: Endpoint, token: str
) -> Fault | None:
    """The ``X-Sandbox-Fault`` header first and alone, else the first armed rule that fires."""
    stage = "video" if endpoint.asynchronous else "answer"
    header = request.headers.get(FAULT_HEADER)
    if header is None:
        return sandbox.faults.pick(endpoint.name, endpoint.provider, token, stage)
    try:
        spec = parse_header(header)
        if "answer" in spec:  # a canned answer for this request's resource
            spec["resource"] = endpoint.name
        fault = build_fault(spec, f"{FAULT_HEADER}: ", rule_id=0, source="header")
    except FaultSpecError as error:
        raise BadRequest(f"Cannot apply the fault: {error}") from None
    if fault.effect not in (*ANSWER_EFFECTS, CANNED_ANSWER) and not endpoint.asynchronous:
        raise BadRequest(
            f"Cannot apply the fault: {FAULT_HEADER}: {fault.effect} applies to the asynchronous "
            "video resources only (twitter/video.json, youtube/video.json)"
        )
    return fault


# An authentication scheme's name (RFC 9110 §11.1 token), short as real ones are.
_SCHEME = re.compile(r"[^\W\d_][\w-]{0,19}")


@functools.cache
def basic_credentials(public_key: str, private_key: str) -> str:
    """The ``Authorization`` value a client sends for these keys."""
    return "Basic " + base64.b64encode(f"{public_key}:{private_key}".encode()).decode()


def authenticate(header: str | None, settings: Settings) -> None:
    """HTTP Basic with the site's keys (spec §1); the common case is one string comparison."""
    keys = (settings.public_key, settings.private_key)
    if header == basic_credentials(*keys):
        return
    how = (
        "send HTTP Basic authentication with the site's public key as user name "
        "and its private key as password"
    )
    if not header:
        raise _unauthorized(f"Authentication required: {how}")
    scheme, space, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        # The scheme is named only when it looks like one: a credential sent without a
        # scheme must not be echoed (the answer goes to the journal and the log).
        named = f" {scheme!r}" if space and _SCHEME.fullmatch(scheme) else ""
        raise _unauthorized(f"Unsupported authentication scheme{named}: {how}")
    try:
        user, colon, password = (
            base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        )
    except ValueError:  # binascii.Error, UnicodeDecodeError, or a non-ASCII header value
        raise _unauthorized(f"Malformed HTTP Basic credentials: {how}") from None
    if not colon:
        raise _unauthorized(f"Malformed HTTP Basic credentials (no colon between the keys): {how}")
    if (user, password) == keys:
        return
    wrong = "public key" if user != settings.public_key else "private key"
    raise _unauthorized(f"Invalid API credentials: the {wrong} does not match this site's keys")


def _unauthorized(detail: str) -> Unauthorized:
    """The live API's 401 sentence (spec §7), the sandbox's own as the detail."""
    return Unauthorized(live.UNAUTHORIZED, detail=detail)


def deprecation(endpoint: Endpoint, settings: Settings) -> Mapping[str, str]:
    """Headers for a deprecated resource, or the live API's refusal with ``--deprecated refuse``."""
    if not endpoint.deprecated:
        return {}
    alternative = endpoint.path.replace("facebook/", "facebook/page/")
    if settings.deprecated == "refuse":
        raise Forbidden(
            f"Facebook ended publishing to user profiles on {PROFILE_PUBLISHING_ENDED}: "
            f"{endpoint.path} can no longer be used; publish to a page with {alternative} instead"
        )
    _warn_deprecated_once(endpoint, alternative)
    return DEPRECATION_HEADERS


_warned: set[str] = set()


def _warn_deprecated_once(endpoint: Endpoint, alternative: str) -> None:
    if endpoint.name not in _warned:
        _warned.add(endpoint.name)
        log.warning(
            "%s is deprecated: Facebook ended profile publishing on %s; the live API refuses it "
            "(run with --deprecated refuse to do the same); use %s",
            endpoint.path,
            PROFILE_PUBLISHING_ENDED,
            alternative,
        )


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body is larger than {limit} bytes: send a smaller body "
        "(media are sent as URLs, never inline) or raise --max-body"
    )


class ClientGone(Exception):
    """The client closed the connection before its body arrived: nobody to answer."""


async def read_body(request: web.Request, sandbox: Sandbox) -> bytes:
    """The whole body, within --max-body, --max-bodies-in-flight and --read-timeout."""
    settings = sandbox.settings
    limit = settings.max_body
    content = request.content
    if content.is_eof():  # all of it has arrived: take it without aiohttp's read loop
        raw = content.read_nowait()
        if len(raw) > limit:
            raise too_large(limit)
        return raw
    length = request.content_length
    if length is not None and length > limit:  # refused before it is received
        raise too_large(limit)
    reserved = length if length is not None else limit  # chunked: up to --max-body
    if not await sandbox.bodies.take(reserved, settings.read_timeout):
        raise RequestError(
            "The sandbox is reading as many request bodies as --max-bodies-in-flight allows "
            f"({settings.max_bodies_in_flight} bytes) and none ended within --read-timeout "
            f"({settings.read_timeout:g} seconds): retry in a second",
            status=503,
            headers={"Retry-After": "1"},
        )
    try:
        async with asyncio.timeout(settings.read_timeout):
            return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large(limit) from None
    except TimeoutError:
        raise RequestError(
            f"The request body did not arrive within --read-timeout ({settings.read_timeout:g} "
            "seconds): send it at once after the head",
            status=408,
        ) from None
    except (ConnectionError, web.RequestPayloadError) as error:
        if request.transport is None or request.transport.is_closing():
            raise ClientGone(str(error)) from None
        raise
    finally:
        sandbox.bodies.give_back(reserved)


async def expect_continue(request: web.Request) -> None:
    """``Expect: 100-continue``: the client waits for a go-ahead before sending the body. It
    gets one only when the body may be read at all; otherwise the handler answers at once
    (413 over --max-body) without the body ever being sent."""
    if request.version != HttpVersion11:
        return
    if request.headers.get("Expect", "").lower() != "100-continue":
        return  # an expectation the sandbox does not know: ignored (RFC 9110 §10.1.1 allows)
    length = request.content_length
    if length is not None and length > request.app[SANDBOX].settings.max_body:
        return
    await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")


_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
