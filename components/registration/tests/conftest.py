"""A real ZenML server (this venv's version, SQLite store) on 127.0.0.1 for the registration tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "rehearsal"))
from local_zenml_server import local_zenml_server  # noqa: E402
SCRIPT = HERE.parent / "register_stack.py"


#: The server process, so a test can read what it runs with.
SERVER_PROCESS: Dict[str, subprocess.Popen] = {}


def restricted(cmd: List[str]) -> List[str]:
    """`cmd` the way the pods run it: no privilege escalation (no_new_privs), no capabilities.

    The cluster also applies the RuntimeDefault seccomp profile and uid 1000, which this cannot
    reproduce portably (a root CI box's Python may live where uid 1000 cannot read it).
    """
    if shutil.which("setpriv") is None:
        pytest.fail("setpriv (util-linux) is missing: it runs the server the way the pods' restricted context does")
    prefix = ["setpriv", "--no-new-privs", "--inh-caps=-all"]
    if os.geteuid() == 0:
        # Empty bounding set: even root execs with no capabilities. Dropping it needs CAP_SETPCAP,
        # and a non-root runner has no capabilities to drop in the first place.
        prefix += ["--bounding-set=-all"]
    return [*prefix, *cmd]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, str]]:
    root = tmp_path_factory.mktemp("zenml-server")
    port = int(os.environ.get("REGISTRATION_SERVER_PORT") or 0) or None
    # What the Helm values set: connectors assume their IAM role with the server's credentials.
    extra = {"ZENML_ENABLE_IMPLICIT_AUTH_METHODS": "true"}
    with local_zenml_server(root, port, extra, wrap=restricted) as srv:
        SERVER_PROCESS["server"] = srv.process
        yield {**srv.client_env(), "ZENML_CONFIG_PATH": str(root / "client-config")}


@pytest.fixture(scope="session")
def client(server: Dict[str, str]) -> Any:
    """The ZenML client of this test process, logged in like the registration job."""
    os.environ.update(server)
    from zenml.client import Client

    return Client()


def client_python() -> str:
    """The interpreter the registration runs with: a venv like the official client image.

    `zenmldocker/zenml:<version>` is `pip install zenml==<version>` and nothing else (no boto3,
    s3fs or kubernetes); run-tests.sh builds that venv and names it in REGISTRATION_CLIENT_PYTHON.
    Without it the proof would be weaker, so this fails instead of falling back.
    """
    python = os.environ.get("REGISTRATION_CLIENT_PYTHON")
    if not python or not Path(python).exists():
        pytest.fail("REGISTRATION_CLIENT_PYTHON is not set to the client-image venv's python: run components/registration/run-tests.sh")
    return python


def script_env(server: Dict[str, str], **extra_env: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENML_")}
    env.update(server)
    env.pop("ZENML_CONFIG_PATH", None)  # the script makes its own, as in the job
    env.update(extra_env)
    return env


def run_script(server: Dict[str, str], tmp_path: Path, args: List[str], **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run(restricted([client_python(), *args]), env=script_env(server, **extra_env), capture_output=True, text=True, timeout=300, cwd=tmp_path)


def registration_args(spec: Dict[str, Any], tmp_path: Path) -> List[str]:
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec))
    return [str(SCRIPT), "--spec", str(spec_file)]


def run_registration(server: Dict[str, str], spec: Dict[str, Any], tmp_path: Path, **extra_env: str) -> subprocess.CompletedProcess:
    return run_script(server, tmp_path, registration_args(spec, tmp_path), **extra_env)


#: Nothing listens there: ZenML's client retries a refused connection for about 30 s before failing.
DOWN_SERVER = {"ZENML_STORE_URL": "http://127.0.0.1:9", "ZENML_STORE_USERNAME": "admin", "ZENML_STORE_PASSWORD": "s3cret-not-printed"}


class EarlyRun:
    """A script run started at session start, whose result a test reads when it gets there."""

    def __init__(self, args: List[str], cwd: Path) -> None:
        self.args = args
        self._process = subprocess.Popen(restricted([client_python(), *args]), env=script_env(DOWN_SERVER), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)

    def result(self) -> subprocess.CompletedProcess:
        stdout, stderr = self._process.communicate(timeout=300)
        return subprocess.CompletedProcess(self.args, self._process.returncode, stdout, stderr)

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.communicate()


@pytest.fixture(scope="session", autouse=True)
def against_a_down_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, EarlyRun]]:
    """The runs against a server that is down only wait out the client's retries (a minute of a
    four-minute suite), so they start before the first test and wait while the others run."""
    spec = json.loads((HERE.parent / "example-spec.json").read_text())
    register_dir, check_dir = tmp_path_factory.mktemp("down-register"), tmp_path_factory.mktemp("down-check")
    runs = {
        "register": EarlyRun(registration_args(spec, register_dir), register_dir),
        "check": EarlyRun([str(HERE.parent / "check_stack.py"), spec["stack"]["name"]], check_dir),
    }
    yield runs
    for run in runs.values():
        run.stop()


def summary_of(result: subprocess.CompletedProcess) -> Dict[str, Any]:
    assert result.returncode == 0, f"registration failed: {result.stderr[-2000:]}"
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, f"stdout must be exactly the summary line, got: {result.stdout!r}"
    return json.loads(lines[0])
