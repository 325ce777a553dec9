"""Social Login in a browser (oneall-api.md §2): the sandbox's consent page stands where the
network's would be, and sends the person back to the integration's ``callback_uri`` with the
auto-submitting POST form OneAll's integrations read. Server-rendered HTML, no script but the
form's own submission; a bad ``callback_uri`` is an error page, never a redirect."""

from __future__ import annotations

import html
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

from aiohttp import web

from sandbox.api.calls import Call
from sandbox.api.connections import SERVICES, SOCIAL_LINK, SOCIAL_LOGIN
from sandbox.api.errors import RequestError
from sandbox.api.families import BY_NAME
from sandbox.api.login import ALLOW, BOOLEANS, DECISIONS, DENY, FORM_TYPES, TRUE
from sandbox.api.push import PROVIDER_NAMES, PROVIDERS
from sandbox.config import UUID_PATTERN
from sandbox.http import effects
from sandbox.http.app import ENTRY, Handler, finish
from sandbox.http.appkeys import SANDBOX
from sandbox.model.identities import Identity
from sandbox.model.jobs import callback_refusal
from sandbox.model.journal import Entry
from sandbox.model.sandbox import Sandbox

CONSENT = BY_NAME["login.consent"]
DECISION = BY_NAME["login.decision"]
NEW_USER = "new"
# The networks' own colours, so a person recognises the page at a glance.
COLOURS = {
    "facebook": "#1877f2",
    "linkedin": "#0a66c2",
    "pinterest": "#e60023",
    "twitter": "#1d9bf0",
    "youtube": "#ff0000",
}


class PageError(RequestError):
    """A refusal a person reads: an HTML page with the status, never a redirect."""


def add_login_routes(app: web.Application) -> None:
    app.router.add_get(CONSENT.path, page_handler(CONSENT), name=CONSENT.name)
    app.router.add_post(DECISION.path, page_handler(DECISION), name=DECISION.name)


def page_handler(call: Call) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        sandbox = request.app[SANDBOX]
        started = time.perf_counter()
        entry = Entry(request.method, request.path, time.time(), request.headers)
        entry.resource, entry.provider = call.name, request.match_info["provider"]
        request[ENTRY] = entry
        try:
            response, info = await _answer(request, sandbox, call, entry)
        except RequestError as error:
            response, info = error_page(error.status, error.info), error.info
        return finish(request, sandbox, entry, started, (response, info), app=request.app)

    return handle


async def _answer(
    request: web.Request, sandbox: Sandbox, call: Call, entry: Entry
) -> tuple[web.StreamResponse, str]:
    provider = request.match_info["provider"]
    if provider not in PROVIDERS:
        raise PageError(
            f"The sandbox knows no network called {provider!r}: use one of {', '.join(PROVIDERS)}",
            status=404,
        )
    if call is DECISION:
        form = await read_form(request)
        entry.body = dict(form)
    else:
        form = {name: request.query[name] for name in request.query}
    fault = sandbox.faults.pick(call.name, provider, "", "call")
    if fault is not None:
        entry.fault = fault.to_json()
        if fault.effect == "error" and fault.status is not None:
            info = effects.info_of(fault, provider, "Injected failure")
            return error_page(fault.status, info), info
        replaced = await effects.before_answer(fault, request, provider, sandbox.shutdown)
        if replaced is not None:
            entry.info = f"Injected fault: {fault.preset or fault.effect}"
            return replaced, entry.info
    asked = Asked.read(form, sandbox, provider)
    if call is CONSENT:
        return page(consent_page(sandbox, provider, asked, request.path)), "Consent page"
    decision = form.get("decision", DENY)
    if decision not in DECISIONS:
        raise PageError(
            f"The decision must be {' or '.join(DECISIONS)}, got {decision!r}", status=400
        )
    if decision == DENY:
        fields = {"oa_action": asked.service, "error": "access_denied"}
        return page(back_to(asked.callback_uri, fields, provider)), "Denied"
    chosen = form.get("identity") or NEW_USER
    connection = sandbox.connect(
        provider,
        None if chosen == NEW_USER else chosen,
        user_token=asked.user_token,
        service=asked.service,
        callback_uri=asked.callback_uri,
    )
    entry.identity = connection.identity_token
    fields = {
        "oa_action": asked.service,
        "oa_social_login_token": connection.token,
        "connection_token": connection.token,
        "identity_vault_key": sandbox.tokens.new("identity_vault_key"),
    }
    return page(back_to(asked.callback_uri, fields, provider)), "Allowed"


