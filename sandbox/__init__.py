"""An offline emulator of the OneAll API (the Push API and the calls around it), for testing
integrations without social networks."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``sandbox.run`` without importing the server on ``import sandbox`` (keeps --help fast)."""
    if name == "run":
        from sandbox.testing.handle import run

        return run
    raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
