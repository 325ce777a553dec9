"""Every family of the API around the push, their calls in one place, and the calls OneAll's
SDKs make that the sandbox does not emulate (oneall-api.md §7)."""

from __future__ import annotations

import re

from sandbox.api import connections, identities, login, pull, sharing, site, users
from sandbox.api.calls import Call

FAMILIES: dict[str, tuple[Call, ...]] = {
    "site": site.CALLS,
    "connections": connections.CALLS,
    "users": users.CALLS,
    "identities": identities.CALLS,
    "pull": pull.CALLS,
    "sharing": sharing.CALLS,
    "login": login.CALLS,
}
CALLS: tuple[Call, ...] = tuple(call for calls in FAMILIES.values() for call in calls)
BY_NAME: dict[str, Call] = {call.name: call for call in CALLS}
SCHEMAS: tuple[str, ...] = tuple(sorted({call.schema for call in CALLS if call.schema}))

_P = r"[^/]*"
_PULL = rf"/pull/identities/{_P}/"
# (method or None for any, path pattern, what it is, the nearest call the sandbox emulates):
# oneall-api.md §7, and the calls OneAll's PHP SDK makes (tests/clients/php/api_requests.json).
OUT_OF_SCOPE: tuple[tuple[str | None, re.Pattern[str], str, str], ...] = tuple(
    (method, re.compile(pattern), what, nearest)
    for method, pattern, what, nearest in (
        (None, r"/storage(/.*|\.json)", "the user storage API", "GET /users/<user_token>.json"),
        (None, r"/sso(/.*|\.json)", "single sign-on", "GET /connections/<connection_token>.json"),
        (None, r"/shorturls?(/.*|\.json)", "short URLs", "POST /sharing/messages.json"),
        (
            None,
            r"/sharing/analytics(/.*|\.json)",
            "sharing analytics",
            "GET /sharing/messages.json",
        ),
        (None, r"/sharing/pages(/.*|\.json)", "sharing pages", "GET /sharing/messages.json"),
        (None, r"/site(/.*|\.json)", "the site settings", "GET /tools/ping.json"),
        (
            None,
            r"/search/.*",
            "searching a network",
            "GET /pull/identities/<identity_token>/twitter/tweets.json",
        ),
        (
            None,
            _PULL + r"facebook/likes\.json",
            "Facebook likes",
            "GET /pull/identities/<identity_token>/facebook/posts.json",
        ),
        (
            None,
            _PULL + r"youtube/videos\.json",
            "YouTube videos",
            "GET /pull/identities/<identity_token>/youtube/playlists.json",
        ),
        (
            None,
            _PULL + rf"linkedin/(company/{_P}/)?posts\.json",
            "LinkedIn posts",
            "GET /pull/identities/<identity_token>/linkedin/companies.json",
        ),
        (
            None,
            _PULL + r"steam/.*",
            "Steam",
            "GET /pull/identities/<identity_token>/facebook/pages.json",
        ),
        (
            None,
            r"/providers/facebook/pages(/.*|\.json)",
            "the site's Facebook pages",
            "GET /pull/identities/<identity_token>/facebook/pages.json",
        ),
        (None, r"/providers\.json", "the providers list", "GET /tools/ping.json"),
        (
            None,
            rf"/identities/{_P}/contacts\.json",
            "an identity's contacts",
            "GET /identities/<identity_token>.json",
        ),
        (
            None,
            rf"/identities/{_P}/facebook/.*",
            "reading an identity's Facebook data",
            "GET /pull/identities/<identity_token>/facebook/posts.json",
        ),
        (
            None,
            rf"/identities/{_P}/youtube/.*",
            "reading an identity's YouTube data",
            "GET /pull/identities/<identity_token>/youtube/playlists.json",
        ),
        (
            None,
            rf"/identities/{_P}/steam/.*",
            "Steam",
            "GET /identities/<identity_token>.json",
        ),
        (
            None,
            rf"/users/{_P}/publish\.json",
            "publishing for a user",
            "POST /sharing/messages.json (publish_for_user)",
        ),
        (None, rf"/users/{_P}/contacts\.json", "a user's contacts", "GET /users/<user_token>.json"),
        ("PUT", r"/users\.json", "importing users", "GET /users.json"),
        (None, r"/discussions?(/.*|\.json)", "discussions", "GET /sharing/messages.json"),
        (None, r"/loudvoice(/.*|\.json)", "Loudvoice comments", "GET /sharing/messages.json"),
        (None, r"/exports?(/.*|\.json)", "data exports", "GET /users.json"),
    )
)


def out_of_scope(method: str, path: str) -> str | None:
    """The 404 ``info`` of a call OneAll's SDKs make that the sandbox does not emulate."""
    for only, pattern, what, nearest in OUT_OF_SCOPE:
        if only in (None, method) and pattern.fullmatch(path):
            return (
                f"The sandbox does not emulate {what} ({path}): the nearest call it emulates "
                f"is {nearest}"
            )
    return None
