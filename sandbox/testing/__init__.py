"""What tests hold: the pytest plugin, the handle on a running sandbox and ``sandbox.run()``.

The names below are the public surface for test code (type hints, ``isinstance`` checks);
everything else in this package may change between versions."""

from __future__ import annotations

from sandbox.testing.handle import Call, SandboxHandle, SiteAuth, UnfiredFaultWarning, run

__all__ = ["Call", "SandboxHandle", "SiteAuth", "UnfiredFaultWarning", "run"]
