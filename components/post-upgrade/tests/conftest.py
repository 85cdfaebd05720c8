"""A real ZenML server (the new version, SQLite store) on 127.0.0.1, an old client to seed it.

run-tests.sh names the interpreters: this process runs the NEW version (server and
post_upgrade.py, like the Job's image); POST_UPGRADE_OLD_PYTHON is a venv of the version before
the upgrade (prod's pin), which seeds what users left behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SCRIPT = HERE.parent / "post_upgrade.py"
SEED = HERE.parent / "seed_items.py"
sys.path.insert(0, str(ROOT / "rehearsal"))
from local_zenml_server import local_zenml_server  # noqa: E402


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, str]]:
    root = tmp_path_factory.mktemp("zenml-server")
    port = int(os.environ.get("POST_UPGRADE_SERVER_PORT") or 0) or None
    with local_zenml_server(root, port) as srv:
        yield {
            **srv.client_env(),
            "ZENML_LOCAL_STORES_PATH": str(root / "artifacts"),
            "ZENML_DISABLE_CLIENT_SERVER_MISMATCH_WARNING": "True",
        }


def old_python() -> str:
    python = os.environ.get("POST_UPGRADE_OLD_PYTHON")
    if not python or not Path(python).exists():
        pytest.fail("POST_UPGRADE_OLD_PYTHON is not set to a venv of the previous ZenML version: run components/post-upgrade/run-tests.sh")
    return python


def run(python: str, server: Dict[str, str], cwd: Path, args: List[str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENML_")}
    env.update(server)
    env["ZENML_CONFIG_PATH"] = str(cwd / f"client-{Path(python).parent.parent.name}")
    return subprocess.run([python, *args], env=env, capture_output=True, text=True, timeout=600, cwd=cwd)


@pytest.fixture(scope="session")
def remote_stack(server: Dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> str:
    """staging's registered stack (remote components): ZenML accepts run templates only for those."""
    cwd = tmp_path_factory.mktemp("register")
    result = run(old_python(), server, cwd, [str(ROOT / "components" / "registration" / "register_stack.py"), "--spec", str(ROOT / "components" / "registration" / "example-spec.json")])
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads((ROOT / "components" / "registration" / "example-spec.json").read_text())["stack"]["name"]


def smoke_entry(**overrides: Any) -> Dict[str, Any]:
    entry = {
        "name": "smoke-check",
        "source": {"path": "smoke"},
        "pipeline": "smoke_pipelines:smoke_check_pipeline",
        "config": "configs/smoke_check.yaml",
        "snapshot": "smoke-check",
        "runTemplate": "smoke-check-template",
        "schedule": {"name": "smoke-check-nightly", "cron": "0 3 * * *"},
        "smoke": {"config": "configs/smoke_check.smoke.yaml"},
    }
    entry.update(overrides)
    return entry


def smoke_sources() -> Dict[str, str]:
    return {str(p.relative_to(ROOT)): p.read_text() for p in sorted((ROOT / "smoke").rglob("*")) if p.is_file() and p.suffix in (".py", ".yaml") and "__pycache__" not in p.parts}


def run_post_upgrade(server: Dict[str, str], tmp_path: Path, pipelines: List[Dict[str, Any]], ignored: List[Dict[str, Any]] = (), python: str = sys.executable, build_stack: str = "") -> tuple:
    (tmp_path / "catalogue.json").write_text(json.dumps({"environment": "test", "pipelines": pipelines, "ignored": list(ignored)}))
    (tmp_path / "sources.json").write_text(json.dumps(smoke_sources()))
    args = [str(SCRIPT), "--catalogue", str(tmp_path / "catalogue.json"), "--sources", str(tmp_path / "sources.json"), "--stack", "default", "--workdir", str(tmp_path), "--report", str(tmp_path / "report.json")]
    if build_stack:
        args += ["--register-builds", build_stack]
    result = run(python, server, tmp_path, args)
    line = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert line.startswith("POST_UPGRADE_REPORT "), f"no report line; stderr: {result.stderr[-3000:]}"
    report = json.loads(line[len("POST_UPGRADE_REPORT "):])
    assert report == json.loads((tmp_path / "report.json").read_text())
    return result, report


@pytest.fixture()
def clean_server(server: Dict[str, str]) -> Iterator[Dict[str, str]]:
    """Each test starts with no named snapshots, templates or schedules."""
    yield server
    code = (
        "from zenml.client import Client\n"
        "c = Client()\n"
        "for t in c.list_run_templates(size=1000).items: c.delete_run_template(t.id)\n"
        "for s in c.list_schedules(size=1000).items: c.delete_schedule(s.id, soft=False)\n"
        "for s in c.list_snapshots(size=1000, named_only=True).items: c.delete_snapshot(s.id)\n"
    )
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ZENML_")}, **server, "ZENML_CONFIG_PATH": str(Path(os.environ.get("TMPDIR", "/tmp")) / "post-upgrade-cleanup")}
    script = Path(env["ZENML_CONFIG_PATH"] + ".py")
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(code)  # ZenML resolves its source root from the main module's file
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
