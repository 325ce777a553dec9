"""Where the shipped ``schemas/`` and ``fixtures/`` folders are, installed or in a checkout."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

_PACKAGE = Path(__file__).resolve().parent.parent  # sandbox/


def data_path(name: str) -> Path:
    """``sandbox/<name>`` in an installed wheel, else ``<repo>/<name>`` in a source checkout."""
    installed = _PACKAGE / name
    return installed if installed.is_dir() else _PACKAGE.parent / name


@functools.cache
def _schema_text(folder: str, name: str) -> str:
    return (data_path("schemas") / folder / f"{name}.json").read_text(encoding="utf-8")


def read_schema(folder: str, name: str) -> dict[str, Any]:
    """``schemas/<folder>/<name>.json``, a fresh copy each call (callers may annotate it)."""
    schema: dict[str, Any] = json.loads(_schema_text(folder, name))
    return schema
