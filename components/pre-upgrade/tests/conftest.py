"""A real ZenML server (this interpreter's version, SQLite store) for the pre-upgrade scripts.

run-tests.sh runs this suite with prod's pin: the version an upgrade starts from, whose client the
inventory, drain and restore-test Jobs run. The SQLite file is the server's database, so the
restore-test's check reads the very rows the API counted.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, Iterator, List

import pytest

HERE = Path(__file__).resolve().parent
PAYLOAD = HERE.parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "rehearsal"))
sys.path.insert(0, str(PAYLOAD))
from local_zenml_server import local_zenml_server  # noqa: E402


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, str]]:
    root = tmp_path_factory.mktemp("zenml-server")
    with local_zenml_server(root) as srv:
        yield {**srv.client_env(), "ZENML_LOCAL_STORES_PATH": str(root / "artifacts"), "ZENML_DISABLE_CLIENT_SERVER_MISMATCH_WARNING": "True", "_DB": str(root / "zenml.db")}


def client_env(server: Dict[str, str], cwd: Path) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENML_")}
    env.update({k: v for k, v in server.items() if not k.startswith("_")})
    env["ZENML_CONFIG_PATH"] = str(cwd / "client-config")
    return env


def run(server: Dict[str, str], cwd: Path, args: List[str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env=client_env(server, cwd), capture_output=True, text=True, timeout=timeout, cwd=cwd)


def start(server: Dict[str, str], cwd: Path, args: List[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], env=client_env(server, cwd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)


def last_json(result: subprocess.CompletedProcess, prefix: str) -> dict:
    lines = [l for l in result.stdout.splitlines() if l.startswith(prefix + " ")]
    assert lines, f"no {prefix} line; stderr: {result.stderr[-3000:]}"
    return json.loads(lines[-1][len(prefix) + 1:])


@pytest.fixture(scope="session")
def seeded(server: Dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Dict[str, str]:
    """What prod holds besides runs: staging's registered stack (connector, components), a secret, users."""
    cwd = tmp_path_factory.mktemp("seed")
    done = run(server, cwd, [str(ROOT / "components" / "registration" / "register_stack.py"), "--spec", str(ROOT / "components" / "registration" / "example-spec.json")])
    assert done.returncode == 0, done.stderr[-2000:]
    done = run(server, cwd, [str(ROOT / "rehearsal" / "seed_server.py"), "seed", str(cwd / "seed-server.json")])
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads((cwd / "seed-server.json").read_text())


@pytest.fixture()
def database(server: Dict[str, str]) -> Callable[[str], List[tuple]]:
    """Reads the server's own database (the SQLite file), as the restore-test reads the restored copy."""
    def query(sql: str) -> List[tuple]:
        with sqlite3.connect(server["_DB"]) as conn:
            return conn.execute(sql).fetchall()

    return query
