"""A real ZenML server (this venv's version, SQLite store) on 127.0.0.1 for the registration tests."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

HERE = Path(__file__).resolve().parent
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, str]]:
    root = tmp_path_factory.mktemp("zenml-server")
    port = int(os.environ.get("REGISTRATION_SERVER_PORT") or free_port())
    password = secrets.token_urlsafe(24)
    env = {
        **os.environ,
        "ZENML_CONFIG_PATH": str(root / "server-config"),
        "ZENML_STORE_URL": f"sqlite:///{root / 'zenml.db'}",
        "ZENML_SERVER_AUTO_ACTIVATE": "1",
        "ZENML_DEFAULT_USER_NAME": "admin",
        "ZENML_DEFAULT_USER_PASSWORD": password,
        "ZENML_SERVER_JWT_SECRET_KEY": secrets.token_hex(32),
        # What the Helm values set: connectors assume their IAM role with the server's credentials.
        "ZENML_ENABLE_IMPLICIT_AUTH_METHODS": "true",
        "ZENML_ANALYTICS_OPT_IN": "false",
    }
    log = open(root / "server.log", "w")
    proc = subprocess.Popen(
        restricted([sys.executable, "-m", "uvicorn", "zenml.zen_server.zen_server_api:app", "--host", "127.0.0.1", "--port", str(port)]),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    SERVER_PROCESS["server"] = proc
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"ZenML server did not start; log: {(root / 'server.log').read_text()[-2000:]}")
        time.sleep(0.5)
    client_env = {
        "ZENML_STORE_URL": url,
        "ZENML_STORE_USERNAME": "admin",
        "ZENML_STORE_PASSWORD": password,
        "ZENML_CONFIG_PATH": str(root / "client-config"),
        "ZENML_ANALYTICS_OPT_IN": "false",
    }
    try:
        yield client_env
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


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
        pytest.fail("REGISTRATION_CLIENT_PYTHON is not set to the client-image venv's python: run registration/run-tests.sh")
    return python


def run_script(server: Dict[str, str], tmp_path: Path, args: List[str], **extra_env: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENML_")}
    env.update(server)
    env.pop("ZENML_CONFIG_PATH", None)  # the script makes its own, as in the job
    env.update(extra_env)
    return subprocess.run(restricted([client_python(), *args]), env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)


def run_registration(server: Dict[str, str], spec: Dict[str, Any], tmp_path: Path, **extra_env: str) -> subprocess.CompletedProcess:
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec))
    return run_script(server, tmp_path, [str(SCRIPT), "--spec", str(spec_file)], **extra_env)


def summary_of(result: subprocess.CompletedProcess) -> Dict[str, Any]:
    assert result.returncode == 0, f"registration failed: {result.stderr[-2000:]}"
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, f"stdout must be exactly the summary line, got: {result.stdout!r}"
    return json.loads(lines[0])
