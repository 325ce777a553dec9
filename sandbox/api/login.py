"""Social Login in a browser: the sandbox's consent page stands for the network's
(oneall-api.md §2; the page is ours)."""

from __future__ import annotations

from sandbox.api.calls import Call

LOGIN_PATH = "/socialize/connect/direct/{provider}/"
# The person's choice on the consent page (none given: deny), and the words force_reauth takes.
ALLOW, DENY = DECISIONS = ("allow", "deny")
TRUE, FALSE = BOOLEANS = ("true", "false")
# The media types the decision may come in: the forms a browser posts.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

CALLS: tuple[Call, ...] = (
    Call(
        "login.consent",
        "GET",
        LOGIN_PATH,
        "consent",
        "The consent page: which identity connects, Allow or Deny",
        source="ours",
        authenticated=False,
        html=True,
    ),
    Call(
        "login.decision",
        "POST",
        LOGIN_PATH,
        "decision",
        "The person's choice: back to callback_uri by an auto-submitting POST form",
        source="ours",
        authenticated=False,
        html=True,
    ),
)
