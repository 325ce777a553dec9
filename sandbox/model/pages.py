"""The one pagination convention of every list answer (oneall-api.md §3): ``page``, a page
size (``entries_per_page``, or ``num_<things>`` for the Pull API), ``order_direction``."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sandbox.api.errors import BadRequest

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 500
# By creation date: oldest first, or (the default) newest first.
ASCENDING, DESCENDING = ORDER_DIRECTIONS = ("asc", "desc")
DEFAULT_ORDER = DESCENDING

T = TypeVar("T")


@dataclass(slots=True)
class Page:
    """One page of a list, and the warnings asking for it raised (a clamped page size)."""

    node: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def _whole(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"[0-9]+", raw) or int(raw) < 1:
        raise BadRequest(f"The query parameter {name} must be a whole number from 1, got {raw!r}")
    return int(raw)


def paginate(
    items: Sequence[T],
    query: Mapping[str, str],
    *,
    size_name: str,
    created: Callable[[T], float],
    entry: Callable[[T], dict[str, Any]],
) -> Page:
    """``{pagination, count, entries}`` of the page the query asks for."""
    page_number = _whole(query, "page", 1)
    size = _whole(query, size_name, DEFAULT_PAGE_SIZE)
    warnings = []
    if size > MAX_PAGE_SIZE:
        warnings.append(
            f"{size_name}={size} is more than {MAX_PAGE_SIZE}: pages hold {MAX_PAGE_SIZE} entries"
        )
        size = MAX_PAGE_SIZE
    order = query.get("order_direction") or DEFAULT_ORDER
    if order not in ORDER_DIRECTIONS:
        raise BadRequest(
            f"The query parameter order_direction must be {' or '.join(ORDER_DIRECTIONS)}, "
            f"got {order!r}"
        )
    # A stable sort keeps entries made in the same instant in their order of making; desc
    # reverses that too, so the one made last comes first.
    ordered = sorted(items, key=created)
    if order == DESCENDING:
        ordered.reverse()
    total = len(ordered)
    chosen = ordered[(page_number - 1) * size : page_number * size]
    entries = [entry(item) for item in chosen]
    node = {
        "pagination": {
            "current_page": page_number,
            "total_pages": max(1, math.ceil(total / size)),
            "entries_per_page": size,
            "total_entries": total,
            "order_direction": order,
            # OneAll's reference shows the users list's direction as ``order``, its paging
            # rules as ``order_direction``: a client may read either, so both are given.
            "order": order,
        },
        "count": len(entries),
        "entries": entries,
    }
    return Page(node, warnings)
