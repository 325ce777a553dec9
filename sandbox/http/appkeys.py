"""The typed keys under which the aiohttp application holds what its handlers share."""

from __future__ import annotations

from aiohttp import web

from sandbox.http.accesslog import AccessLines
from sandbox.model.sandbox import Sandbox

SANDBOX = web.AppKey("sandbox", Sandbox)
# The command's batched access log; without it (tests, sandbox.run()), lines go through logging.
ACCESS_LINES = web.AppKey("access_lines", AccessLines)
