"""The rehearsal driver without servers: order, a failing step naming itself, staging-only, the report."""

import importlib
import json
import sys
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
    ctx = module.Context()
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


def test_versions_default_to_prod_and_staging_pins(monkeypatch):
    import driver as module

    monkeypatch.delenv("FROM", raising=False)
    monkeypatch.delenv("TO", raising=False)
    ctx = module.Context()
    assert (ctx.from_version, ctx.to_version) == (module.stack_pin("prod"), module.stack_pin("staging"))
