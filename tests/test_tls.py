"""HTTPS: clients that verify the chain reach the sandbox with its CA, by every name the
certificate is for; the CA is made once and kept; a certificate of one's own is served as is."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import trustme

from sandbox.api.errors import SettingsError
from sandbox.config import Settings, default_tls_dir, load_settings
from sandbox.testing.handle import SandboxHandle, run


@pytest.fixture
def tls_dir(tmp_path: Path) -> Path:
    return tmp_path / "tls"


@pytest.fixture
def served(tls_dir: Path) -> Iterator[SandboxHandle]:
    with run(tls=True, tls_dir=tls_dir, tls_names=("*.api.localhost",)) as handle:
        yield handle


def health(handle: SandboxHandle, **options: object) -> requests.Response:
    return requests.get(f"{handle.url}/__sandbox/health", timeout=5, **options)  # type: ignore[arg-type]


def port_of(handle: SandboxHandle) -> int:
    return int(handle.url.rsplit(":", 1)[1])


def handshake(port: int, server_name: str, ca: Path | str) -> None:
    """A TLS handshake with 127.0.0.1 that checks the certificate for ``server_name``."""
    context = ssl.create_default_context(cafile=str(ca))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=server_name),
    ):
        pass


def test_https_only_verified_with_the_ca_and_refused_without(served: SandboxHandle) -> None:
    assert served.url.startswith("https://127.0.0.1:")
    assert served.ca_path is not None
    assert health(served, verify=str(served.ca_path)).json()["status"] == "ok"
    with pytest.raises(requests.exceptions.SSLError):
        health(served)  # the system's CAs do not know ours
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(served.url.replace("https", "http") + "/__sandbox/health", timeout=5)


@pytest.mark.parametrize(
    "name", ["localhost", "127.0.0.1", "::1", "demo.api.localhost", "any.api.localhost"]
)
def test_the_certificate_is_for_the_local_names_and_tls_names(
    served: SandboxHandle, name: str
) -> None:
    assert served.ca_path is not None
    handshake(port_of(served), name, served.ca_path)


@pytest.mark.parametrize("name", ["example.com", "api.localhost", "a.b.api.localhost"])
def test_no_other_name(served: SandboxHandle, name: str) -> None:
    assert served.ca_path is not None
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(port_of(served), name, served.ca_path)


def test_a_push_over_https(served: SandboxHandle) -> None:
    token = served.identity("twitter")
    body = {"request": {"push": {"post": {"message": "over TLS"}}}}
    response = requests.post(
        served.push_url("twitter/post.json", token),
        json=body,
        auth=served.auth,
        verify=str(served.ca_path),
        timeout=5,
    )
    assert response.status_code == 200
    served.assert_pushed("twitter.post", body={"message": "over TLS"})


def test_the_ca_is_made_once_and_trusted_across_restarts(tls_dir: Path) -> None:
    with run(tls=True, tls_dir=tls_dir) as first:
        assert first.ca_path == tls_dir / "ca.pem"
        kept = tls_dir / "kept-by-a-client.pem"
        shutil.copy(first.ca_path, kept)
    assert oct((tls_dir / "ca-key.pem").stat().st_mode & 0o777) == "0o600"
    with run(tls=True, tls_dir=tls_dir) as second:
        assert health(second, verify=str(kept)).status_code == 200
    assert (tls_dir / "ca.pem").read_bytes() == kept.read_bytes()


def test_two_sandboxes_starting_together_share_one_ca(tmp_path: Path) -> None:
    script = (
        "import sys, requests; from sandbox.testing.handle import run\n"
        "with run(tls=True, tls_dir=sys.argv[1]) as h:\n"
        "    requests.get(h.url + '/__sandbox/health', verify=str(h.ca_path), timeout=5)\n"
    )
    starts = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "tls")]) for _ in range(3)
    ]
    assert [process.wait(timeout=60) for process in starts] == [0, 0, 0]


def test_ca_out_and_the_control_plane_give_the_ca(tls_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "sandbox-ca.pem"
    with run(tls=True, tls_dir=tls_dir, tls_ca_out=out) as handle:
        assert out.read_bytes() == (tls_dir / "ca.pem").read_bytes()
        served = health(handle, verify=str(out))
        assert served.status_code == 200
        response = requests.get(f"{handle.url}/__sandbox/ca.pem", verify=str(out), timeout=5)
        assert response.headers["Content-Type"] == "application/x-pem-file"
        assert response.content == out.read_bytes()


def test_plain_http_has_no_ca() -> None:
    with run() as handle:
        assert handle.ca_path is None
        response = requests.get(f"{handle.url}/__sandbox/ca.pem", timeout=5)
        assert response.status_code == 404
        assert "plain HTTP" in response.json()["response"]["request"]["status"]["info"]


def test_a_certificate_of_ones_own(tmp_path: Path) -> None:
    their_ca = trustme.CA()
    cert = their_ca.issue_cert("localhost", "127.0.0.1")
    cert_path, key_path, ca_path = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.private_key_pem.write_to_path(str(key_path))
    cert.cert_chain_pems[0].write_to_path(str(cert_path))
    their_ca.cert_pem.write_to_path(str(ca_path))
    with run(tls_cert=cert_path, tls_key=key_path, tls_dir=tmp_path / "unused") as handle:
        assert handle.url.startswith("https://") and handle.ca_path is None
        assert health(handle, verify=str(ca_path)).status_code == 200
        assert (
            requests.get(f"{handle.url}/__sandbox/ca.pem", verify=str(ca_path)).status_code == 404
        )
    assert not (tmp_path / "unused").exists()


def test_a_ca_of_ones_own_in_the_folder_signs_the_certificate(tls_dir: Path) -> None:
    mine = trustme.CA()
    tls_dir.mkdir()
    mine.cert_pem.write_to_path(str(tls_dir / "ca.pem"))
    mine.private_key_pem.write_to_path(str(tls_dir / "ca-key.pem"))
    tls_dir.chmod(0o500)  # read-only: nothing is written there
    try:
        with run(tls=True, tls_dir=tls_dir) as handle:
            assert health(handle, verify=str(tls_dir / "ca.pem")).status_code == 200
    finally:
        tls_dir.chmod(0o700)


def test_settings_refuse_half_a_pair_and_a_useless_ca_out(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="--tls-cert and --tls-key go together"):
        Settings(tls_cert=tmp_path / "cert.pem")
    with pytest.raises(SettingsError, match="--tls-ca-out writes the sandbox's own CA"):
        Settings(tls_cert=tmp_path / "c", tls_key=tmp_path / "k", tls_ca_out=tmp_path / "o")
    with (
        pytest.raises(SettingsError, match=r"cannot make a certificate for .*bad name"),
        run(tls=True, tls_dir=tmp_path / "tls", tls_names=("bad name!",)),
    ):
        pass


def test_flags_variables_and_the_default_folder(tmp_path: Path) -> None:
    settings = load_settings(
        ["--tls", "--tls-names", "*.api.localhost", "--tls-names", "sandbox.test"], {}
    )
    assert settings.serves_tls and settings.tls_names == ("*.api.localhost", "sandbox.test")
    by_env = load_settings(
        [], {"SANDBOX_TLS": "1", "SANDBOX_TLS_NAMES": "a.test,b.test", "SANDBOX_TLS_DIR": "/x"}
    )
    assert by_env.tls and by_env.tls_names == ("a.test", "b.test")
    assert by_env.tls_folder == Path("/x")
    assert default_tls_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "oneall-sandbox/tls"
    assert default_tls_dir({}) == Path("~/.cache/oneall-sandbox/tls").expanduser()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_with_cacert(served: SandboxHandle) -> None:
    done = subprocess.run(
        ["curl", "-fsS", "--cacert", str(served.ca_path), f"{served.url}/__sandbox/health"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    refused = subprocess.run(
        ["curl", "-fsS", f"{served.url}/__sandbox/health"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert refused.returncode == 60  # the peer's certificate cannot be verified


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("tls", [True, False], ids=["https", "http"])
def test_check_health_finds_the_server_whatever_its_scheme(tmp_path: Path, tls: bool) -> None:
    """As a container's health check: the image's variables, not the flags the server got."""
    port = free_port()
    env = {**os.environ, "SANDBOX_PORT": str(port), "SANDBOX_TLS_DIR": str(tmp_path / "tls")}
    command = [sys.executable, "-m", "sandbox"]
    check = [*command, "--check-health"]
    down = subprocess.run(check, env=env, capture_output=True, text=True, timeout=30, check=False)
    assert down.returncode == 1 and "not healthy" in down.stderr
    with subprocess.Popen(
        [*command, "-q", *(["--tls"] if tls else [])],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as server:
        try:
            assert server.stdout is not None
            assert "listening" in server.stdout.readline().decode()
            up = subprocess.run(check, env=env, capture_output=True, timeout=30, check=False)
            assert up.returncode == 0, up.stderr
        finally:
            server.terminate()
            server.wait(timeout=20)


FIXTURES_OVER_TLS = """
import ssl

