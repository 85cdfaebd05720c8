"""post_upgrade.py against a real server of the new version, with items an old client left."""

import json
import sys

import zenml

from conftest import SEED, old_python, run, run_post_upgrade, smoke_entry


def seed(server, tmp_path, *args):
    result = run(old_python(), server, tmp_path, [str(SEED), *args])
    assert result.returncode == 0, result.stderr[-2000:]


def checks_of(entry):
    return {c["name"]: c["status"] for c in entry["checks"]}


def test_rebuilds_stale_snapshot_template_and_schedule_with_the_new_client(clean_server, remote_stack, tmp_path):
    seed(clean_server, tmp_path, "--snapshot", "smoke-check", "--template", "smoke-check-template", "--schedule", "smoke-check-nightly", "--build-stack", remote_stack)
    result, report = run_post_upgrade(clean_server, tmp_path, [smoke_entry()], build_stack=remote_stack)
    assert result.returncode == 0, json.dumps({k: report.get(k) for k in ("ok", "error", "unowned_stale", "stale_after_owned")}, indent=1)
    assert report["ok"] is True
    inv = report["inventory"]
    assert {(i["kind"], i["name"], i["stale"]) for i in inv["snapshots"] + inv["run_templates"] + inv["schedules"]} >= {
        ("snapshot", "smoke-check", True),
        ("run_template", "smoke-check-template", True),
        ("schedule", "smoke-check-nightly", True),
    }
    [entry] = report["entries"]
    assert entry["old_client_version"] != zenml.__version__
    assert entry["new_client_version"] == zenml.__version__
    assert entry["snapshot"]["client_version"] == zenml.__version__
    assert checks_of(entry) == {"snapshot": "pass", "snapshot-image": "staging-only", "run-template": "pass", "schedule": "pass", "schedule-image": "staging-only", "smoke-run": "pass"}
    assert entry["run_id"] and entry["seconds"] > 0
    assert report["stale_after_owned"] == []


def test_a_stale_item_no_entry_owns_fails_the_report_unless_ignored_with_a_reason(clean_server, tmp_path):
    seed(clean_server, tmp_path, "--snapshot", "forgotten-demo")
    result, report = run_post_upgrade(clean_server, tmp_path, [smoke_entry(runTemplate=None, schedule=None)])
    assert result.returncode == 1
    assert [(u["kind"], u["name"], u["status"]) for u in report["unowned_stale"]] == [("snapshot", "forgotten-demo", "fail")]
    assert "owned by no catalogue entry" in report["unowned_stale"][0]["detail"]
    ignored = [{"kind": "snapshot", "name": "forgotten-demo", "reason": "a demo, retired with the old client"}]
    result, report = run_post_upgrade(clean_server, tmp_path, [smoke_entry(runTemplate=None, schedule=None)], ignored)
    assert result.returncode == 0, json.dumps({k: report.get(k) for k in ("ok", "error", "unowned_stale", "stale_after_owned")}, indent=1)
    assert report["unowned_stale"][0]["status"] == "ignored"


def test_a_broken_entry_names_itself_and_the_others_still_run(clean_server, tmp_path):
    broken = smoke_entry(name="broken", pipeline="smoke_pipelines:no_such_pipeline", snapshot="broken", runTemplate=None, schedule=None)
    result, report = run_post_upgrade(clean_server, tmp_path, [broken, smoke_entry(runTemplate=None, schedule=None)])
    assert result.returncode == 1
    by_name = {e["entry"]: e for e in report["entries"]}
    assert by_name["broken"]["status"] == "fail"
    assert by_name["broken"]["checks"] == [{"name": "error", "status": "fail", "detail": "AttributeError: module 'smoke_pipelines' has no attribute 'no_such_pipeline'"}]
    assert by_name["smoke-check"]["status"] == "pass"


def test_refuses_to_rebuild_with_a_client_of_another_version(clean_server, tmp_path):
    result, report = run_post_upgrade(clean_server, tmp_path, [smoke_entry(runTemplate=None, schedule=None)], python=old_python())
    assert result.returncode == 1
    assert report["ok"] is False and report["entries"] == []
    assert report["error"] == f"client {report['client_version']} must equal the server's version {zenml.__version__}"
    assert sys.executable != old_python()
