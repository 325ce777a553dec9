"""The OneAll response envelope: the only code that knows its shape (spec §2)."""

from __future__ import annotations

import json
import time
from email.utils import formatdate
from typing import Any

import orjson

SUCCESS_INFO = "Your request has been processed successfully"
# How status.flag says the request went.
SUCCESS, ERROR = FLAGS = ("success", "error")
# What request.date looks like: RFC 2822 with a numeric zone (see _date_json).
DATE_PATTERN = r"[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [+-][0-9]{4}"

_last_date: list[Any] = [-1, ""]  # [second, its formatted date as JSON]

# One encoder for every answer (json.dumps with arguments builds a new one each call); the
# fixed parts of the envelope are bytes once, so only the date, the path and the data are
# encoded per answer. The output is what json.dumps(envelope, ensure_ascii=False,
# separators=(",", ":")) gives, key order included.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_HEAD = b'{"response":{"request":{"date":'
_RESOURCE = b',"resource":'
_SUCCEEDED = b',"status":{"flag":' + _encode(SUCCESS).encode() + b',"code":'
_FAILED = b',"status":{"flag":' + _encode(ERROR).encode() + b',"code":'
_SUCCESS = _SUCCEEDED + b'200,"info":' + _encode(SUCCESS_INFO).encode() + b'}},"result":{"data":'


def _json(value: Any) -> bytes:
    """``value`` as compact JSON, byte for byte what the standard encoder gives, in a fraction
    of its time. What orjson refuses (a string holding a surrogate, which UTF-8 cannot carry)
    is written in ASCII, escapes and all."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(value, separators=(",", ":")).encode()


def _date_json() -> bytes:
    """The RFC 2822 date with a numeric zone, e.g. ``"Wed, 02 May 2018 16:32:45 +0200"``, as
    JSON; formatted at most once per second: every answer carries it and formatting is not
    free."""
    now = int(time.time())
    if now != _last_date[0]:
        _last_date[:] = [now, _encode(formatdate(now, localtime=True)).encode()]
    text: bytes = _last_date[1]
    return text


def success(resource: str, data: dict[str, Any]) -> bytes:
    """The 200 envelope around a resource's result data."""
    return b"".join(
        (
            _HEAD,
            _date_json(),
            _RESOURCE,
            _json(resource),
            _SUCCESS,
            _json(data),
            b"}}}",
        )
    )


def partial(resource: str, status: int, info: str, data: dict[str, Any]) -> bytes:
    """A success that is not whole (207: some publications of a sharing message failed): the
    result is there, ``flag`` says success, ``code`` the status."""
    return b"".join(
        (
            _HEAD,
            _date_json(),
            _RESOURCE,
            _json(resource),
            _SUCCEEDED,
            str(status).encode(),
            b',"info":',
            _json(info),
            b'}},"result":{"data":',
            _json(data),
            b"}}}",
        )
    )


def failure(resource: str, status: int, info: str) -> bytes:
    """The error envelope: same request node, ``flag`` error, ``code`` = HTTP status, no result."""
    return b"".join(
        (
            _HEAD,
            _date_json(),
            _RESOURCE,
            _json(resource),
            _FAILED,
            str(status).encode(),
            b',"info":',
            _json(info),
            b"}}}}",
        )
    )
