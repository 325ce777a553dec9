"""The error tree: every refusal is a value carrying its HTTP status and its OneAll ``info``.

::

    SandboxError                  a problem of the sandbox itself (bad settings, bad files)
    ├── SettingsError             a flag, env variable or file the user gave is unusable
    └── RequestError              a request is refused; becomes the OneAll error envelope
        ├── BadRequest            400  body not JSON, wrong node, invalid keys
        ├── Unauthorized          401  missing or wrong site keys
        ├── Forbidden             403  wrong provider, no consent, deprecated resource
        ├── NotFound              404  unknown path, identity or target
        ├── MethodNotAllowed      405  anything but POST on a push path
        ├── Conflict              409  a control-plane change that would overwrite (a token)
        ├── PayloadTooLarge       413  body over --max-body
        └── ProviderError         any status a fault rule chooses (429, 5xx ...)
"""

from __future__ import annotations

from collections.abc import Mapping


class SandboxError(Exception):
    """Base of everything the sandbox raises on purpose."""


class SettingsError(SandboxError):
    """A setting (flag, env variable, file) cannot be used; the message says which and why."""


class RequestError(SandboxError):
    """A refused request: :func:`sandbox.http.app.push` turns it into an error envelope with
    ``status`` (the middleware, outside the push pipeline)."""

    status: int = 400

    def __init_subclass__(cls, *, status: int | None = None) -> None:
        """Each kind of refusal names its status in its class line: ``class NotFound(
        RequestError, status=404)``; a kind without one keeps its parent's."""
        super().__init_subclass__()
        if status is not None:
            cls.status = status

    def __init__(
        self,
        info: str,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        detail: str | None = None,
        warnings: tuple[str, ...] = (),
    ) -> None:
        super().__init__(info)
        self.info = info
        if status is not None:
            self.status = status
        self.headers: dict[str, str] = dict(headers or {})
        # The sandbox's own precise sentence where ``info`` is the live API's (spec §7), sent
        # as the X-Sandbox-Detail header (escaped and bounded) and kept in the journal.
        self.detail = detail or self.headers.pop("X-Sandbox-Detail", None)
        # What the body's validation warned about, answered with the refusal (spec §6).
        self.warnings = warnings


class BadRequest(RequestError, status=400):
    """The body is not JSON, holds the wrong node, or has invalid keys."""


class Unauthorized(RequestError, status=401):
    """The site keys are missing or wrong."""


class Forbidden(RequestError, status=403):
    """Wrong provider, no consent to publish, or a deprecated resource."""


class NotFound(RequestError, status=404):
    """An unknown path, identity, target or token."""


class MethodNotAllowed(RequestError, status=405):
    """Anything but POST on a push path."""


class Conflict(RequestError, status=409):
    """A control-plane change that would overwrite something (a token)."""


class PayloadTooLarge(RequestError, status=413):
    """A body over --max-body."""


class ProviderError(RequestError):
    """A failure with a status chosen by the caller (fault rules, rate limits)."""
