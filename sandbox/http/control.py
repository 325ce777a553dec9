"""The control plane under ``/__sandbox/``: health, identities, faults, journal, objects,
video jobs, seed and reset. Its own calls are not journaled."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sandbox import __version__
from sandbox.api.connections import SOCIAL_LOGIN
from sandbox.api.control import BY_PATH, JOB_STATES, PREFIX, ROUTES
from sandbox.api.errors import BadRequest, Conflict, NotFound
from sandbox.api.push import ENDPOINTS
from sandbox.http.appkeys import SANDBOX
from sandbox.model.answers import connection_json, identity_json
from sandbox.model.faults import FaultSpecError
from sandbox.model.identities import TokenTaken
from sandbox.model.journal import NO_FILTER
from sandbox.validation import bodies
from sandbox.validation.body import BOM, parse_body, strict_json

ADMIN_PREFIX = PREFIX
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# The control plane's handlers by name: what a row of the catalog (sandbox.api.control) names.
HANDLERS: dict[str, Handler] = {}


def handler(function: Handler) -> Handler:
    HANDLERS[function.__name__] = function
    return function


def json_response(data: Any, status: int = 200) -> web.Response:
    try:
        body = json.dumps(data, ensure_ascii=False).encode()
    except UnicodeEncodeError:  # a lone surrogate somewhere: escaped, the JSON stays valid
        body = json.dumps(data).encode()
    return web.Response(body=body, status=status, content_type="application/json")


async def read_json(request: web.Request, *, empty: Any = None) -> Any:
    """The control plane's request body as JSON; BadRequest says what is wrong. An empty body
    reads as ``empty`` where the operation has a meaning for it, else it is refused."""
    raw = await request.read()
    if empty is not None and not raw.removeprefix(BOM).strip():
        return empty
    what = f"The body of {request.method} {request.path}"
    data = parse_body(raw, what, noun="control-plane request")
    if not strict_json(raw):
        raise BadRequest(f"{what} is not valid JSON: NaN and Infinity are not JSON numbers")
    return data


def checked(body: str, data: Any, doing: str) -> Any:
    """``data`` when it fits ``schemas/control/<body>.json``; else 400 saying, after
    ``doing``, every key that is wrong and what it must be."""
    return bodies.check(f"control/{body}", data, pointers=True, doing=doing)


@handler
async def health(request: web.Request) -> web.Response:
    """Always 200 while serving (container health checks keep passing): ``ok``, or
    ``degraded`` with the reasons; and every bound with what it dropped."""
    report = request.app[SANDBOX].health()
    return json_response(
        {
            "status": report.pop("status"),
            "version": __version__,
            "resources": len(ENDPOINTS),
            **report,
        }
    )


@handler
async def list_identities(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    return json_response({"identities": [i.to_json() for i in sandbox.identities.all()]})


@handler
async def register_identity(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    try:
        identity = sandbox.identities.register(await read_json(request))
    except TokenTaken as error:
        raise Conflict(f"Cannot register the identity: {error}") from None
    except ValueError as error:
        raise BadRequest(f"Cannot register the identity: {error}") from None
    return json_response(identity.to_json(), status=201)


@handler
async def make_connection(request: web.Request) -> web.Response:
    """``POST /__sandbox/connections``: the connection the consent page would make, without a
    browser (oneall-api.md §2); answers its connection_token and what
    ``GET /connections/<token>.json`` gives."""
    sandbox = request.app[SANDBOX]
    data = checked("connections", await read_json(request), "Cannot make the connection")
    connection = sandbox.connect(
        data["provider"],
        data.get("identity_token"),
        user_token=data.get("user_token"),
        service=data.get("service", SOCIAL_LOGIN),
        callback_uri=data.get("callback_uri"),
    )
    return json_response(
        {"connection_token": connection.token, **connection_json(sandbox, connection)},
        status=201,
    )


@handler
async def expire_token(request: web.Request) -> web.Response:
    """``POST /__sandbox/identities/<token>/expire``: the network's access token of the
    identity expires (oneall-api.md §5)."""
    identity = request.app[SANDBOX].expire_token(request.match_info["token"])
    return json_response({"identity": identity_json(identity), "expired": identity.expired})


@handler
async def list_faults(request: web.Request) -> web.Response:
    plan = request.app[SANDBOX].faults
    return json_response({"rules": [rule.to_json() for rule in plan.rules]})


@handler
async def arm_faults(request: web.Request) -> web.Response:
    """One rule, a list of rules, or ``{"rules": [...]}``; a bad rule arms nothing."""
    data = await read_json(request)
    if isinstance(data, dict) and "rules" in data:
        specs, where, indexed = data["rules"], "/rules/", True
    elif isinstance(data, list):
        specs, where, indexed = data, "/", True
    else:
        specs, where, indexed = [data], "/", False
    if not isinstance(specs, list):
        raise BadRequest("Cannot arm the faults: /rules must be a list of rules")
    try:
        armed = request.app[SANDBOX].faults.arm(specs, where_prefix=where, indexed=indexed)
    except FaultSpecError as error:
        raise BadRequest(f"Cannot arm the faults: {error}") from None
    return json_response({"rules": [rule.to_json() for rule in armed]}, status=201)


@handler
async def clear_faults(request: web.Request) -> web.Response:
    return json_response({"removed": request.app[SANDBOX].faults.clear()})


# Whole numbers in paths and filters: 18 digits always fit a 64-bit integer.
MAX_DIGITS = 18


def _cut(text: str, limit: int = 40) -> str:
    """An id as given, cut short for a message."""
    return text if len(text) <= limit else text[:limit] + "…"


@handler
async def remove_fault(request: web.Request) -> web.Response:
    raw = request.match_info["id"]
    whole = re.fullmatch(f"[0-9]{{1,{MAX_DIGITS}}}", raw) is not None
    if not whole or not request.app[SANDBOX].faults.remove(int(raw)):
        raise NotFound(f"No fault rule with id {_cut(raw)}: GET /__sandbox/faults lists the rules")
    return json_response({"removed": 1})


def _int_query(request: web.Request, name: str) -> int | None:
    """A whole-number filter, given once or not at all: a filter that is empty, repeated or
    not a number is refused rather than silently ignored."""
    values = request.query.getall(name, [])
    if not values:
        return None
    if len(values) > 1:
        raise BadRequest(f"The query parameter {name} must be given once, got {len(values)}")
    value = values[0]
    if not re.fullmatch(r"-?[0-9]+", value):
        shown = repr(value) if len(value) <= 40 else repr(value[:40]) + f"… ({len(value)} chars)"
        raise BadRequest(f"The query parameter {name} must be a whole number, got {shown}")
    if len(value.lstrip("-")) > MAX_DIGITS:
        raise BadRequest(
            f"The query parameter {name} must be a whole number of at most {MAX_DIGITS} digits, "
            "got one "
            f"of {len(value.lstrip('-'))} digits"
        )
    return int(value)


JOURNAL_FILTERS = tuple(BY_PATH["GET journal"].query)
# The values ?warnings= takes, as the catalog states them (and documents them).
WARNINGS_VALUES: tuple[str, ...] = tuple(BY_PATH["GET journal"].query["warnings"]["enum"])


def _json_query(request: web.Request, name: str) -> Any:
    """A filter given as JSON (URL-encoded), once or not at all."""
    values = request.query.getall(name, [])
    if values == [""] or not values:
        return NO_FILTER
    if len(values) > 1:
        raise BadRequest(f"The query parameter {name} must be given once, got {len(values)}")
    try:
        return json.loads(values[0])
    except (ValueError, RecursionError):
        raise BadRequest(
            f"The query parameter {name} must be URL-encoded JSON such as "
            f'{{"message":"hello"}}, got {values[0]!r}'
        ) from None


@handler
async def read_journal(request: web.Request) -> web.Response:
    """``?resource=twitter.post&identity=<token>&status=429&since=<id>&direction=inbound``,
    ``body=<URL-encoded JSON>``, contained in the request body or its object node, and
    ``warnings=1`` (only the exchanges validation warned about; 0: only the others). A filter
    the journal does not know is refused: ignored, it would answer every entry."""
    unknown = sorted(set(request.query) - set(JOURNAL_FILTERS))
    if unknown:
        raise BadRequest(
            f"Unknown journal filter {', '.join(unknown)}: the filters are "
            f"{', '.join(JOURNAL_FILTERS)}"
        )
    journal = request.app[SANDBOX].journal
    warned = _int_query(request, "warnings")
    if warned is not None and str(warned) not in WARNINGS_VALUES:
        raise BadRequest(
            f"The query parameter warnings must be {' or '.join(WARNINGS_VALUES)}, got {warned}"
        )
    entries = journal.select(
        resource=request.query.get("resource") or None,
        identity=request.query.get("identity") or None,
        status=_int_query(request, "status"),
        since=_int_query(request, "since"),
        direction=request.query.get("direction") or None,
        body=_json_query(request, "body"),
        warned=None if warned is None else warned == 1,
    )
    # Each entry as its own JSON text: bodies go in as received, never parsed again.
    body = b'{"entries":[%s],"dropped":%d}' % (
        b",".join(entry.to_bytes() for entry in entries),
        journal.dropped,
    )
    return web.Response(body=body, content_type="application/json")


@handler
async def clear_journal(request: web.Request) -> web.Response:
    request.app[SANDBOX].journal.clear()
    return json_response({"entries": [], "dropped": 0})


@handler
async def list_objects(request: web.Request) -> web.Response:
    objects = request.app[SANDBOX].objects
    identity = request.query.get("identity")
    listed = [item for item in objects.all() if identity in (None, item["identity"])]
    return json_response({"objects": listed, "dropped": objects.dropped})


@handler
async def set_seed(request: web.Request) -> web.Response:
    """``{"seed": 42}``, or ``{"seed": null}`` to go back to unseeded: said, never assumed
    (a wrong key or an empty body is refused, not read as null)."""
    data = checked("seed", await read_json(request), "Cannot set the seed")
    seed = None if data["seed"] is None else int(data["seed"])  # 5.0 is a JSON integer too
    request.app[SANDBOX].reseed(seed)
    return json_response({"seed": seed})


@handler
async def list_jobs(request: web.Request) -> web.Response:
    """Every video job, its state and its callback deliveries; ``?state=processing``."""
    given = request.query.getall("state", [])
    wanted = given[0] if given else None
    if len(given) > 1 or (wanted is not None and wanted not in JOB_STATES):
        shown = wanted if len(given) == 1 else given
        raise BadRequest(
            f"The query parameter state must be given once, as one of {', '.join(JOB_STATES)}, "
            f"got {shown!r}"
        )
    jobs = request.app[SANDBOX].jobs.all()
    return json_response({"jobs": [job.to_json() for job in jobs if wanted in (None, job.state)]})


@handler
async def finish_jobs(request: web.Request) -> web.Response:
    """End processing now — one job, or every unfinished one — so tests never sleep. Answers
    the jobs it finished (none for a job already finished), once their state is final; the
    callbacks go out in the background. It takes no body: none, or ``{}``."""
    checked("no-body", await read_json(request, empty={}), "Cannot finish the jobs")
    queue = request.app[SANDBOX].jobs
    job_id = request.match_info.get("id")
    if job_id is None:
        jobs = queue.all()
    else:
        job = queue.get(job_id)
        if job is None:
            raise NotFound(f"No job with id {_cut(job_id)}: GET /__sandbox/jobs lists the jobs")
        jobs = [job]
    finished = queue.finish(jobs)  # their state is final on return
    return json_response({"jobs": [job.to_json() for job in finished]})


@handler
async def reset(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    sandbox.reset()
    return json_response({"status": "reset", "seed": sandbox.seed})


@handler
async def ca_certificate(request: web.Request) -> web.StreamResponse:
    """``GET /__sandbox/ca.pem``: the CA that signs the sandbox's HTTPS certificate, for a
    client to trust (fetch it once with ``curl -k``, or take it from --tls-ca-out)."""
    settings = request.app[SANDBOX].settings
    if not settings.serves_tls:
        raise NotFound("The sandbox serves plain HTTP: it has no CA (start it with --tls)")
    if settings.tls_cert is not None:
        raise NotFound(
            "The sandbox serves the certificate given with --tls-cert: trust the CA that "
            "signed it; the sandbox has none of its own"
        )
    from sandbox.http.tls import CA_FILE

    return web.Response(
        body=(settings.tls_folder / CA_FILE).read_bytes(),
        content_type=BY_PATH["GET ca.pem"].media,
    )


@handler
async def openapi_document(request: web.Request) -> web.StreamResponse:
    """``GET /__sandbox/openapi.json``: the document, its server the URL it was asked at. Built
    on first request: the generator stays off the start-up path (cold start)."""
    from sandbox.openapi.document import served

    body = served(request.app[SANDBOX].settings, str(request.url.origin()))
    return web.Response(body=body, content_type="application/json")


def add_admin_routes(app: web.Application) -> None:
    """The catalog's routes (sandbox.api.control.ROUTES), each to the handler its row names."""
    for route in ROUTES:
        handler = HANDLERS[route.handler]
        if route.method == "GET":
            app.router.add_get(PREFIX + route.path, handler)  # HEAD too
        else:
            app.router.add_route(route.method, PREFIX + route.path, handler)
