"""An offline emulator of the OneAll Push API, for testing integrations without social networks."""

from __future__ import annotations

__version__ = "0.1.0"
