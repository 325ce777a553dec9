"""The identities family: connected social accounts (oneall-api.md §3)."""

from __future__ import annotations

from sandbox.api.calls import Call

CALLS: tuple[Call, ...] = (
    Call(
        "identities.list",
        "GET",
        "/identities.json",
        "list_identities",
        "The identities",
        listing="identities",
    ),
    Call(
        "identities.read",
        "GET",
        "/identities/{identity_token}.json",
        "read_identity",
        "One identity, as a connection gives it",
    ),
    Call(
        "identities.delete",
        "DELETE",
        "/identities/{identity_token}.json",
        "delete_identity",
        "Delete an identity (confirm_deletion=true); pushes with it then answer 404",
    ),
    Call(
        "identities.link",
        "PUT",
        "/identities/{identity_token}/link.json",
        "link_identity",
        "Move the identity to another user",
        schema="identities/link",
    ),
    Call(
        "identities.synchronize",
        "PUT",
        "/identities/{identity_token}/synchronize.json",
        "synchronize_identity",
        "Refresh the identity's data and its network access token (ends an expired token)",
        schema="identities/synchronize",
    ),
)
