"""The MLflow rehearsal's memory check, on real processes: what it measures and what it refuses."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import driver  # noqa: E402
import mlflow_server  # noqa: E402
import steps_mlflow  # noqa: E402

# A stand-in server: a session leader that holds 64 MiB and starts a child (a worker), both idle.
HOLDER = (
    "import subprocess, sys, time; block = bytearray(64 * 2**20); block[::4096] = b'x' * len(block[::4096]);"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); print('ready', flush=True); time.sleep(60)"
)


@pytest.fixture()
def server_group():
    proc = subprocess.Popen([sys.executable, "-c", HOLDER], stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout.readline().strip() == "ready"
    yield proc
    subprocess.run(["kill", "--", f"-{proc.pid}"], check=False)
    proc.wait()


def context(proc: subprocess.Popen, monkeypatch) -> driver.Context:
    monkeypatch.setenv("MLFLOW_FROM", "2.22.5")
    monkeypatch.setenv("MLFLOW_TO", "3.17.2")
    ctx = driver.Context(steps_mlflow.PART)
    ctx.state["server"] = proc
    return ctx


@pytest.mark.parametrize("quantity, mib", [("1Gi", 1024), ("512Mi", 512), ("1048576Ki", 1024), ("1G", 10**9 / 2**20), ("268435456", 256)])
def test_reads_kubernetes_memory_quantities(quantity, mib):
    assert mlflow_server.quantity_mib(quantity) == pytest.approx(mib)


def test_counts_every_process_of_the_server_group(server_group):
    pss, count = mlflow_server.group_pss_mib(server_group.pid)
    assert count == 2
    assert 64 <= pss < 400


def test_passes_within_the_limit_and_records_the_figure(server_group, monkeypatch):
    ctx = context(server_group, monkeypatch)
    mlflow_server.check_memory(ctx, "from", "before-upgrade")
    assert [c["status"] for c in ctx.checks] == ["pass"]
    assert "2 processes" in ctx.checks[0]["detail"]
    assert 64 <= ctx.facts["memory_mib"]["before-upgrade"] < 400


def test_fails_a_server_over_the_pods_limit(tmp_path, server_group, monkeypatch):
    resources = tmp_path / "server-resources.json"
    resources.write_text(json.dumps({"requests": {"memory": "32Mi"}, "limits": {"memory": "32Mi"}}))
    monkeypatch.setattr(mlflow_server, "SERVER_RESOURCES", resources)
    ctx = context(server_group, monkeypatch)
    mlflow_server.check_memory(ctx, "to", "after-upgrade")
    assert ctx.checks[0]["name"] == "mlflow-memory-after-upgrade"
    assert ctx.checks[0]["status"] == "fail"
    assert "limit 32Mi" in ctx.checks[0]["detail"]

