"""The package installs the ways the documentation says, and works away from the checkout.

Two of the documented paths are tried here: a wheel built from the checkout (what PyPI will
serve) and `pip install git+file://` of a clone (what `git+https://` does); the image is built
by scripts/container-smoke.sh. Each goes into a fresh virtual environment in a temporary folder
and is run from there. To keep this to seconds, the package is installed without its
dependencies, which the new environment reads from this one's site-packages (a `.pth` line,
placed after its own): what is tested is the package itself — its files, its data, its command.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
PIP = (sys.executable, "-m", "pip")

# From the fresh environment: a sandbox from the installed package answers a push, which needs
# the schemas and identities packaged with it.
PUSH = """
import json, urllib.request
import sandbox

with sandbox.run(seed=1, log_level="warning") as handle:
    token = "16b2eacb-c86e-4fdb-b482-2836b59ee40e"  # the built-in Twitter identity
    body = json.dumps({"request": {"push": {"post": {"message": "Hello"}}}}).encode()
    request = urllib.request.Request(
        handle.push_url("twitter/post.json", token), data=body, headers=handle.headers
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.load(response)["response"]
print(sandbox.__file__)
print(answer["request"]["status"]["code"], answer["result"]["data"]["object"])
"""


def run(*command: str | Path, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SANDBOX_", "PYTHON"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    finished = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, f"{command}:\n{finished.stdout}\n{finished.stderr}"
    return finished.stdout


def fresh_environment(folder: Path) -> Path:
    """A new virtual environment whose only package of its own is to come; its python."""
    run(sys.executable, "-m", "venv", "--without-pip", folder / "venv", cwd=folder)
    python = folder / "venv" / "bin" / "python"
    purelib = run(
        python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=folder
    )
    dependencies = sysconfig.get_paths()["purelib"]
    Path(purelib.strip(), "dependencies-from-the-test-environment.pth").write_text(
        dependencies + "\n", encoding="utf-8"
    )
    return python


def install(python: Path, requirement: str | Path, folder: Path) -> None:
    # --ignore-installed: the test environment, seen through the .pth, may hold the package too
    run(
        *PIP,
        "--python",
        python,
        "install",
        "-q",
        "--no-deps",
        "--ignore-installed",
        requirement,
        cwd=folder,
    )


def check_installed(python: Path, folder: Path) -> None:
    """The command and the package work from a folder that is not the checkout."""
    listing = run(python.parent / "oneall-sandbox", "--list", cwd=folder)
    heading, *rows = listing.splitlines()
    assert heading.split() == ["FAMILY", "RESOURCE", "METHOD", "PATH", "SCHEMA", "NOTE"]
    assert len(rows) == 48, listing  # 21 push paths and the 27 calls around them
    families = [row.split()[0] for row in rows]
    assert families.count("push") == 21
    assert families.count("pull") == 9
    # the notes read the body schemas of the families, which must ship in their folders
    assert any(row.split()[4:] == ["identities/link.json", "node", "user"] for row in rows)

    where, answer = run(python, "-c", PUSH, cwd=folder).splitlines()
    assert Path(where).is_relative_to(python.parent.parent), f"sandbox imported from {where}"
    assert answer == "200 post"


def test_a_wheel_installs_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    run(*PIP, "wheel", "-q", "--no-deps", "-w", tmp_path / "dist", ROOT, cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("oneall_push_sandbox-*.whl")
    python = fresh_environment(tmp_path)
    install(python, wheel, tmp_path)
    check_installed(python, tmp_path)


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs git and a checkout"
)
def test_pip_install_from_a_git_clone(tmp_path: Path) -> None:
    """`pip install git+https://…` builds from the repository's committed files: a file the
    package needs but git does not track fails here."""
    run("git", "clone", "-q", ROOT, tmp_path / "clone", cwd=tmp_path)
    python = fresh_environment(tmp_path)
    install(python, f"git+file://{tmp_path / 'clone'}", tmp_path)
    check_installed(python, tmp_path)