import aiohttp
import pytest
import requests


@pytest.mark.sandbox(tls=True)
async def test_async_fixture(sandbox):
    assert sandbox.url.startswith("https://")
    context = ssl.create_default_context(cafile=sandbox.ca_path)
    async with aiohttp.ClientSession() as session:
        async with session.get(sandbox.url + "/__sandbox/health", ssl=context) as response:
            assert response.status == 200


@pytest.mark.sandbox(tls=True, tls_names="*.api.localhost")
def test_threaded_fixture(sandbox_server):
    assert sandbox_server.url.startswith("https://")
    response = requests.get(
        sandbox_server.url + "/__sandbox/health", verify=str(sandbox_server.ca_path), timeout=5
    )
    assert response.status_code == 200


def test_plain_by_default(sandbox_server):
    assert sandbox_server.url.startswith("http://") and sandbox_server.ca_path is None
"""


@pytest.mark.slow
def test_the_fixtures_serve_https_with_the_marker(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the default folder
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(FIXTURES_OVER_TLS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=3)
    assert (tmp_path / "cache" / "oneall-sandbox" / "tls" / "ca.pem").is_file()


@pytest.mark.slow
def test_an_overridden_settings_fixture_serves_https(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    pytester.makeconftest(
        f"""
import pytest
from sandbox.config import Settings

@pytest.fixture(scope="session")
def sandbox_settings():
    return Settings(port=0, tls=True, tls_dir={str(tmp_path / "tls")!r})
"""
    )
    pytester.makepyfile(
        """
import requests

def test_https(sandbox_server):
    url = sandbox_server.url + "/__sandbox/health"
    assert requests.get(url, verify=str(sandbox_server.ca_path), timeout=5).status_code == 200
"""
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
