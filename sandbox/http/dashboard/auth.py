"""Who may use the dashboard: with ``--admin-token``, a browser that has logged in once.

The login page takes the token and sets a cookie (HttpOnly: no script reads it; SameSite
Strict: no other site's page sends it; Path ``/__sandbox/``: the control plane's JSON and
event endpoints accept it too). The cookie holds an HMAC of the token under a key made at
start-up, never the token, and is worth nothing to another run of the sandbox. A request
that changes state on the strength of the cookie (or any form of the dashboard, token or
not) must come from a page of this sandbox: its ``Origin`` must be the sandbox's own.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

from aiohttp import web

from sandbox.api.errors import Forbidden

UI_PREFIX = "/__sandbox/ui/"
LOGIN_PATH = UI_PREFIX + "login"
COOKIE = "sandbox_ui"
COOKIE_PATH = "/__sandbox/"
SESSION_KEY = web.AppKey("ui_session_key", bytes)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Open without logging in: the login form and what it is drawn with.
OPEN_PATHS = (LOGIN_PATH, UI_PREFIX + "static/")


def session_value(key: bytes, token: str) -> str:
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def tokens_match(sent: str, token: str) -> bool:
    return hmac.compare_digest(sent.encode(), token.encode())


def has_session(request: web.Request, token: str) -> bool:
    """The request carries this run's dashboard cookie for ``token``."""
    key = request.app.get(SESSION_KEY)
    sent = request.cookies.get(COOKIE)
    if key is None or not sent:
        return False
    return hmac.compare_digest(sent.encode(), session_value(key, token).encode())


def set_session(response: web.StreamResponse, key: bytes, token: str) -> None:
    response.set_cookie(
        COOKIE,
        session_value(key, token),
        path=COOKIE_PATH,
        httponly=True,
        samesite="Strict",
    )


def clear_session(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path=COOKIE_PATH)


def is_open(path: str) -> bool:
    return path.startswith(OPEN_PATHS)


def own_origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def check_origin(request: web.Request) -> None:
    """Refuse a state change whose ``Origin`` is missing or another site's (cross-site request
    forgery: a page elsewhere posting a form to this sandbox on the user's behalf)."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get("Origin")
    expected = own_origin(request)
    if sent != expected:
        shown = "no Origin header" if sent is None else f"the Origin {sent}"
        raise Forbidden(
            f"{request.method} {request.path} came with {shown}: a change made from a browser "
            f"must come from a page of this sandbox ({expected}); scripts use "
            "Authorization: Bearer <admin token> instead"
        )


def to_login(request: web.Request) -> web.Response:
    """303 to the login form, which comes back here once logged in."""
    return web.Response(
        status=303, headers={"Location": f"{LOGIN_PATH}?{urlencode({'next': request.path_qs})}"}
    )


def wants_page(request: web.Request) -> bool:
    """A browser asking for a dashboard page (sent to the login form, not given a 401); the
    event stream and the live parts that scripts fetch get the 401."""
    return (
        request.method in SAFE_METHODS
        and request.path.startswith(UI_PREFIX)
        and request.path != UI_PREFIX + "events"
        and "fragment" not in request.query
    )
