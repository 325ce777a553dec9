"""The control plane under ``/__sandbox/``: health, identities (more as features land)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from sandbox import __version__
from sandbox.catalog import ENDPOINTS
from sandbox.errors import BadRequest
from sandbox.jsontext import unpaired_surrogate
from sandbox.state import SANDBOX

ADMIN_PREFIX = "/__sandbox/"


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(data, ensure_ascii=False).encode(),
        status=status,
        content_type="application/json",
    )


async def read_json(request: web.Request) -> Any:
    """The control plane's request body as JSON; BadRequest says what is wrong."""
    raw = await request.read()
    try:
        text = raw.decode("utf-8-sig") or "{}"
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise BadRequest(f"The body of {request.method} {request.path} is not valid JSON") from None
    surrogate = unpaired_surrogate(text, data)
    if surrogate is not None:
        raise BadRequest(
            f"The body of {request.method} {request.path} holds a string with an unpaired "
            f"UTF-16 surrogate escape ({surrogate}): JSON strings must be valid Unicode"
        )
    return data


async def health(request: web.Request) -> web.Response:
    return json_response({"status": "ok", "version": __version__, "resources": len(ENDPOINTS)})


async def list_identities(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    return json_response({"identities": [i.to_json() for i in sandbox.identities.all()]})


async def register_identity(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    try:
        identity = sandbox.identities.register(await read_json(request))
    except ValueError as error:
        raise BadRequest(f"Cannot register the identity: {error}") from None
    return json_response(identity.to_json(), status=201)


def add_admin_routes(app: web.Application) -> None:
    app.router.add_get(ADMIN_PREFIX + "health", health)
    app.router.add_get(ADMIN_PREFIX + "identities", list_identities)
    app.router.add_post(ADMIN_PREFIX + "identities", register_identity)
