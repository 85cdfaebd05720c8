"""The rehearsal driver without servers: order, a failing step naming itself, staging-only, the report,
and the two parts (zenml, mlflow) it loads as plug-ins."""

import importlib
import json
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


@pytest.fixture()
def driver(tmp_path, monkeypatch):
    import driver as module

    module = importlib.reload(module)
    module.REGISTRY.clear()
    monkeypatch.setenv("FROM", "0.97.0")
    monkeypatch.setenv("TO", "0.98.0")
    ctx = module.Context(module.Part(name="test", versions=lambda: ("never", "read")))
    ctx.report_path = tmp_path / "report.json"
    ctx.work = tmp_path / "run"
    return module, ctx


def test_runs_steps_in_order_and_reports_each_with_its_seconds(driver):
    module, ctx = driver
    seen = []
    module.step("second", 20)(lambda c: seen.append("second") or c.check("b", "pass", "ok"))
    module.step("first", 10)(lambda c: seen.append("first") or c.check("a", "staging-only", "a cluster proves it"))
    failed = module.run_steps(ctx, sorted(module.REGISTRY.values()))
    report = module.write_report(ctx, failed)
    assert seen == ["first", "second"]
    assert report["ok"] is True  # staging-only is not a failure...
    assert [c["status"] for c in report["checks"]] == ["staging-only", "pass"]  # ...and never reported as pass
    assert set(report["steps_seconds"]) == {"first", "second"}
    assert json.loads(ctx.report_path.read_text())["from_version"] == "0.97.0"


def test_a_failing_step_names_itself_skips_the_rest_but_not_cleanup(driver):
    module, ctx = driver
    ran = []

    def broken(c):
        raise module.StepFailed("MariaDB did not start (see error.log)")

    module.step("db", 10)(broken)
    module.step("later", 20)(lambda c: ran.append("later"))
    module.step("cleanup", 90, always=True)(lambda c: ran.append("cleanup"))
    failed = module.run_steps(ctx, sorted(module.REGISTRY.values()))
    report = module.write_report(ctx, failed)
    assert failed == "db" and report["failed_step"] == "db" and report["ok"] is False
    assert report["checks"] == [{"name": "step:db", "status": "fail", "detail": "MariaDB did not start (see error.log)"}]
    assert ran == ["cleanup"]
    assert [(s["name"], s["status"]) for s in report["steps"]] == [("db", "fail"), ("later", "skipped"), ("cleanup", "pass")]


def test_an_unexpected_error_names_its_step_and_type(driver):
    module, ctx = driver
    module.step("parse", 10)(lambda c: {}["missing"])
    module.run_steps(ctx, sorted(module.REGISTRY.values()))
    assert ctx.checks == [{"name": "step:parse", "status": "fail", "detail": "KeyError: 'missing'"}]


def test_refuses_unknown_statuses_and_duplicate_step_names(driver):
    module, ctx = driver
    with pytest.raises(ValueError):
        ctx.check("x", "passed", "typo")
    module.step("one", 10)(lambda c: None)
    with pytest.raises(RuntimeError, match="registered twice"):
        module.step("one", 20)(lambda c: None)


def test_zenml_part_rehearses_prods_pin_to_stagings(driver, monkeypatch):
    module, _ = driver
    import pins

    monkeypatch.delenv("FROM", raising=False)
    monkeypatch.delenv("TO", raising=False)
    ctx = module.Context(module.load_part("zenml"))
    assert (ctx.from_version, ctx.to_version) == (pins.zenml_pin("prod"), pins.zenml_pin("staging"))
    assert (ctx.db_port, ctx.server_port, ctx.report_path.name) == (33306, 18237, "report.json")


def test_mlflow_part_takes_its_own_environment_and_report(driver, monkeypatch, tmp_path):
    module, _ = driver
    for key, value in {"MLFLOW_FROM": "2.22.5", "MLFLOW_TO": "3.17.2", "MLFLOW_DB_PORT": "40001", "FROM": "0.1.0", "DB_PORT": "1"}.items():
        monkeypatch.setenv(key, value)
    ctx = module.Context(module.load_part("mlflow"))
    assert (ctx.from_version, ctx.to_version, ctx.db_port, ctx.server_port) == ("2.22.5", "3.17.2", 40001, 18238)
    assert ctx.report_path.name == "mlflow-report.json" and ctx.work.name == "mlflow-run"
    assert [s.name for s in sorted(module.REGISTRY.values())][:3] == ["mlflow-prerequisites", "mlflow-venvs", "mlflow-database"]
    ctx.report_path, ctx.work = tmp_path / "mlflow-report.json", tmp_path / "run"
    ctx.check("mlflow-version-before-upgrade", "pass", "/version answered 200")
    ctx.facts["memory_mib"] = {"before-upgrade": 630}
    report = module.write_report(ctx, None)
    # What .ci/run.d/count-tests.cjs and docs/MLFLOW.md read, in the one report format.
    assert report["part"] == "mlflow" and report["ok"] is True and report["memory_mib"] == {"before-upgrade": 630}
    assert {"from_version", "to_version", "downtime_seconds", "phases_seconds", "steps_seconds", "checks"} <= set(report)


def test_an_unknown_part_is_refused_naming_the_parts(capsys):
    import driver as module

    assert module.main(["nope"]) == 2
    assert "no rehearsal part 'nope' (parts: mlflow, zenml)" in capsys.readouterr().err


def test_timed_upgrade_times_each_phase_and_measures_the_downtime(driver):
    module, ctx = driver
    up = {"now": True}
    phases = [("stop_old_server", lambda: up.update(now=False)), ("migration", lambda: time.sleep(0.6)), ("start_new_server", lambda: up.update(now=True))]
    downtime = module.timed_upgrade(ctx, lambda: up["now"], phases, settle=0.3)
    assert list(ctx.phases) == ["stop_old_server", "migration", "start_new_server"]
    assert ctx.phases["migration"] >= 0.6
    assert 0.6 <= downtime < 1.5
