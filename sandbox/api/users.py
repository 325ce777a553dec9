"""The users family: the people behind identities (oneall-api.md §3)."""

from __future__ import annotations

from sandbox.api.calls import Call

CALLS: tuple[Call, ...] = (
    Call("users.list", "GET", "/users.json", "list_users", "The users", listing="users"),
    Call(
        "users.read",
        "GET",
        "/users/{user_token}.json",
        "read_user",
        "One user and all its identities",
    ),
    Call(
        "users.delete",
        "DELETE",
        "/users/{user_token}.json",
        "delete_user",
        "Delete a user and its identities (confirm_deletion=true)",
    ),
)
