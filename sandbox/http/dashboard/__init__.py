"""The web dashboard at ``/__sandbox/ui/``: what was published as each network shows it, the
journal live, faults, video jobs and identities, server-rendered with Jinja2.

Routes are registered with :func:`add_dashboard_routes`; the pages themselves (and Jinja2)
are imported on the first page asked for, so a sandbox nobody looks at starts as fast as
before. Access follows the control plane's: open, or behind ``--admin-token``, which the
login page turns into a cookie (:mod:`sandbox.http.dashboard.auth`).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from sandbox.http.appkeys import SANDBOX
from sandbox.http.dashboard.auth import LOGIN_PATH, SESSION_KEY, UI_PREFIX
from sandbox.http.dashboard.live import HUB, Hub, stream_events

__all__ = ["LOGIN_PATH", "UI_PREFIX", "add_dashboard_routes"]

STATIC = Path(__file__).parent / "static"


def page(name: str) -> Handler:
    """The handler ``name`` of :mod:`sandbox.http.dashboard.views`, imported on first use."""

    async def handle(request: web.Request) -> web.StreamResponse:
        from sandbox.http.dashboard import views

        response: web.StreamResponse = await getattr(views, name)(request)
        return response

    handle.__name__ = name
    return handle


def add_dashboard_routes(app: web.Application) -> None:
    """The dashboard's pages, forms, event stream and static files, when ``settings.ui``."""
    sandbox = app[SANDBOX]
    if not sandbox.settings.ui:
        return
    app[SESSION_KEY] = secrets.token_bytes(32)
    app[HUB] = Hub(sandbox.journal, sandbox.dashboard_clients)
    app.on_shutdown.append(lambda app: app[HUB].close())
    get = [
        ("", "feed"),
        ("journal", "journal"),
        ("journal/{id}", "journal_entry"),
        ("faults", "faults"),
        ("jobs", "jobs"),
        ("identities", "identities"),
        ("login", "login_form"),
    ]
    post = [
        ("faults", "arm_fault"),
        ("faults/{id}/disarm", "disarm_fault"),
        ("faults/reset", "reset_faults"),
        ("jobs/{id}/finish", "finish_job"),
        ("jobs/{id}/fail", "fail_job"),
        ("identities", "register_identity"),
        ("login", "login"),
        ("logout", "logout"),
    ]
    for path, name in get:
        app.router.add_get(UI_PREFIX + path, page(name))
    for path, name in post:
        app.router.add_post(UI_PREFIX + path, page(name))
    app.router.add_get(UI_PREFIX + "events", stream_events)
    app.router.add_static(UI_PREFIX + "static/", STATIC)
