"""Sharing messages: publishing one message to several identities, the Node SDK's way
(oneall-api.md §6)."""

from __future__ import annotations

from sandbox.api.calls import Call

CALLS: tuple[Call, ...] = (
    Call(
        "sharing.messages.list",
        "GET",
        "/sharing/messages.json",
        "list_messages",
        "The sharing messages",
        listing="sharing_messages",
    ),
    Call(
        "sharing.messages.create",
        "POST",
        "/sharing/messages.json",
        "create_message",
        "Publish a message for a user's identities or one identity: 200, or 207 when a "
        "publication failed",
        schema="sharing/messages.create",
    ),
    Call(
        "sharing.messages.read",
        "GET",
        "/sharing/messages/{sharing_message_token}.json",
        "read_message",
        "One sharing message and its publications",
    ),
    Call(
        "sharing.messages.delete",
        "DELETE",
        "/sharing/messages/{sharing_message_token}.json",
        "delete_message",
        "Delete a sharing message (the SDKs send confirm_deletion=true; it is not required)",
    ),
    Call(
        "sharing.messages.publish",
        "POST",
        "/sharing/messages/{sharing_message_token}.json",
        "republish_message",
        "Publish a message again: 200, or 207 when a publication failed",
        schema="sharing/messages.publish",
    ),
)
