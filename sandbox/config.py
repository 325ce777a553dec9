"""Settings: command-line flags over ``SANDBOX_*`` environment variables over built-in defaults.

Nothing else in the package reads the environment. Every option is one row of ``OPTIONS``:
the flag, the env variable, the parser and the help text all come from it.
"""

from __future__ import annotations

import argparse
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from sandbox.api.errors import SettingsError

DEFAULT_PUBLIC_KEY = "1c9f6d26-770d-42f1-91bc-754dc31d00f0"
DEFAULT_PRIVATE_KEY = "f2e52630-52fa-4c90-8bde-e92c1f7211f4"
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything that can be configured; the defaults work with zero configuration."""

    host: str = "127.0.0.1"
    port: int = 8080
    seed: int | None = None
    public_key: str = DEFAULT_PUBLIC_KEY
    private_key: str = DEFAULT_PRIVATE_KEY
    identities: Path | None = None
    strict_identities: bool = False
    allow_unknown_keys: bool = False
    validation: str = "live"
    deprecated: str = "allow"
    max_body: int = MIB
    max_auto_identities: int = 10_000
    max_connections: int = 10_000
    max_tombstones: int = 10_000
    max_sharing_messages: int = 10_000
    log_level: str = "info"
    quiet: bool = False
    faults: tuple[Path, ...] = ()
    journal_size: int = 10_000
    journal_file: Path | None = None
    processing_time: float = 2.0
    callback_retries: int = 3
    callback_allow: tuple[str, ...] = ()
    grace: float = 5.0
    admin_token: str | None = None
    # Bounds (docs/limits.md): every store is limited in count and bytes.
    journal_max_bytes: int = 64 * MIB
    journal_max_body: int = 64 * 1024
    objects_max_bytes: int = 16 * MIB
    connections_max_bytes: int = 4 * MIB
    sharing_messages_max_bytes: int = 8 * MIB
    max_identities: int = 10_000
    identities_max_bytes: int = 8 * MIB
    max_created_targets: int = 10_000
    created_targets_max_bytes: int = 8 * MIB
    max_jobs: int = 10_000
    max_unfinished_jobs: int = 10_000
    max_fault_rules: int = 1_000
    max_fault_counters: int = 10_000
    max_bodies_in_flight: int = 8 * MIB
    idle_timeout: float = 75.0
    read_timeout: float = 60.0
    ui: bool = True
    ui_fetch_images: bool = False
    ui_max_clients: int = 16
    # HTTPS (docs/https.md)
    tls: bool = False
    tls_names: tuple[str, ...] = ()
    tls_dir: Path | None = None
    tls_ca_out: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None

    def __post_init__(self) -> None:
        for name in ("tls_dir", "tls_ca_out", "tls_cert", "tls_key"):
            value = getattr(self, name)
            if isinstance(value, str):  # Settings(tls_dir="...") in a conftest.py
                object.__setattr__(self, name, Path(value).expanduser())
        if isinstance(self.tls_names, str):
            object.__setattr__(self, "tls_names", (self.tls_names,))
        if (self.tls_cert is None) != (self.tls_key is None):
            raise SettingsError(
                "--tls-cert and --tls-key go together: the certificate and its private key"
            )
        if self.tls_cert is not None and self.tls_ca_out is not None:
            raise SettingsError(
                "--tls-ca-out writes the sandbox's own CA, which --tls-cert does not use: "
                "give clients the CA that signed your certificate"
            )
        for name in ("public_key", "private_key"):
            value = getattr(self, name)
            if not UUID_PATTERN.fullmatch(value):
                raise SettingsError(
                    f"{name.replace('_', ' ')} {value!r} is not a lowercase UUID "
                    "(8-4-4-4-12 hex digits, as OneAll issues them)"
                )
        if self.validation not in ("live", "strict"):
            raise SettingsError(f"validation must be 'live' or 'strict', got {self.validation!r}")
        if self.deprecated not in ("allow", "refuse"):
            raise SettingsError(f"deprecated must be 'allow' or 'refuse', got {self.deprecated!r}")
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"port must be between 0 and 65535, got {self.port}")
        if self.callback_retries < 1:
            raise SettingsError(
                f"callback retries must be at least 1 try, got {self.callback_retries}"
            )
        if self.journal_size < 1:
            raise SettingsError(f"journal size must be at least 1, got {self.journal_size}")
        if self.max_body < 1:
            raise SettingsError(f"max body must be at least 1 byte, got {self.max_body}")
        for name in _COUNTS:
            _check_range(name, getattr(self, name), 1, MAX_COUNT)
        for name in _SIZES:
            _check_range(name, getattr(self, name), 1, MAX_SIZE, "bytes")
        for name, high in _SECONDS.items():
            value = getattr(self, name)
            if not math.isfinite(value) or not 0 <= value <= high:
                raise SettingsError(
                    f"{name.replace('_', ' ')} must be between 0 and {high:g} seconds, got {value}"
                )
        for name in ("idle_timeout", "read_timeout"):
            if getattr(self, name) == 0:
                raise SettingsError(f"{name.replace('_', ' ')} must be above 0 seconds")

    @property
    def serves_tls(self) -> bool:
        """HTTPS only on the port: ``--tls``, or a certificate of one's own."""
        return self.tls or self.tls_cert is not None

    @property
    def tls_folder(self) -> Path:
        """Where the sandbox keeps its CA: ``--tls-dir``, else a per-user cache folder."""
        return self.tls_dir if self.tls_dir is not None else default_tls_dir()

    @property
    def secrets(self) -> tuple[str, ...]:
        """What the journal and the log must never show (docs/limits.md, redaction)."""
        return tuple(
            secret for secret in (self.private_key, self.admin_token) if secret is not None
        )

    def replace(self, **changes: Any) -> Settings:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)