async def read_form(request: web.Request) -> dict[str, str]:
    """The consent form as a browser sends it; anything else is refused with a page."""
    if request.content_type not in FORM_TYPES:
        raise PageError(
            f"The decision is sent as a form ({FORM_TYPES[0]}), not {request.content_type}",
            status=415,
        )
    try:
        posted = await request.post()
    except web.HTTPRequestEntityTooLarge:
        raise PageError("The form is larger than --max-body", status=413) from None
    except (ValueError, AssertionError, KeyError) as error:  # a malformed multipart body
        raise PageError(f"The form cannot be read: {error}", status=400) from None
    return {name: str(value) for name, value in posted.items()}


class Asked:
    """The query of the consent page (and the hidden fields of its form)."""

    def __init__(
        self,
        callback_uri: str,
        service: str,
        nonce: str | None,
        user_token: str | None,
        force_reauth: bool,
    ) -> None:
        self.callback_uri = callback_uri
        self.service = service
        self.nonce = nonce
        self.user_token = user_token
        self.force_reauth = force_reauth

    @classmethod
    def read(cls, form: Mapping[str, str], sandbox: Sandbox, provider: str) -> Asked:
        callback_uri = form.get("callback_uri", "")
        problem = callback_problem(callback_uri, sandbox.settings.callback_allow)
        if problem is not None:
            raise PageError(f"The callback_uri cannot be used: {problem}", status=400)
        service = form.get("service", SOCIAL_LOGIN)
        if service not in SERVICES:
            raise PageError(
                f"The service must be {' or '.join(SERVICES)}, got {service!r}", status=400
            )
        user_token = form.get("user_token")
        if user_token is not None and not UUID_PATTERN.fullmatch(user_token):
            raise PageError(
                f"The user_token must be a lowercase UUID, got {user_token!r}", status=400
            )
        if form.get("force_reauth", TRUE) not in BOOLEANS:
            raise PageError(
                f"force_reauth must be {' or '.join(BOOLEANS)}, got {form['force_reauth']!r}",
                status=400,
            )
        if service == SOCIAL_LINK:
            if user_token is None:
                raise PageError(
                    "The service social_link needs the user_token of the user to link to",
                    status=400,
                )
            if user_token not in sandbox.identities.users:
                raise PageError("No user has been found for the specified user_token", status=404)
        return cls(
            callback_uri,
            service,
            form.get("nonce") or None,
            user_token,
            form.get("force_reauth") == TRUE,
        )


def callback_problem(url: str, allowed: tuple[str, ...]) -> str | None:
    """Why the browser may not be sent to ``url``: it must be an absolute http(s) URL, to a
    host video callbacks may reach (loopback, or one allowed with --callback-allow)."""
    if not url:
        return "it is missing: add callback_uri=<your page that reads the connection>"
    try:
        parts = urlsplit(url)
    except ValueError:
        return f"{url!r} is not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an absolute http or https URL"
    if any(char.isspace() for char in url):
        return f"{url!r} holds a space"
    refusal = callback_refusal(url, allowed)
    return None if refusal is None else f"it {refusal}"


