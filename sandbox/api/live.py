"""Sentences the live API answers with, verbatim, for the cases the API around the push
shares with the push (push-api.md §7)."""

from __future__ import annotations

# oneall/node-js-sdk issue 3
IDENTITY_NOT_FOUND = "No identity has been found for the specified identity_token"


def provider_refused(object_name: str) -> str:
    """The 403 of a provider that refused or answered unexpectedly (oneall/php-sdk issue 8,
    a real 2018 response), ``object_name`` the resource's object: post, picture, video ..."""
    return (
        f"The {object_name} cannot be published. The provider send back an unknown response. "
        "Our quality assurance team will immediately have a look at this issue."
    )
