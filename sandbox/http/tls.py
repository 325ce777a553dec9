"""HTTPS for clients that build ``https://`` URLs: a certificate for the local names, signed by
a CA the sandbox makes once and keeps, so a client told to trust it once trusts every run.

The CA lives in the state folder (``--tls-dir``) as ``ca.pem`` (give it to clients) and
``ca-key.pem`` (never leaves the folder); a folder that already holds both, a CA of one's own
included, is used as it is. The server's certificate is issued afresh at each start, for
``localhost``, ``127.0.0.1``, ``::1``, the address listened on and ``--tls-names``.
``--tls-cert``/``--tls-key`` serve a certificate of one's own instead, with no CA of ours.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sandbox.api.errors import SettingsError
from sandbox.config import Settings

if TYPE_CHECKING:  # imported where a CA is needed: cryptography stays off plain HTTP's start
    import trustme

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
CA_ORGANIZATION = "oneall-push-sandbox"


@dataclass(frozen=True, slots=True)
class Tls:
    """What the server needs to serve HTTPS, and what clients need to trust it."""

    context: ssl.SSLContext
    ca_path: Path | None  # None: a certificate of one's own, whose CA we do not know
    names: tuple[str, ...]


def server_names(settings: Settings) -> tuple[str, ...]:
    """The names the certificate is for: the local ones, the address listened on (unless it is
    every interface) and ``--tls-names``, each once."""
    names = [*LOCAL_NAMES]
    if settings.host not in ("0.0.0.0", "::", ""):
        names.append(settings.host)
    names += settings.tls_names
    return tuple(dict.fromkeys(names))


def prepare(settings: Settings) -> Tls:
    """The server's TLS context; SettingsError says which file or folder is unusable."""
    if settings.tls_cert is not None and settings.tls_key is not None:
        context = _context()
        try:
            context.load_cert_chain(settings.tls_cert, settings.tls_key)
        except (OSError, ssl.SSLError) as error:
            raise SettingsError(
                f"cannot use the certificate {settings.tls_cert} with the key "
                f"{settings.tls_key}: {getattr(error, 'strerror', None) or error}"
            ) from None
        return Tls(context, None, ())
    ca, ca_path = load_or_create_ca(settings.tls_folder)
    names = server_names(settings)
    try:
        leaf = ca.issue_cert(*names, organization_name=CA_ORGANIZATION)
    except ValueError as error:  # a name that is neither a host name nor an address
        raise SettingsError(
            f"cannot make a certificate for {', '.join(names)} (--tls-names): {error}"
        ) from None
    context = _context()
    leaf.configure_cert(context)
    if settings.tls_ca_out is not None:
        _write_ca_copy(ca_path, settings.tls_ca_out)
    return Tls(context, ca_path, names)


def _context() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def load_or_create_ca(folder: Path) -> tuple[trustme.CA, Path]:
    """The CA of ``folder``, made there the first time. Two sandboxes starting at once (test
    workers) agree on one: the first makes it under a lock, the other reads it."""
    import trustme

    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise SettingsError(
            f"cannot create the TLS folder {folder}: {error.strerror or error} "
            "(choose another with --tls-dir or SANDBOX_TLS_DIR)"
        ) from None
    cert_path, key_path = folder / CA_FILE, folder / CA_KEY_FILE
    if not (cert_path.exists() and key_path.exists()):  # (a CA mounted read-only: no lock)
        try:
            with _locked(folder):
                if not cert_path.exists() and not key_path.exists():
                    ca = trustme.CA(organization_name=CA_ORGANIZATION)
                    _write_private(key_path, ca.private_key_pem.bytes())
                    _write_atomic(cert_path, ca.cert_pem.bytes(), mode=0o644)
                    return ca, cert_path
        except OSError as error:
            raise SettingsError(
                f"cannot keep a CA in the TLS folder {folder}: {error.strerror or error} "
                "(choose another with --tls-dir or SANDBOX_TLS_DIR)"
            ) from None
    try:
        cert, key = cert_path.read_bytes(), key_path.read_bytes()
    except OSError as error:
        raise SettingsError(
            f"the TLS folder {folder} must hold both {CA_FILE} and {CA_KEY_FILE} (a CA of your "
            f"own, or none to have one made): {error.strerror or error} ({error.filename})"
        ) from None
    try:
        return trustme.CA.from_pem(cert, key), cert_path
    except ValueError as error:
        raise SettingsError(
            f"{cert_path} and {key_path} are not a CA certificate and its private key in PEM: "
            f"{error}"
        ) from None


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # Windows: no second sandbox is expected to race the first
        yield
        return
    with open(folder / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_private(path: Path, data: bytes) -> None:
    _write_atomic(path, data, mode=0o600)


def _write_atomic(path: Path, data: bytes, *, mode: int) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.chmod(temporary, mode)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _write_ca_copy(ca_path: Path, target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(ca_path.read_bytes())
    except OSError as error:
        raise SettingsError(
            f"cannot write the CA certificate to {target} (--tls-ca-out): {error.strerror or error}"
        ) from None
