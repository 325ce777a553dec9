"""Sentences the live API answers with, verbatim, where they are known (push-api.md §7):
``info`` carries them, and the sandbox's precise explanation goes in the ``X-Sandbox-Detail``
header, the journal and the log line. Where no live sentence is known, ``info`` is the
sandbox's own."""

from __future__ import annotations

# docs.oneall.com, "responses and errors"
UNAUTHORIZED = (
    "Authentication credentials are missing or incorrect: "
    "http://docs.oneall.com/api/basic/authentication/"
)
# oneall/php-sdk pull request 9; {node}: the node the resource expects
WRONG_NODE = (
    "The request cannot be processed. Please verify the format of the [request->push->{node}] node."
)
# oneall/node-js-sdk issue 3
IDENTITY_NOT_FOUND = "No identity has been found for the specified identity_token"


def provider_refused(object_name: str) -> str:
    """The 403 of a provider that refused or answered unexpectedly (oneall/php-sdk issue 8,
    a real 2018 response), ``object_name`` the resource's object: post, picture, video ..."""
    return (
        f"The {object_name} cannot be published. The provider send back an unknown response. "
        "Our quality assurance team will immediately have a look at this issue."
    )


# provider_refused as a template: {object} is filled in when a fault rule fires.
PROVIDER_REFUSED = provider_refused("{object}")
