"""The connections family: what a Social Login connection gave (oneall-api.md §2)."""

from __future__ import annotations

from sandbox.api.calls import Call

# What a Social Login connection does: sign in, or link the identity to a user (the plugin key).
SOCIAL_LOGIN, SOCIAL_LINK = SERVICES = ("social_login", "social_link")

CALLS: tuple[Call, ...] = (
    Call(
        "connections.list",
        "GET",
        "/connections.json",
        "list_connections",
        "The connections made, newest first by default",
        listing="connections",
    ),
    Call(
        "connections.read",
        "GET",
        "/connections/{connection_token}.json",
        "read_connection",
        "One connection: the plugin's outcome, the user and the identity that connected",
    ),
)
