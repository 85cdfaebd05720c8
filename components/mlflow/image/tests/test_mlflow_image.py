"""The MLflow image, without Docker: each locked set installs into a fresh venv, holds exactly its
MLflow with the drivers, imports what the Jobs' scripts import, and `mlflow server` (serve.sh) starts
far enough to print its options."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

IMAGE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(IMAGE.parents[1] / "kit"))
from locked_image import assert_imports, imported_modules, install_fresh, locks, record, run_in  # noqa: E402

PAYLOADS = [IMAGE / "bootstrap_db.py", IMAGE / "migrate.py"]


@pytest.mark.parametrize("lock", locks(IMAGE), ids=lambda p: p.stem)
def test_locked_set_runs_the_server_and_jobs(lock: Path, tmp_path: Path) -> None:
    version = re.fullmatch(r"mlflow-(\d+\.\d+\.\d+)", lock.stem).group(1)
    venv = tmp_path / "venv"
    facts = install_fresh(lock, venv)

    got = run_in(venv, "-c", "import mlflow, pymysql, boto3; print(mlflow.__version__)")
    assert got.stdout.strip() == version, got.stderr[-1000:]
    assert_imports(venv, imported_modules(*PAYLOADS) + ["mlflow.server.auth"])

    helped = run_in(venv, "-m", "mlflow", "server", "--help")
    assert helped.returncode == 0 and "--backend-store-uri" in helped.stdout and "--app-name" in helped.stdout, helped.stderr[-1000:]
    record(lock.name, facts)
