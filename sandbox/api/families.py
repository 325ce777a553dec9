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

_P = r"[^/]+"
# (path pattern, what it is, the nearest call the sandbox emulates) — oneall-api.md §7.
OUT_OF_SCOPE: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern), what, nearest)
    for pattern, what, nearest in (
        (r"/storage/.*", "the user storage API", "GET /users/<user_token>.json"),
        (r"/sso/.*", "single sign-on", "GET /connections/<connection_token>.json"),
        (r"/shorturls?(/.*|\.json)", "short URLs", "POST /sharing/messages.json"),
        (r"/sharing/analytics/.*", "sharing analytics", "GET /sharing/messages.json"),
        (r"/site(/.*|\.json)", "the site settings", "GET /tools/ping.json"),
        (
            rf"/pull/identities/{_P}/facebook/likes\.json",
            "Facebook likes",
            "GET /pull/identities/<identity_token>/facebook/posts.json",
        ),
        (
            rf"/pull/identities/{_P}/youtube/videos\.json",
            "YouTube videos",
            "GET /pull/identities/<identity_token>/youtube/playlists.json",
        ),
        (
            rf"/pull/identities/{_P}/linkedin/company/{_P}/posts\.json",
            "a LinkedIn company's posts",
            "GET /pull/identities/<identity_token>/linkedin/companies.json",
        ),
        (
            r"/providers/facebook/pages\.json",
            "the site's Facebook pages",
            "GET /pull/identities/<identity_token>/facebook/pages.json",
        ),
        (r"/providers\.json", "the providers list", "GET /tools/ping.json"),
        (
            rf"/identities/{_P}/contacts\.json",
            "an identity's contacts",
            "GET /identities/<identity_token>.json",
        ),
        (
            rf"/users/{_P}/publish\.json",
            "publishing for a user",
            "POST /sharing/messages.json (publish_for_user)",
        ),
        (
            rf"/users/{_P}/contacts\.json",
            "a user's contacts",
            "GET /users/<user_token>.json",
        ),
        (r"/discussions?(/.*|\.json)", "discussions", "GET /sharing/messages.json"),
    )
)


def out_of_scope(path: str) -> str | None:
    """The 404 ``info`` of a call OneAll's SDKs make that the sandbox does not emulate."""
    for pattern, what, nearest in OUT_OF_SCOPE:
        if pattern.fullmatch(path):
            return (
                f"The sandbox does not emulate {what} ({path}): the nearest call it emulates "
                f"is {nearest}"
            )
    return None
