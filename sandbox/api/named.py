"""The catalogs name the model function behind each row by a string (``Call.answer``,
``Endpoint.result``): they are the lowest layer and import no model code. The model's tables
that resolve those strings are made here, keyed by each function's own name, so a row and its
function cannot drift apart under a rename."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

Function = TypeVar("Function", bound=Callable[..., Any])


def by_name(*functions: Function) -> dict[str, Function]:
    return {function.__name__: function for function in functions}
