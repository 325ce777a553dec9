"""The dashboard's pages and forms. Imported on the first page asked for (Jinja2 with it).

Forms post, change the model, and answer 303 back to their page (with what was done, or what
was wrong, in the query): every page works without JavaScript; the script adds live updates.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web

from sandbox import __version__
from sandbox.api.control import INBOUND
from sandbox.api.errors import NotFound
from sandbox.api.push import ENDPOINTS, PROVIDER_NAMES, PROVIDERS
from sandbox.config import UUID_PATTERN
from sandbox.http.appkeys import SANDBOX
from sandbox.http.dashboard import auth
from sandbox.http.dashboard.feed import feed as make_feed
from sandbox.http.dashboard.live import summary
from sandbox.model.faults import PRESETS, FaultSpecError, build_fault
from sandbox.model.identities import AUTO, TARGET_KINDS
from sandbox.model.journal import Entry
from sandbox.model.sandbox import Sandbox

UI = auth.UI_PREFIX
JOURNAL_ROWS = 200  # newest first; the live list adds rows as they come
IDENTITY_ROWS = 200


@functools.cache
def environment() -> jinja2.Environment:
    """What ``aiohttp_jinja2.setup`` would make, made on first use instead of at start-up
    (importing Jinja2 costs a cold start tens of milliseconds)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sandbox.http.dashboard", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["pretty"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False)
    env.filters["web"] = web_url
    env.filters["iso"] = lambda epoch: datetime.fromtimestamp(epoch, UTC).isoformat()
    env.filters["clock"] = lambda epoch: datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S")
    return env


def web_url(value: object) -> str:
    """The URL if it is an http(s) one, else empty: what a request sent becomes a link or a
    picture only then (never ``javascript:`` or ``data:``)."""
    text = str(value or "")
    return text if text.lower().startswith(("http://", "https://")) else ""


def render(
    request: web.Request, template: str, context: Mapping[str, Any], status: int = 200
) -> web.Response:
    sandbox = request.app[SANDBOX]
    page = {
        "ui": UI,
        "version": __version__,
        "path": request.path,
        "query": request.query,
        "logged_in": sandbox.settings.admin_token is not None,
        "fetch_images": sandbox.settings.ui_fetch_images,
        "last_id": sandbox.journal.last_id,
        "network_names": PROVIDER_NAMES,
        **context,
    }
    text = environment().get_template(template).render(page)
    response = web.Response(text=text, status=status, content_type="text/html")
    response.headers["Cache-Control"] = "no-store"
    # Nothing from elsewhere: scripts and styles of this sandbox only; pictures from anywhere
    # only when --ui-fetch-images asks for them.
    images = "'self' http: https: data:" if sandbox.settings.ui_fetch_images else "'self' data:"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; img-src {images}; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    # same-origin, not no-referrer: with no-referrer the browser sends "Origin: null" on
    # form posts, and check_origin refuses them.
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def back(page: str, **message: str) -> web.Response:
    """303 to a page of the dashboard, with what was done (``done``) or wrong (``error``)."""
    query = f"?{urlencode(message)}" if message else ""
    return web.Response(status=303, headers={"Location": UI + page + query})


def fragment(request: web.Request) -> bool:
    """Only the live part of the page: the script asks for it to refresh without a reload."""
    return request.query.get("fragment") == "1"


# --- feed ---------------------------------------------------------------------------------


