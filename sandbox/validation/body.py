"""JSON text from clients: what ``json.loads`` accepts but no answer could carry."""

from __future__ import annotations

import json
import re

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
