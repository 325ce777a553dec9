"""The ``oneall-sandbox`` command: flags -> Settings -> serve until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import textwrap
from collections.abc import Sequence

from sandbox import __version__
from sandbox.api.datafiles import read_schema
from sandbox.api.errors import SettingsError
from sandbox.api.families import FAMILIES
from sandbox.api.push import ENDPOINTS, FOUND_SOURCES, inferred
from sandbox.config import Settings, add_options, settings_from

DESCRIPTION = """\
An offline emulator of the OneAll Push API and the API around it. It serves the 20 push
resources (and the legacy pinterest/pin.json path), the site check, Social Login's consent
page, connections, users, identities, the Pull API and sharing messages (--list shows every
one) at the same URLs as https://<subdomain>.api.oneall.com, with the same HTTP Basic
authentication, envelope, status codes and error wording, and fabricates realistic provider
ids (tweet snowflakes, Facebook post ids, YouTube video ids ...).

With no options it listens on http://127.0.0.1:8080 with built-in site keys and one identity
per provider, printed at start-up. Every option can also be set by the environment variable
shown in its help (flags win); booleans take 1/0/true/false/yes/no."""

EPILOG = """\
examples:
  oneall-sandbox                         start on 127.0.0.1:8080 with the built-in defaults
  oneall-sandbox --port 0 --seed 42      a free port, reproducible ids
  oneall-sandbox --strict-identities --identities my-identities.json
  SANDBOX_PORT=9000 oneall-sandbox -q    configure by environment, log warnings only
  oneall-sandbox --faults flaky --seed 1  arm a shipped fault scenario (--list-faults), or a
                                         file: the same calls fail each run
  oneall-sandbox --list                  every resource of every family: method, path, schema
  oneall-sandbox --openapi > openapi.json
                                         the OpenAPI document (also GET /__sandbox/openapi.json)

