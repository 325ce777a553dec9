"""The API around the push over HTTP: one route per catalog row of every family, answered by
the model (``sandbox.model.answers``) with the push's authentication, envelope, journal,
access log line and fault rules.

route -> read the body -> authenticate -> parse and validate the body -> fault rules ->
answer. Validation runs before faults, as for a push."""

from __future__ import annotations

import time

from aiohttp import web

from sandbox.api import envelope
from sandbox.api.calls import Call
from sandbox.api.errors import BadRequest, RequestError
from sandbox.api.families import CALLS
from sandbox.http import effects
from sandbox.http.app import (
    ENTRY,
    FAULT_HEADER,
    Handler,
    authenticate,
    error_response,
    finish,
    read_body,
    refusal_response,
)
from sandbox.http.appkeys import SANDBOX
from sandbox.http.wire import Answer
from sandbox.model.answers import ANSWERS, Ask
from sandbox.model.faults import ANSWER_EFFECTS, Fault, FaultSpecError, build_fault, parse_header
from sandbox.model.journal import Entry
from sandbox.model.sandbox import Sandbox
from sandbox.validation import bodies
from sandbox.validation.body import read_json

PARTIAL_INFO = "Your request has been processed, but at least one publication has failed"


def add_family_routes(app: web.Application) -> None:
    """Every call of every family but the browser pages (``sandbox.http.login``)."""
    for call in CALLS:
        if not call.html:
            handler = family_handler(call)
            app.router.add_route(call.method, call.path, handler, name=call.name)
            if call.method == "GET":  # as any HTTP server answers: the GET's head, no body
                app.router.add_route("HEAD", call.path, handler)


def family_handler(call: Call) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        sandbox = request.app[SANDBOX]
        started = time.perf_counter()
        entry = Entry(request.method, request.path, time.time(), request.headers)
        entry.resource = call.name
        token = request.match_info.get("identity_token")
        entry.identity = token
        entry.provider = call.provider or _provider_of(sandbox, token)
        request[ENTRY] = entry
        try:
            answered = await answer(request, sandbox, entry, call)
        except RequestError as error:
            entry.detail = error.detail
            answered = error_response(entry.path, error), error.info
        except (web.HTTPException, web.RequestPayloadError) as http:
            answered = refusal_response(request, http)
        return finish(request, sandbox, entry, started, answered, app=request.app)

    return handle


def _provider_of(sandbox: Sandbox, token: str | None) -> str | None:
    identity = sandbox.identities.find(token) if token else None
    return identity.provider if identity is not None else None


async def answer(
    request: web.Request, sandbox: Sandbox, entry: Entry, call: Call
) -> tuple[web.StreamResponse, str]:
    settings = sandbox.settings
    raw = await read_body(request, sandbox)
    body = None
    unreadable = None
    if raw.strip():
        body, unreadable = read_json(raw)
        entry.body = body
    authenticate(request.headers.get("Authorization"), settings)
    if call.schema is not None:
        if unreadable is not None:
            raise unreadable
        # No body at all reads as {} (synchronize.json's defaults); a JSON null is a body.
        body = bodies.check(call.schema, body if raw.strip() else {})
    fault = pick_fault(request, sandbox, call, entry)
    if fault is not None:
        entry.fault = fault.to_json()
        replaced = await effects.before_answer(
            fault, request, entry.provider or "", sandbox.shutdown
        )
        if replaced is not None:
            entry.info = f"Injected fault: {fault.preset or fault.effect}"
            return replaced, entry.info
    ask = Ask(
        call,
        dict(request.match_info),
        {name: request.query[name] for name in request.query},
        body,
        request.headers,
        entry.path,
        entry.started,
    )
    result = ANSWERS[call.answer](sandbox, ask)
    if call.listing is None:
        entry.data = result.data
    # What the caller may act on (a clamped page size): X-Sandbox-Warning headers, the journal
    # and the log line, as validation's warnings (finish() adds them).
    entry.warnings = tuple(result.warnings)
    if result.status == 200:
        return Answer(envelope.success(entry.path, result.data)), (envelope.SUCCESS_INFO)
    body_bytes = envelope.partial(entry.path, result.status, PARTIAL_INFO, result.data)
    return Answer(body_bytes, result.status), PARTIAL_INFO


def pick_fault(request: web.Request, sandbox: Sandbox, call: Call, entry: Entry) -> Fault | None:
    """The ``X-Sandbox-Fault`` header first and alone, else the first armed rule naming this
    call's family that fires."""
    header = request.headers.get(FAULT_HEADER)
    if header is None:
        return sandbox.faults.pick(call.name, entry.provider or "", entry.identity or "", "call")
    try:
        fault = build_fault(parse_header(header), f"{FAULT_HEADER}: ", rule_id=0, source="header")
    except FaultSpecError as error:
        raise BadRequest(f"Cannot apply the fault: {error}") from None
    if fault.effect not in ANSWER_EFFECTS:
        raise BadRequest(
            f"Cannot apply the fault: {FAULT_HEADER}: {fault.effect} applies to the asynchronous "
            "video resources only (twitter/video.json, youtube/video.json)"
        )
    return fault
