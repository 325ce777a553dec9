"""Files the user names at start-up (identities, fault scenarios): read whole, but never more
than a settings file can sensibly be, and every problem one SettingsError sentence."""

from __future__ import annotations

from pathlib import Path

from sandbox.api.errors import SettingsError

# Far above any real identities file or scenario; a path such as /dev/zero stops here.
MAX_SETTINGS_FILE = 64 * 1024 * 1024


def read_settings_text(path: Path, what: str) -> str:
    """The UTF-8 text of ``path``; ``what`` names the file in the error (``identities
    file``, ``fault scenario``)."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_SETTINGS_FILE + 1)
    except OSError as error:
        raise SettingsError(f"cannot read {what} {path}: {error.strerror or error}") from None
    if len(raw) > MAX_SETTINGS_FILE:
        raise SettingsError(f"{what} {path} is larger than {MAX_SETTINGS_FILE} bytes")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SettingsError(
            f"{what} {path} is not UTF-8 text (byte {error.start} cannot be read)"
        ) from None