# --- the pages ------------------------------------------------------------------------------

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
background:#f0f2f5;color:#1c1e21}
header{background:var(--brand);color:#fff;padding:1rem 1.5rem}
header p{margin:.25rem 0 0;opacity:.9}
main{max-width:32rem;margin:1.5rem auto;background:#fff;border-radius:8px;padding:1.5rem;
box-shadow:0 1px 3px rgba(0,0,0,.2)}
fieldset{border:1px solid #ccd0d5;border-radius:6px;margin:0 0 1rem;padding:.75rem 1rem}
legend{font-weight:600;padding:0 .25rem}
label{display:block;padding:.4rem 0;cursor:pointer}
.who{color:#606770;font-size:.9em}
.actions{display:flex;gap:.75rem}
button{font-size:1rem;padding:.6rem 1.4rem;border-radius:6px;border:1px solid var(--brand);
cursor:pointer}
button[value=allow]{background:var(--brand);color:#fff}
button[value=deny]{background:#fff;color:var(--brand)}
button:focus-visible,input:focus-visible{outline:3px solid #000;outline-offset:2px}
.note{font-size:.85em;color:#606770;margin-top:1.25rem}
"""


def page(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


def _document(title: str, brand: str, body: str, *, onload: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{html.escape(title)}</title>\n<style>:root{{--brand:{brand}}}{STYLE}</style>\n"
        f"</head>\n<body{onload}>\n{body}\n</body>\n</html>\n"
    )


def _choice(identity: Identity, checked: bool) -> str:
    user = identity.user
    name = html.escape(str(user.get("name") or identity.token))
    handle = html.escape(str(user.get("screen_name") or ""))
    return (
        f'<label><input type="radio" name="identity" value="{identity.token}"'
        f'{" checked" if checked else ""}> {name} <span class="who">'
        f"{'@' + handle if handle else ''} · identity {identity.token}</span></label>"
    )


def consent_page(sandbox: Sandbox, provider: str, asked: Asked, action: str) -> str:
    network = PROVIDER_NAMES[provider]
    identities = sandbox.identities.of_provider(provider)
    offer_new = not sandbox.identities.strict
    choices = []
    if offer_new:
        choices.append(
            f'<label><input type="radio" name="identity" value="{NEW_USER}" checked> '
            f'A new user <span class="who">(made up: a new {network} identity)</span></label>'
        )
    choices += [
        _choice(identity, not offer_new and index == 0) for index, identity in enumerate(identities)
    ]
    if not choices:
        choices.append(f"<p>The sandbox knows no {network} identity (--strict-identities).</p>")
    hidden = {
        "service": asked.service,
        "callback_uri": asked.callback_uri,
        "nonce": asked.nonce or "",
        "user_token": asked.user_token or "",
    }
    fields = "\n".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
        for name, value in hidden.items()
        if value
    )
    host = html.escape(urlsplit(asked.callback_uri).netloc)
    verb = "link to your account" if asked.service == SOCIAL_LINK else "sign you in"
    body = f"""<header><h1>{network}</h1><p>OneAll sandbox: this page stands for {network}'s
own consent page</p></header>
<main>
<h2>Allow {host} to {verb} with {network}?</h2>
<form method="post" action="{html.escape(action)}">
{fields}
<fieldset>
<legend>Continue as</legend>
{"".join(choices)}
</fieldset>
<div class="actions">
<button type="submit" name="decision" value="{ALLOW}">Allow</button>
<button type="submit" name="decision" value="{DENY}">Deny</button>
</div>
</form>
<p class="note">Nothing leaves this machine: the sandbox makes the connection and sends you
back to {host} with its token.</p>
</main>"""
    return _document(f"{network}: allow {host}?", COLOURS[provider], body)


def back_to(callback_uri: str, fields: Mapping[str, str], provider: str) -> str:
    """The auto-submitting POST form that sends the browser back to the integration."""
    inputs = "\n".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
        for name, value in fields.items()
    )
    body = f"""<main>
<form method="post" action="{html.escape(callback_uri)}">
{inputs}
<p>Returning to {html.escape(urlsplit(callback_uri).netloc)}…</p>
<noscript><button type="submit">Continue</button></noscript>
</form>
</main>"""
    return _document(
        "Returning to the site",
        COLOURS[provider],
        body,
        onload=' onload="document.forms[0].submit()"',
    )


def error_page(status: int, info: str) -> web.Response:
    body = f"""<header><h1>Social Login cannot continue</h1></header>
<main role="alert">
<h2>{status}</h2>
<p>{html.escape(info)}</p>
</main>"""
    return page(_document(f"Error {status}", "#606770", body), status)
