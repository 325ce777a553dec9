"""The OneAll response envelope: the only code that knows its shape (spec §2)."""

from __future__ import annotations

import json
import time
from email.utils import formatdate
from typing import Any

SUCCESS_INFO = "Your request has been processed successfully"

_last_date: list[Any] = [-1, ""]  # [second, its formatted date]


def envelope_date() -> str:
    """RFC 2822 date with a numeric zone, e.g. ``Wed, 02 May 2018 16:32:45 +0200``.

    Formatted at most once per second: every answer carries it and formatting is not free.
    """
    now = int(time.time())
    if now != _last_date[0]:
        _last_date[:] = [now, formatdate(now, localtime=True)]
    text: str = _last_date[1]
    return text


def success(resource: str, data: dict[str, Any]) -> bytes:
    """The 200 envelope around a resource's result data."""
    return json.dumps(
        {
            "response": {
                "request": {
                    "date": envelope_date(),
                    "resource": resource,
                    "status": {"flag": "success", "code": 200, "info": SUCCESS_INFO},
                },
                "result": {"data": data},
            }
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def failure(resource: str, status: int, info: str) -> bytes:
    """The error envelope: same request node, ``flag`` error, ``code`` = HTTP status, no result."""
    return json.dumps(
        {
            "response": {
                "request": {
                    "date": envelope_date(),
                    "resource": resource,
                    "status": {"flag": "error", "code": status, "info": info},
                }
            }
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