MAX_COUNT = 10**9
MAX_SIZE = 1 << 40  # a tebibyte: far above any machine the sandbox runs on
_COUNTS = (
    "journal_size",
    "max_auto_identities",
    "max_connections",
    "max_tombstones",
    "max_sharing_messages",
    "max_identities",
    "max_created_targets",
    "max_jobs",
    "max_unfinished_jobs",
    "max_fault_rules",
    "max_fault_counters",
    "callback_retries",
    "ui_max_clients",
)
_SIZES = (
    "max_body",
    "journal_max_bytes",
    "journal_max_body",
    "objects_max_bytes",
    "connections_max_bytes",
    "sharing_messages_max_bytes",
    "identities_max_bytes",
    "created_targets_max_bytes",
    "max_bodies_in_flight",
)
# Seconds, at most: a day of processing, an hour of grace, a day of idling.
_SECONDS = {
    "processing_time": 86_400.0,
    "grace": 3600.0,
    "idle_timeout": 86_400.0,
    "read_timeout": 86_400.0,
}


def _check_range(name: str, value: int, low: int, high: int, unit: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        words = name.replace("_", " ")
        raise SettingsError(
            f"{words} must be a whole number from {low} to {high}{' ' + unit if unit else ''}, "
            f"got {value!r}"
        )


def default_tls_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/oneall-sandbox/tls``, by default ``~/.cache/oneall-sandbox/tls``: kept
    across runs (clients trust the CA once) but nothing anyone backs up."""
    environ = os.environ if environ is None else environ
    cache = environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(cache) / "oneall-sandbox" / "tls"


# ---------------------------------------------------------------------------------------------
# Parsers shared by flags and environment variables: each raises ValueError with a short reason.

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("expected one of 1/0/true/false/yes/no")


def parse_size(text: str) -> int:
    """Bytes, with an optional k/KiB/M/MiB suffix: ``1048576``, ``512k``, ``2MiB``."""
    match = re.fullmatch(r"\s*(\d{1,15})\s*(|b|k|kb|kib|m|mb|mib|g|gb|gib)\s*", text.lower())
    if not match:
        raise ValueError("expected a size in bytes such as 1048576, 512k or 2MiB")
    number, unit = int(match.group(1)), match.group(2)
    scale = {"k": 1024, "m": MIB, "g": 1024 * MIB}.get(unit[:1], 1)
    return number * scale


def parse_int(text: str) -> int:
    if len(text.strip()) > 20:
        raise ValueError("expected a whole number of at most 20 digits")
    try:
        return int(text)
    except ValueError:
        raise ValueError("expected a whole number") from None


def parse_seconds(text: str) -> float:
    try:
        return float(text.strip().removesuffix("s"))  # nan, inf: refused by Settings
    except ValueError:
        raise ValueError("expected a number of seconds such as 2, 0.5 or 0") from None


def parse_path(text: str) -> Path:
    return Path(text).expanduser()


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: its flag, its ``SANDBOX_*`` variable, how to read it and what it means."""

    name: str
    help: str
    parse: Callable[[str], Any] = str
    metavar: str | None = None
    choices: Sequence[str] | None = None
    short: str | None = None
    # "value", "switch" (a flag that turns it on), "off" (a --no- flag that turns off what is
    # on by default) or "list" (repeatable)
    kind: str = "value"
    shown_default: str | None = None  # for --help, where the default is None

    @property
    def flag(self) -> str:
        return ("--no-" if self.kind == "off" else "--") + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        return "SANDBOX_" + self.name.upper()


OPTIONS: tuple[Option, ...] = (
    Option("host", "address to listen on (0.0.0.0 for every interface)", metavar="ADDR"),
    Option("port", "port to listen on; 0 picks a free one", parse_int, "PORT"),
    Option(
        "seed",
        "seed for every random source: same calls, same ids",
        parse_int,
        "N",
        shown_default="none, ids differ each run",
    ),
    Option("public_key", "the site's public key (HTTP Basic user name)", metavar="UUID"),
    Option("private_key", "the site's private key (HTTP Basic password)", metavar="UUID"),
    Option(
        "identities",
        "JSON file of identities to load instead of the built-in ones",
        parse_path,
        "FILE",
        shown_default="the built-in fixtures/identities.json",
    ),
    Option(
        "strict_identities",
        "only known identity tokens work and targets must belong to them, as on the live API",
        parse_bool,
        kind="switch",
    ),
    Option(
        "allow_unknown_keys",
        "ignore keys a resource does not define, with a warning, in either validation profile "
        "(live ignores them anyway; strict refuses them otherwise)",
        parse_bool,
        kind="switch",
    ),
    Option(
        "validation",
        "'live': accept what the live API accepts (empty values, ids as numbers, padded URLs, "
        "unknown keys ...) with an X-Sandbox-Warning each; 'strict': refuse it with a 400",
        choices=("live", "strict"),
    ),
    Option(
        "deprecated",
        "Facebook profile resources: 'allow' (answer as before 2018) or 'refuse' (as today)",
        choices=("allow", "refuse"),
    ),
    Option(
        "max_body", "largest request body accepted, e.g. 1048576, 512k, 2MiB", parse_size, "SIZE"
    ),
    Option(
        "max_auto_identities",
        "automatically registered identities kept; the oldest are forgotten first",
        parse_int,
        "N",
    ),
    Option(
        "max_connections",
        "Social Login connections kept (GET /connections.json); the oldest are forgotten first",
        parse_int,
        "N",
    ),
    Option(
        "max_tombstones",
        "deleted identities and users remembered (their tokens answer 404 and are never "
        "registered again); the oldest are forgotten first",
        parse_int,
        "N",
    ),
    Option(
        "max_sharing_messages",
        "sharing messages kept (GET /sharing/messages.json); the oldest are forgotten first",
        parse_int,
        "N",
    ),
    Option(
        "connections_max_bytes",
        "bytes of Social Login connections kept; the oldest are forgotten first",
        parse_size,
        "SIZE",
    ),
    Option(
        "sharing_messages_max_bytes",
        "bytes of sharing messages kept (their parts and publications); the oldest are "
        "forgotten first",
        parse_size,
        "SIZE",
    ),
    Option(
        "log_level",
        "debug, info (one line per request), warning or error",
        choices=("debug", "info", "warning", "error"),
    ),
    Option(
        "quiet",
        "only warnings and errors (same as --log-level warning)",
        parse_bool,
        short="-q",
        kind="switch",
    ),
    Option(
        "faults",
        "fault scenario armed at start-up and by POST /__sandbox/reset: a shipped one by "
        "name (--list-faults) or a TOML or JSON file; repeat the flag, or separate them with "
        "commas in the variable",
        parse_path,
        "NAME|FILE",
        kind="list",
        shown_default="none",
    ),
    Option(
        "journal_size",
        "exchanges kept in the journal (and published objects); the oldest are dropped first",
        parse_int,
        "N",
    ),
    Option(
        "journal_file",
        "also append every journal entry to FILE, one JSON object per line",
        parse_path,
        "FILE",
        shown_default="none",
    ),
    Option(
        "processing_time",
        "seconds an asynchronous video (twitter/video.json, youtube/video.json) takes to "
        "process before its callback; 0 means at once",
        parse_seconds,
        "SECONDS",
    ),
    Option(
        "callback_retries",
        "tries to deliver a video callback when the receiver fails or times out "
        "(0.5 s, then 1 s, ... apart)",
        parse_int,
        "N",
    ),
    Option(
        "callback_allow",
        "a host besides loopback that may receive video callbacks; repeatable, "
        "comma-separated in the variable",
        metavar="HOST",
        kind="list",
        shown_default="loopback only",
    ),
    Option(
        "grace",
        "on SIGTERM or Ctrl-C, seconds requests in flight get to finish before they are cut",
        parse_seconds,
        "SECONDS",
    ),
    Option(
        "admin_token",
        "require Authorization: Bearer TOKEN on the control plane (/__sandbox/, except health)",
        metavar="TOKEN",
        shown_default="none, the control plane is open",
    ),
    # --- bounds (docs/limits.md) ---
    Option(
        "journal_max_bytes",
        "bytes the journal keeps, counted as its entries' JSON; the oldest are dropped first",
        parse_size,
        "SIZE",
    ),
    Option(
        "journal_max_body",
        "bytes of one body the journal keeps; a longer body is kept truncated, with its size "
        "and SHA-256",
        parse_size,
        "SIZE",
    ),
    Option(
        "objects_max_bytes",
        "bytes of published objects kept (GET /__sandbox/objects); the oldest are dropped first",
        parse_size,
        "SIZE",
    ),
    Option(
        "max_identities",
        "identities registered with POST /__sandbox/identities kept; more are refused (507)",
        parse_int,
        "N",
    ),
    Option(
        "identities_max_bytes",
        "bytes of registered identities kept, counted as their JSON; more are refused (507)",
        parse_size,
        "SIZE",
    ),
    Option(
        "max_created_targets",
        "boards and playlists created by pushes kept, all identities together; the oldest "
        "are forgotten first",
        parse_int,
        "N",
    ),
    Option(
        "created_targets_max_bytes",
        "bytes of created boards and playlists kept (names, ids, URLs); the oldest are "
        "forgotten first",
        parse_size,
        "SIZE",
    ),
    Option(
        "max_jobs",
        "finished video jobs kept (GET /__sandbox/jobs); the oldest are forgotten first",
        parse_int,
        "N",
    ),
    Option(
        "max_unfinished_jobs",
        "video jobs processing at once; a video push past it is refused (503, Retry-After: 1)",
        parse_int,
        "N",
    ),
    Option(
        "max_fault_rules",
        "fault rules armed at once; arming more is refused (507)",
        parse_int,
        "N",
    ),
    Option(
        "max_fault_counters",
        "identities whose calls fault rules count; the least recently seen are forgotten",
        parse_int,
        "N",
    ),
    Option(
        "max_bodies_in_flight",
        "bytes of request bodies read at once, all connections together; a request over it "
        "waits for room, up to --read-timeout, then is refused (503, Retry-After: 1)",
        parse_size,
        "SIZE",
    ),
    Option(
        "idle_timeout",
        "seconds an idle keep-alive connection (or one that sends no complete request head) "
        "is kept open",
        parse_seconds,
        "SECONDS",
    ),
    Option(
        "read_timeout",
        "seconds a client gets to send a request's body once its head arrived (408 after)",
        parse_seconds,
        "SECONDS",
    ),
    # --- the dashboard (docs/dashboard.md) ---
    Option(
        "ui",
        "turn off the web dashboard at /__sandbox/ui/",
        parse_bool,
        kind="off",
        shown_default="on",
    ),
    Option(
        "ui_fetch_images",
        "the dashboard's feed shows pictures from their URLs (the browser fetches them); "
        "by default it shows the URL, so nothing sent to the sandbox is fetched",
        parse_bool,
        kind="switch",
    ),
    Option(
        "ui_max_clients",
        "browser tabs the dashboard keeps live at once; more are refused (503)",
        parse_int,
        "N",
    ),
    # --- HTTPS (docs/https.md) ---
    Option(
        "tls",
        "serve HTTPS (only) on the port, with a certificate for localhost, 127.0.0.1, ::1 and "
        "--tls-names signed by the sandbox's own CA, made once and kept in --tls-dir",
        parse_bool,
        kind="switch",
    ),
    Option(
        "tls_names",
        "another name the certificate is for, such as *.api.localhost; repeatable, "
        "comma-separated in the variable",
        metavar="NAME",
        kind="list",
        shown_default="none",
    ),
    Option(
        "tls_dir",
        "folder keeping the CA (ca.pem, ca-key.pem) across runs; a folder holding a CA of "
        "your own uses it",
        parse_path,
        "DIR",
        shown_default="$XDG_CACHE_HOME or ~/.cache, then oneall-sandbox/tls",
    ),
    Option(
        "tls_ca_out",
        "also write the CA certificate to FILE at start-up, for clients to trust",
        parse_path,
        "FILE",
        shown_default="none; GET /__sandbox/ca.pem serves it too",
    ),
    Option(
        "tls_cert",
        "serve this certificate (PEM, its chain after it) instead of one the sandbox makes; "
        "implies HTTPS, needs --tls-key",
        parse_path,
        "FILE",
        shown_default="none",
    ),
    Option(
        "tls_key", "the private key of --tls-cert (PEM)", parse_path, "FILE", shown_default="none"
    ),
)


def _env_value(option: Option, environ: Mapping[str, str]) -> Any:
    raw = environ.get(option.env)
    if raw is None or raw == "":
        return None
    try:
        if option.kind == "list":
            return tuple(option.parse(item.strip()) for item in raw.split(",") if item.strip())
        value = option.parse(raw)
    except ValueError as error:
        raise SettingsError(f"{option.env}={raw!r}: {error}") from None
    if option.choices is not None and value not in option.choices:
        raise SettingsError(f"{option.env}={raw!r}: expected one of {', '.join(option.choices)}")
    return value


def _flag_type(option: Option) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return option.parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = option.metavar or option.name
    return convert


def add_options(parser: argparse.ArgumentParser) -> None:
    """Add one argument per option; each help line names its env variable and default."""
    for option in OPTIONS:
        default = getattr(DEFAULTS, option.name)
        shown = option.shown_default or default
        help_text = f"{option.help} [env {option.env}; default {shown}]"
        names = [option.flag] + ([option.short] if option.short else [])
        if option.kind in ("switch", "off"):
            parser.add_argument(
                *names,
                dest=option.name,
                action="store_const",
                const=option.kind == "switch",
                help=help_text,
            )
        elif option.kind == "list":
            parser.add_argument(
                *names,
                dest=option.name,
                type=_flag_type(option),
                action="append",
                metavar=option.metavar,
                help=help_text,
            )
        else:
            parser.add_argument(
                *names,
                dest=option.name,
                type=_flag_type(option),
                choices=option.choices,
                metavar=option.metavar or (None if option.choices else option.name.upper()),
                help=help_text,
            )


def settings_from(namespace: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    """Merge parsed flags over the environment over defaults; raises SettingsError."""
    values: dict[str, Any] = {}
    for option in OPTIONS:
        flag_value = getattr(namespace, option.name, None)
        if isinstance(flag_value, list):
            flag_value = tuple(flag_value)
        value = flag_value if flag_value is not None else _env_value(option, environ)
        if value is not None:
            values[option.name] = value
    if values.get("quiet") and "log_level" not in values:
        values["log_level"] = "warning"
    return Settings(**values)


def load_settings(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Settings from a command line and environment, for scripts and tests."""
    parser = argparse.ArgumentParser()
    add_options(parser)
    return settings_from(parser.parse_args(argv), os.environ if environ is None else environ)


# The built-in defaults: what the stores of the model take when built without settings.
DEFAULTS = Settings()