async def feed(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    groups = make_feed(sandbox)
    context = {"groups": groups, "total": len(sandbox.objects.kept())}
    if fragment(request):
        return render(request, "_feed.html", context)
    return render(request, "feed.html", {**context, "title": "Feed"})


# --- journal ------------------------------------------------------------------------------


def _journal_filters(request: web.Request) -> dict[str, Any]:
    status = request.query.get("status", "").strip()
    return {
        "resource": request.query.get("resource", "").strip() or None,
        "identity": request.query.get("identity", "").strip() or None,
        "status": int(status) if re.fullmatch(r"[0-9]{3}", status) else None,
    }


async def journal(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    filters = _journal_filters(request)
    entries = sandbox.journal.select(**filters)
    rows = [summary(entry) for entry in reversed(entries[-JOURNAL_ROWS:])]
    return render(
        request,
        "journal.html",
        {
            "title": "Journal",
            "rows": rows,
            "matching": len(entries),
            "filters": filters,
            "resources": [endpoint.name for endpoint in ENDPOINTS],
            "dropped": sandbox.journal.dropped,
        },
    )


def curl_command(request: web.Request, sandbox: Sandbox, entry: Entry) -> str:
    """The request again against this sandbox, with its site keys (the journal redacts the
    Authorization header that was sent)."""
    settings = sandbox.settings
    url = f"{auth.own_origin(request)}{entry.path}"
    parts = ["curl", "-X", entry.method, "-u", f"{settings.public_key}:{settings.private_key}"]
    for name, value in entry.headers().items():
        if name.lower() == "content-type" or name.lower().startswith("x-sandbox-"):
            parts += ["-H", f"{name}: {value}"]
    body = entry.to_json()["request"]["body"]
    if body is not None:
        text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        parts += ["--data-binary", text]
    parts.append(url)
    return " ".join(shlex.quote(part) for part in parts)


async def journal_entry(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    raw = request.match_info["id"]
    entry = sandbox.journal.get(int(raw)) if raw.isdigit() else None
    if entry is None:
        raise NotFound(
            f"No journal entry {raw} is kept: the journal keeps the newest "
            f"{sandbox.settings.journal_size} (see /__sandbox/ui/journal)"
        )
    data = entry.to_json()
    return render(
        request,
        "journal_entry.html",
        {
            "title": f"Journal entry {entry.id}",
            "entry": data,
            "row": summary(entry),
            "curl": curl_command(request, sandbox, entry) if entry.direction == INBOUND else "",
        },
    )


# --- faults -------------------------------------------------------------------------------


async def faults(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    context = {"rules": [rule.to_json() for rule in sandbox.faults.rules]}
    if fragment(request):
        return render(request, "_faults.html", context)
    return render(
        request,
        "faults.html",
        {
            **context,
            "title": "Faults",
            "presets": PRESETS,
            "resources": [endpoint.name for endpoint in ENDPOINTS],
            "providers": PROVIDERS,
        },
    )


def _whole(form: Mapping[str, Any], key: str) -> int | None:
    value = str(form.get(key) or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise FaultSpecError(f"{key}: must be a whole number, got {value!r}")
    return int(value)


async def arm_fault(request: web.Request) -> web.Response:
    auth.check_origin(request)
    form = await request.post()
    spec: dict[str, Any] = {"preset": str(form.get("preset") or "")}
    for key in ("resource", "identity", "provider"):
        value = str(form.get(key) or "").strip()
        if value and value != "*":
            spec[key] = value
    try:
        for key in ("times", "after"):
            number = _whole(form, key)
            if number is not None:
                spec[key] = number
        (rule,) = request.app[SANDBOX].faults.arm([spec], where_prefix="", indexed=False)
    except FaultSpecError as error:
        return back("faults", error=f"Cannot arm the rule: {error}")
    return back("faults", done=f"Armed rule {rule.id}: {rule.preset} on {_scope(rule.to_json())}")


def _scope(rule: Mapping[str, Any]) -> str:
    parts = [f"resource {rule['resource']}"]
    if rule.get("provider"):
        parts.append(f"provider {rule['provider']}")
    if rule.get("identity"):
        parts.append(f"identity {rule['identity']}")
    return ", ".join(parts)


async def disarm_fault(request: web.Request) -> web.Response:
    auth.check_origin(request)
    raw = request.match_info["id"]
    if not raw.isdigit() or not request.app[SANDBOX].faults.remove(int(raw)):
        return back("faults", error=f"No rule {raw} is armed")
    return back("faults", done=f"Disarmed rule {raw}")


async def reset_faults(request: web.Request) -> web.Response:
    """``action=clear`` disarms every rule; ``action=startup`` goes back to the rules of the
    --faults files, counters at zero."""
    auth.check_origin(request)
    form = await request.post()
    plan = request.app[SANDBOX].faults
    if form.get("action") == "startup":
        plan.reset()
        return back("faults", done=f"Back to the {len(plan.rules)} start-up rules")
    return back("faults", done=f"Disarmed {plan.clear()} rules")


# --- jobs ---------------------------------------------------------------------------------


async def jobs(request: web.Request) -> web.Response:
    queue = request.app[SANDBOX].jobs
    listed = list(reversed(queue.all()))
    context = {"jobs": listed}
    if fragment(request):
        return render(request, "_jobs.html", context)
    return render(request, "jobs.html", {**context, "title": "Jobs"})


async def finish_job(request: web.Request) -> web.Response:
    return await _end_job(request, fail=False)


async def fail_job(request: web.Request) -> web.Response:
    return await _end_job(request, fail=True)


async def _end_job(request: web.Request, *, fail: bool) -> web.Response:
    auth.check_origin(request)
    queue = request.app[SANDBOX].jobs
    job_id = request.match_info["id"]
    job = queue.get(job_id)
    if job is None:
        return back("jobs", error=f"No job {job_id}")
    if fail:
        failure = build_fault({"preset": "processing_failed"}, "", rule_id=0, source="dashboard")
        ended = queue.fail([job], failure)
    else:
        ended = queue.finish([job])
    if not ended:
        return back("jobs", error=f"{job_id} had already ended: {job.state}")
    return back("jobs", done=f"{job_id} {job.state}")


# --- identities ---------------------------------------------------------------------------


async def identities(request: web.Request) -> web.Response:
    store = request.app[SANDBOX].identities
    every = store.all()
    shown = [i for i in every if i.origin != AUTO]
    auto = [i for i in every if i.origin == AUTO]
    return render(
        request,
        "identities.html",
        {
            "title": "Identities",
            "identities": shown + auto[-IDENTITY_ROWS:][::-1],
            "auto_hidden": max(0, len(auto) - IDENTITY_ROWS),
            "providers": PROVIDERS,
            "target_kinds": TARGET_KINDS,
            "token_pattern": UUID_PATTERN.pattern,
            "strict": store.strict,
        },
    )


def _targets(text: str) -> list[dict[str, str]]:
    """``id, name`` per line (the name optional)."""
    found = []
    for line in text.splitlines():
        target_id, _, name = line.partition(",")
        if target_id.strip():
            found.append({"id": target_id.strip(), "name": name.strip() or target_id.strip()})
    return found


async def register_identity(request: web.Request) -> web.Response:
    auth.check_origin(request)
    form = await request.post()
    data: dict[str, Any] = {
        "provider": str(form.get("provider") or ""),
        "consent": form.get("consent") == "on",
    }
    token = str(form.get("token") or "").strip()
    if token:
        data["token"] = token
    name = str(form.get("name") or "").strip()
    if name:
        data["user"] = {
            "id": str(form.get("user_id") or "").strip() or re.sub(r"\W+", "", name.lower()),
            "name": name,
            "screen_name": str(form.get("screen_name") or "").strip(),
        }
    kind = str(form.get("target_kind") or "")
    if kind in TARGET_KINDS:
        data[kind] = _targets(str(form.get("targets") or ""))
    try:
        identity = request.app[SANDBOX].identities.register(data)
    except ValueError as error:
        return back("identities", error=f"Cannot register the identity: {error}")
    return back(
        "identities",
        done=f"Registered {PROVIDER_NAMES[identity.provider]} identity {identity.token}",
    )


# --- login --------------------------------------------------------------------------------


def _next(value: object) -> str:
    """Where to go after logging in: a page of the dashboard only (no open redirect)."""
    text = str(value or "")
    return text if text.startswith(UI) and "//" not in text and "\\" not in text else UI


async def login_form(request: web.Request) -> web.Response:
    if request.app[SANDBOX].settings.admin_token is None:
        return back("")
    return render(
        request,
        "login.html",
        {"title": "Log in", "next": _next(request.query.get("next")), "error": ""},
    )


async def login(request: web.Request) -> web.Response:
    auth.check_origin(request)
    token = request.app[SANDBOX].settings.admin_token
    form = await request.post()
    target = _next(form.get("next"))
    if token is None:
        return web.Response(status=303, headers={"Location": target})
    sent = str(form.get("token") or "")
    if not auth.tokens_match(sent, token):
        context = {"title": "Log in", "next": target, "error": "That is not the admin token."}
        return render(request, "login.html", context, status=401)
    response = web.Response(status=303, headers={"Location": target})
    auth.set_session(response, request.app[auth.SESSION_KEY], token)
    return response


async def logout(request: web.Request) -> web.Response:
    auth.check_origin(request)
    response = web.Response(status=303, headers={"Location": auth.LOGIN_PATH})
    auth.clear_session(response)
    return response