control plane (JSON, under /__sandbox/): {routes}.
A single request can fail on demand with the header X-Sandbox-Fault: rate_limited."""


class Parser(argparse.ArgumentParser):
    """The epilog lists the control plane from its catalog (``sandbox.api.control``), so
    ``--help`` and the served routes cannot disagree."""

    def format_help(self) -> str:
        from sandbox.api.control import route_summary

        wrapped = textwrap.fill(
            route_summary(), width=95, initial_indent=" " * 44, subsequent_indent=""
        )
        self.epilog = EPILOG.replace("{routes}", wrapped[44:])
        return super().format_help()


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="oneall-sandbox",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_options(parser)
    parser.add_argument(
        "--list",
        action="store_true",
        help=f"print every resource of every family ({', '.join(('push', *FAMILIES))}), one "
        "line each: its family, name, method, path, request body schema (under schemas/) and "
        "notes (the body's node, pagination, deprecated, *inferred* shapes), and exit",
    )
    parser.add_argument(
        "--list-faults",
        action="store_true",
        help="print the shipped fault scenarios (for --faults NAME) and exit",
    )
    parser.add_argument(
        "--openapi", action="store_true", help="print the OpenAPI 3.1 document and exit"
    )
    parser.add_argument(
        "--check-health",
        action="store_true",
        help="ask the sandbox these settings describe, on this machine, for its health and "
        "exit 0 if it is up (1 if not): the container's health check, HTTPS included",
    )
    parser.add_argument("--version", action="version", version=f"oneall-sandbox {__version__}")
    return parser


Row = tuple[str, str, str, str, str, str]


def push_rows() -> list[Row]:
    """The push resources; *inferred* marks a body or result shape found in no OneAll
    documentation or SDK (the ``x-source`` of its schemas), so a guess is not taken for a fact."""
    rows: list[Row] = []
    for endpoint in ENDPOINTS:
        notes = [f"node push.{endpoint.node}"]
        notes += ["deprecated"] if endpoint.deprecated else []
        notes += ["asynchronous"] if endpoint.asynchronous else []
        guessed = inferred(endpoint)
        notes += [f"*inferred*: {' and '.join(guessed)}"] if guessed else []
        path, schema = endpoint.display_path, f"{endpoint.name}.json"
        rows.append(("push", endpoint.name, "POST", path, schema, ", ".join(notes)))
    return rows


def call_rows() -> list[Row]:
    """The calls around the push, marked as the push's are: a result whose shape is ours (the
    Pull API's) is *inferred*; the consent page is the sandbox's own by design, not a guess."""
    rows: list[Row] = []
    for family, calls in FAMILIES.items():
        for call in calls:
            notes, guessed = [], []
            if call.schema:
                folder, _, name = call.schema.rpartition("/")
                body = read_schema(folder, name)
                notes.append(f"node {next(iter(body['properties']['request']['properties']))}")
                guessed += [] if body.get("x-source") in FOUND_SOURCES else ["body"]
            notes += [f"paginated: page, {call.page_size}"] if call.listing else []
            notes += [] if call.authenticated else ["no site keys"]
            notes += ["the sandbox's own HTML page"] if call.html else []
            guessed += [] if call.html or call.source in FOUND_SOURCES else ["result"]
            notes += [f"*inferred*: {' and '.join(guessed)}"] if guessed else []
            schema = f"{call.schema}.json" if call.schema else "-"
            rows.append(
                (family, call.name, call.method, call.display_path, schema, ", ".join(notes))
            )
    return rows


def resource_table() -> str:
    """One line per resource of every family, from the catalogs, the push first: what to call
    (method, path), what to send (the schema under ``schemas/``, the key of ``request`` its
    body holds) and what to know (pagination, deprecation, what is inferred)."""
    rows: list[Row] = [("FAMILY", "RESOURCE", "METHOD", "PATH", "SCHEMA", "NOTE")]
    rows += push_rows() + call_rows()
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:5], widths, strict=True)]
        lines.append("  ".join([*cells, row[5]]).rstrip() + "\n")
    return "".join(lines)


def fault_table() -> str:
    """One line per shipped scenario: its name and the first line of its comment."""
    from sandbox.model.faults import scenario_summary, scenarios

    shipped = scenarios()
    width = max((len(name) for name in shipped), default=0)
    return "".join(
        f"{name.ljust(width)}  {scenario_summary(path)}".rstrip() + "\n"
        for name, path in shipped.items()
    )


def check_health(settings: Settings) -> int:
    """GET /__sandbox/health on this machine: 0 when it answers 200, else 1 with the reason.

    HTTPS is verified with the sandbox's CA, or not at all with a certificate of one's own
    (a liveness probe of localhost needs no proof of identity). The scheme the settings say is
    tried first, then the other: a container's health check sees the image's environment, not
    the flags the sandbox was started with, and still finds it up.
    """
    import ssl
    import urllib.request

    from sandbox.http.tls import CA_FILE

    host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(settings.host, settings.host)
    shown = f"[{host}]" if ":" in host else host
    ca = settings.tls_folder / CA_FILE
    if settings.tls_cert is None and ca.is_file():
        verified = ssl.create_default_context(cafile=ca)
    else:
        verified = ssl.create_default_context()
        verified.check_hostname, verified.verify_mode = False, ssl.CERT_NONE
    schemes = ("https", "http") if settings.serves_tls else ("http", "https")
    reasons = []
    for scheme in schemes:
        url = f"{scheme}://{shown}:{settings.port}/__sandbox/health"
        context = verified if scheme == "https" else None
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as response:
                if response.status == 200:
                    return 0
                reasons.append(f"{url}: status {response.status}")
        except (OSError, ValueError) as error:
            reasons.append(f"{url}: {getattr(error, 'reason', error)}")
    sys.stderr.write("oneall-sandbox: not healthy: " + "; ".join(reasons) + "\n")
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    namespace = parser.parse_args(argv)
    if namespace.list:
        sys.stdout.write(resource_table())
        return 0
    if namespace.list_faults:
        sys.stdout.write(fault_table())
        return 0
    try:
        settings = settings_from(namespace, os.environ)
    except SettingsError as error:
        parser.exit(2, f"oneall-sandbox: error: {error}\n")
    if namespace.check_health:
        return check_health(settings)
    if namespace.openapi:
        from sandbox.openapi.document import document_json

        sys.stdout.write(document_json(settings))
        return 0
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)-7s %(message)s",
        datefmt="%H:%M:%S",
    )
    from sandbox.http.server import serve, tune_allocator

    tune_allocator()
    try:
        asyncio.run(serve(settings, stop_signals=(signal.SIGINT, signal.SIGTERM)))
    except SettingsError as error:
        sys.stderr.write(f"oneall-sandbox: error: {error}\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
