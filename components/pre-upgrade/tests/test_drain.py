"""drain.py: a run in progress holds the upgrade until it ends; one that outlasts the wait refuses it."""

import json
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from conftest import PAYLOAD, ROOT, last_json, run, start
from drain import drain, next_fire

NOW = datetime(2026, 12, 7, 10, 40, tzinfo=timezone.utc)


def schedule(**kw):
    base = dict(active=True, is_archived=False, cron_expression=None, start_time=None, end_time=None, interval_second=None, run_once_start_time=None)
    return SimpleNamespace(**{**base, **kw})


@pytest.mark.parametrize(
    "kw, expected",
    [
        (dict(cron_expression="0 * * * *"), datetime(2026, 12, 7, 11, 0, tzinfo=timezone.utc)),
        (dict(cron_expression="40 10 * * *"), NOW),  # due this very minute counts
        (dict(cron_expression="0 3 * * *"), datetime(2026, 12, 8, 3, 0, tzinfo=timezone.utc)),
        (dict(cron_expression="0 * * * *", end_time=datetime(2026, 12, 7, 10, 50)), None),  # ends before its next run
        (dict(cron_expression="0 * * * *", active=False), None),
        (dict(interval_second=timedelta(minutes=15), start_time=datetime(2026, 12, 7, 10, 0)), datetime(2026, 12, 7, 10, 45, tzinfo=timezone.utc)),
        (dict(run_once_start_time=datetime(2026, 12, 7, 10, 50)), datetime(2026, 12, 7, 10, 50, tzinfo=timezone.utc)),
        (dict(run_once_start_time=datetime(2026, 12, 7, 9, 0)), None),
    ],
)
def test_next_fire_of_each_kind_of_schedule(kw, expected):
    assert next_fire(schedule(**kw), NOW) == expected


class FakeClient:
    """Runs in progress that end at given times of a fake clock; schedules as given."""

    def __init__(self, clock, runs_until, schedules=()):
        self.clock, self.runs_until, self.schedules = clock, runs_until, list(schedules)

    def list_pipeline_runs(self, page, size, in_progress, hydrate):
        items = [SimpleNamespace(name=f"train-{i}", id=i, pipeline=SimpleNamespace(name="train"), user=SimpleNamespace(name="ana"), status="running", start_time=datetime(2026, 12, 7, 10, 0), created=None)
                 for i, until in enumerate(self.runs_until) if self.clock.now < until]
        return SimpleNamespace(items=items, total_pages=1)

    def list_schedules(self, page, size, hydrate):
        return SimpleNamespace(items=self.schedules, total_pages=1)


class Clock:
    def __init__(self):
        self.now = NOW

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += timedelta(seconds=seconds)


def test_released_when_the_last_run_ends_within_the_wait():
    clock = Clock()
    report = drain(FakeClient(clock, [NOW + timedelta(minutes=3), NOW + timedelta(minutes=7)]), 30, 15, 30, "", clock, clock.sleep)
    assert report["result"] == "released" and report["ok"] is True
    assert report["waited_seconds"] == 7 * 60
    assert [r["run"] for r in report["held_by"]["runs"]] == ["train-0", "train-1"]
    assert report["still_busy"] == {}


def test_refused_with_each_run_and_what_to_do_when_the_wait_is_over():
    clock = Clock()
    report = drain(FakeClient(clock, [NOW + timedelta(hours=2)]), 30, 15, 30, "", clock, clock.sleep)
    assert report["result"] == "refused" and report["ok"] is False and report["waited_seconds"] == 30 * 60
    [busy] = report["still_busy"]["runs"]
    assert (busy["pipeline"], busy["user"], busy["status"], busy["started_at"]) == ("train", "ana", "running", "2026-12-07 10:00:00+00:00")
    assert "upgradeDrainMinutes" in report["advice"] and "zenml pipeline runs stop" in report["advice"] and "upgradeDrainOverrideReason" in report["advice"]


