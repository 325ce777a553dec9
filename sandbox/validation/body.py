"""The one reader of JSON bodies from clients (pushes, the API around them, the control plane):
JSON whatever the Content-Type says, refused in a sentence that says why not."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import orjson

from sandbox.api.errors import BadRequest

# A \uD800-\uDFFF escape: the only way a JSON text can hold an unpaired surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SHOWN_CHARS = 40


def unpaired_surrogate(text: str, value: object) -> str | None:
    """A string of ``value`` (parsed from ``text``) holding an unpaired UTF-16 surrogate, shown
    as an ASCII JSON string, or None.

    ``json.loads`` turns a lone ``"\\ud800"`` into a str that cannot be encoded as UTF-8, so an
    answer echoing it (an error naming the key or value, a board named by it) would fail. The
    text is searched first: the walk runs only when such an escape is there at all.
    """
    if not _SURROGATE_ESCAPE.search(text):
        return None
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            strings: list[object] = list(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
            continue
        else:
            strings = [item]
        for string in strings:
            if isinstance(string, str) and not _encodable(string):
                shown = string if len(string) <= _SHOWN_CHARS else string[:_SHOWN_CHARS] + "…"
                return json.dumps(shown)
    return None


def _encodable(string: str) -> bool:
    try:
        string.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_json(raw: bytes) -> tuple[Any, BadRequest | None]:
    """The parsed body and None, or the body as text and the refusal saying why it is not JSON."""
    try:
        return parse_body(raw), None
    except BadRequest as refusal:
        return raw.decode("utf-8", errors="replace"), refusal


BOM = b"\xef\xbb\xbf"


def strict_json(raw: bytes) -> bool:
    """Whether a body read as JSON is JSON by RFC 8259: not when Python's parser read NaN or
    Infinity in it (checked only when those words are there at all)."""
    if b"NaN" not in raw and b"Infinity" not in raw:
        return True
    try:
        orjson.loads(raw.removeprefix(BOM))
    except orjson.JSONDecodeError:
        return False
    return True


# A number of 19 digits or more: orjson reads one beyond 64 bits as a float, Python an int.
# Found as a run of 19 digits after anything but a quote (a string of digits is no number),
# in the body with every digit made "0", a quote kept and anything else made a space: one
# translate and one substring search, a fifth of the regex's time.
_DIGITS_AND_QUOTES = bytes(
    b"0"[0] if byte in b"0123456789" else byte if byte == b'"'[0] else b" "[0]
    for byte in range(256)
)
_LONG_NUMBER = b" " + b"0" * 19


def parse_body(raw: bytes, what: str = "The request body", noun: str = "push request") -> Any:
    """JSON whatever the Content-Type says (spec §1); a UTF-8 BOM is tolerated (spec §6).
    ``what`` names the body in refusals and ``noun`` what it should have been (the control
    plane names its call).

    orjson reads what is valid JSON (RFC 8259, no lone surrogates) the way Python does, in a
    fraction of the time; anything else it refuses, and Python's parser reads it or words
    why not, exactly as before. Long numbers go to Python's parser too, to stay integers.
    """
    raw = raw.removeprefix(BOM)
    if _LONG_NUMBER not in raw.translate(_DIGITS_AND_QUOTES):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    if not raw.strip():
        raise BadRequest(
            f"{what} is empty: send JSON"
            + (' such as {"request": {"push": {...}}}' if what == "The request body" else "")
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(
            f"{what} is not valid UTF-8 (byte {error.start}): send JSON encoded as UTF-8"
        ) from None
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadRequest(
            f"{what} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except RecursionError:
        raise BadRequest(f"{what} is nested too deeply to be a {noun}") from None
    except ValueError:
        # Python refuses integers of more than sys.get_int_max_str_digits() digits.
        raise BadRequest(
            f"{what} holds a number of more than {sys.get_int_max_str_digits()} "
            f"digits: no {noun} needs one"
        ) from None
    surrogate = unpaired_surrogate(text, body)
    if surrogate is not None:
        raise BadRequest(
            f"{what} holds a string with an unpaired UTF-16 surrogate escape "
            f"({surrogate}): JSON strings must be valid Unicode"
        )
    return body
