"""The HTTP application: one route per catalog row and the push pipeline, stage by stage.

route -> authenticate -> identity -> parse -> validate -> fabricate -> respond; the middleware
turns every refusal into the OneAll error envelope and logs one line per request.
"""

from __future__ import annotations

import base64
import difflib
import functools
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from sandbox import envelope
from sandbox.admin import ADMIN_PREFIX, add_admin_routes
from sandbox.catalog import ENDPOINTS, Endpoint
from sandbox.config import Settings
from sandbox.errors import (
    BadRequest,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RequestError,
    Unauthorized,
)
from sandbox.fabricate import Push
from sandbox.identities import TARGET_NOUNS, Identity, describe_targets
from sandbox.jsontext import unpaired_surrogate
from sandbox.state import SANDBOX, Sandbox

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

log = logging.getLogger("sandbox")
access_log = logging.getLogger("sandbox.access")

# Facebook ended third-party publishing to personal profiles on this day (spec §4).
PROFILE_PUBLISHING_ENDED = "2018-08-01"
DEPRECATION_HEADERS = {"Deprecation": "@1533081600"}
KNOWN_PATHS = [endpoint.display_path for endpoint in ENDPOINTS]


def create_app(settings: Settings, sandbox: Sandbox | None = None) -> web.Application:
    """Routes compiled once from the catalog; ``sandbox`` lets a caller share loaded models."""
    app = web.Application(middlewares=[envelope_middleware], client_max_size=settings.max_body)
    app[SANDBOX] = sandbox or Sandbox.from_settings(settings)
    for endpoint in ENDPOINTS:
        app.router.add_post(endpoint.route, push_handler(endpoint), name=endpoint.name)
    add_admin_routes(app)
    return app


# --- the middleware ---------------------------------------------------------------------------


def error_response(path: str, error: RequestError) -> web.Response:
    return web.Response(
        body=envelope.failure(path, error.status, error.info),
        status=error.status,
        content_type="application/json",
        headers=error.headers,
    )


def unknown_path(request: web.Request) -> NotFound:
    if request.path.startswith(ADMIN_PREFIX):
        return NotFound(
            f"Unknown control-plane path {request.method} {request.path}: see the README's "
            "control plane section"
        )
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
            f"it accepts {allowed} only"
            if request.path.startswith(ADMIN_PREFIX)
            else "push resources accept POST only"
        )
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
    started = time.perf_counter()
    try:
        response = await handler(request)
        info = envelope.SUCCESS_INFO
    except RequestError as error:
        response, info = error_response(request.path, error), error.info
    except (web.HTTPException, web.RequestPayloadError) as http:
        refusal = http_error(request, http)
        response, info = error_response(request.path, refusal), refusal.info
        if isinstance(http, web.RequestPayloadError):
            response.force_close()  # aiohttp drops the connection: the client must not reuse it
    if access_log.isEnabledFor(logging.INFO):
        elapsed = (time.perf_counter() - started) * 1000
        access_log.info(
            "%s %s -> %d %.1fms%s",
            request.method,
            request.path,
            response.status,
            elapsed,
            "" if response.status < 400 else f" ({info})",
        )
    return response


# --- the push pipeline ------------------------------------------------------------------------


def push_handler(endpoint: Endpoint) -> Handler:
    """The straight pipeline for one resource; each stage raises the refusal it owns."""

    async def handle(request: web.Request) -> web.Response:
        sandbox = request.app[SANDBOX]
        settings = sandbox.settings
        authenticate(request.headers.get("Authorization"), settings)
        headers = deprecation(endpoint, settings)
        identity = sandbox.identities.resolve(request.match_info["token"], endpoint.provider)
        body = parse_body(await read_body(request, settings.max_body))
        node = sandbox.validators.validate(endpoint.name, body)
        params = {key: value for key, value in request.match_info.items() if key != "token"}
        if sandbox.identities.strict:
            check_target(endpoint, identity, node, params)
        data = endpoint.result(Push(identity, node, params, sandbox.fabricator.ids(identity)))
        if endpoint.creates:
            remember_created(identity, endpoint, node, data)
        return web.Response(
            body=envelope.success(request.path, data),
            content_type="application/json",
            headers=headers,
        )

    return handle


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
        raise Unauthorized(f"Authentication required: {how}")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        raise Unauthorized(f"Unsupported authentication scheme {scheme!r}: {how}")
    try:
        user, colon, password = (
            base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        )
    except ValueError:  # binascii.Error, UnicodeDecodeError, or a non-ASCII header value
        raise Unauthorized(f"Malformed HTTP Basic credentials: {how}") from None
    if not colon:
        raise Unauthorized(f"Malformed HTTP Basic credentials (no colon between the keys): {how}")
    if (user, password) == keys:
        return
    wrong = "public key" if user != settings.public_key else "private key"
    raise Unauthorized(f"Invalid API credentials: the {wrong} does not match this site's keys")


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


async def read_body(request: web.Request, limit: int) -> bytes:
    length = request.content_length
    if length is not None and length > limit:
        raise too_large(limit)
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large(limit) from None


_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}


def parse_body(raw: bytes) -> Any:
    """JSON whatever the Content-Type says (spec §1); a UTF-8 BOM is tolerated (spec §6)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if not raw.strip():
        raise BadRequest(
            'The request body is empty: send JSON such as {"request": {"push": {...}}}'
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(
            f"The request body is not valid UTF-8 (byte {error.start}): send JSON encoded as UTF-8"
        ) from None
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadRequest(
            f"The request body is not valid JSON: {error.msg} at line {error.lineno} "
            f"column {error.colno}"
        ) from None
    except RecursionError:
        raise BadRequest("The request body is nested too deeply to be a push request") from None
    except ValueError:
        # Python refuses integers of more than sys.get_int_max_str_digits() digits.
        raise BadRequest(
            f"The request body holds a number of more than {sys.get_int_max_str_digits()} "
            "digits: no push request needs one"
        ) from None
    surrogate = unpaired_surrogate(text, body)
    if surrogate is not None:
        raise BadRequest(
            f"The request body holds a string with an unpaired UTF-16 surrogate escape "
            f"({surrogate}): JSON strings must be valid Unicode"
        )
    return body


def check_target(
    endpoint: Endpoint, identity: Identity, node: Mapping[str, Any], params: Mapping[str, str]
) -> None:
    """Strict mode: the page, group, company, board or playlist must be the identity's."""
    target = endpoint.target
    if target is None:
        return
    if target.param:
        target_id, where = params[target.param], f"The {TARGET_NOUNS[target.kind]} in the path"
    else:
        key = target.key or "id"
        target_id, where = str(node[key]), f"[request->push->{endpoint.node}->{key}]"
    if identity.find_target(target.kind, target_id) is None:
        raise NotFound(
            f"{where} {target_id} is not a {TARGET_NOUNS[target.kind]} of the identity "
            f"{identity.token}; its {target.kind} are: {describe_targets(identity, target.kind)}"
        )


def remember_created(
    identity: Identity, endpoint: Endpoint, node: Mapping[str, Any], data: Mapping[str, Any]
) -> None:
    """A new board or playlist is a valid target at once (spec §4, #13 and #19)."""
    kind = endpoint.creates
    assert kind is not None
    noun = TARGET_NOUNS[kind]
    name = node.get("name") or node.get("title") or ""
    target: dict[str, Any] = {"id": data[f"{noun}_id"], "name": name}
    location = data.get(f"{noun}_location")
    if location:
        target["url"] = location
        if kind == "boards":
            target["slug"] = location.rstrip("/").rsplit("/", 1)[-1]
    getattr(identity, kind).append(target)
