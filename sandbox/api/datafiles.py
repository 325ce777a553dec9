"""Where the shipped ``schemas/`` and ``fixtures/`` folders are, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # sandbox/


def data_path(name: str) -> Path:
    """``sandbox/<name>`` in an installed wheel, else ``<repo>/<name>`` in a source checkout."""
    installed = _PACKAGE / name
    return installed if installed.is_dir() else _PACKAGE.parent / name