def test_an_override_reason_lets_the_upgrade_through_and_is_recorded():
    clock = Clock()
    report = drain(FakeClient(clock, [NOW + timedelta(hours=2)]), 5, 15, 30, "INC-42: prod is down", clock, clock.sleep)
    assert (report["result"], report["ok"], report["override_reason"]) == ("overridden", True, "INC-42: prod is down")
    assert report["still_busy"]["runs"]


def test_a_schedule_due_within_the_guard_holds_until_it_has_fired():
    clock = Clock()
    hourly = schedule(name="nightly", id=1, cron_expression="0 * * * *")
    # 10:40: the 11:00 run is 20 minutes away, beyond a 15-minute guard: quiet at once.
    assert drain(FakeClient(clock, [], [hourly]), 30, 15, 60, "", clock, clock.sleep)["result"] == "released"
    clock.now = datetime(2026, 12, 7, 10, 50, tzinfo=timezone.utc)
    report = drain(FakeClient(clock, [], [hourly]), 30, 15, 60, "", clock, clock.sleep)
    # Held until 11:00 has passed (the next one, 12:00, is outside the guard).
    assert report["result"] == "released" and 10 * 60 <= report["waited_seconds"] <= 11 * 60
    assert report["held_by"]["schedules"][0]["next_run_at"] == "2026-12-07T11:00:00+00:00"


# ---------------------------------------------------------------- on a real server


def in_progress_soon(server, tmp_path, seconds, name):
    """Starts a slow run in the background; returns once the server reports it in progress."""
    proc = start(server, tmp_path, [str(ROOT / "rehearsal" / "slow_run.py"), str(seconds), name])
    probe = "from zenml.client import Client; import sys; sys.exit(0 if Client().list_pipeline_runs(in_progress=True, size=1).total else 1)"
    deadline = time.monotonic() + 120
    while run(server, tmp_path, ["-c", probe], timeout=60).returncode != 0:
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "the slow run never showed up in progress"
        time.sleep(1)
    return proc


def drain_cli(server, tmp_path, *args):
    out = tmp_path / "drain.json"
    result = run(server, tmp_path, [str(PAYLOAD / "drain.py"), "--guard-minutes", "1", "--poll-seconds", "2", "--out", str(out), *args])
    return result, last_json(result, "PRE_UPGRADE_DRAIN"), out


def test_a_run_in_progress_holds_the_drain_until_it_completes(server, tmp_path):
    proc = in_progress_soon(server, tmp_path, 25, "drain_held_training")
    result, line, out = drain_cli(server, tmp_path, "--wait-minutes", "3")
    ended = json.loads(proc.communicate(timeout=120)[0].strip().splitlines()[-1])
    assert result.returncode == 0, result.stderr[-3000:]
    assert line["result"] == "released" and line["waited_seconds"] > 5
    [held] = line["held_by"]["runs"]
    assert (held["pipeline"], held["user"]) == ("drain_held_training", "admin")
    assert ended["status"].endswith("completed")
    assert json.loads(out.read_text())["result"] == "released"


def test_a_run_that_outlasts_the_wait_refuses_then_the_override_lets_it_through(server, tmp_path):
    proc = in_progress_soon(server, tmp_path, 45, "drain_refused_training")
    try:
        result, line, _ = drain_cli(server, tmp_path, "--wait-minutes", "0.1")
        assert result.returncode == 1
        assert line["result"] == "refused"
        assert "run drain_refused_training" in result.stderr and "(pipeline drain_refused_training, user admin," in result.stderr
        assert "REFUSED: they did not finish within 0.1 minutes (upgradeDrainMinutes)" in result.stderr
        result, line, out = drain_cli(server, tmp_path, "--wait-minutes", "0", "--override-reason", "INC-7 the server must move now")
        assert result.returncode == 0 and line["result"] == "overridden" and line["override_reason"] == "INC-7 the server must move now"
        assert "OVERRIDDEN, upgrading anyway: run drain_refused_training" in result.stderr
    finally:
        proc.communicate(timeout=120)
