"""The sandbox's own headers, and how sentences are shaped to travel in them (spec §6): ASCII
only, bounded in length and number, so that a key named with control characters or a thousand
unknown keys never breaks an answer nor a client's header limit (Node's is 16 KiB)."""

from __future__ import annotations

import re
from collections.abc import Iterable

WARNING_HEADER = "X-Sandbox-Warning"
DETAIL_HEADER = "X-Sandbox-Detail"
PROFILE_HEADER = "X-Sandbox-Validation"

MAX_CHARS = 256  # one header value
MAX_HEADERS = 20  # warning headers, then one saying how many more
MAX_BYTES = 8 * 1024  # every warning header, names and values

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_PARTIAL_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{0,3})?$")
_CUT = "..."


def header_value(sentence: str) -> str:
    """``sentence`` as one header value: control characters dropped, anything else beyond
    ASCII escaped as ``\\uXXXX`` (a UTF-16 pair past U+FFFF), at most :data:`MAX_CHARS`."""
    text = _CONTROL.sub("", sentence)
    if not text.isascii():
        text = "".join(char if char.isascii() else _escaped(char) for char in text)
    if len(text) > MAX_CHARS:
        text = _PARTIAL_ESCAPE.sub("", text[: MAX_CHARS - len(_CUT)]) + _CUT
    return text


def _escaped(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def warning_values(warnings: Iterable[str]) -> list[str]:
    """The values of the ``X-Sandbox-Warning`` headers for ``warnings``: one each, up to
    :data:`MAX_HEADERS` and :data:`MAX_BYTES`, then one saying how many more there are."""
    values: list[str] = []
    total = 0
    listed = list(warnings)
    for index, warning in enumerate(listed):
        value = header_value(warning)
        size = len(WARNING_HEADER) + 4 + len(value)  # "name: value\r\n"
        room = MAX_BYTES - (len(WARNING_HEADER) + 4 + MAX_CHARS)  # kept for the last line
        if index == MAX_HEADERS or total + size > room:
            left = len(listed) - index
            values.append(f"and {left} more warning{'s' if left > 1 else ''} (see the journal)")
            break
        values.append(value)
        total += size
    return values
