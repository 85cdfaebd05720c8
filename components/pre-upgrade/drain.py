"""Holds the upgrade while pipelines run: the drain before the snapshot and the Helm release.

Runs in the pre-upgrade drain Job with the client of the version the server runs now. Every poll
it asks the server for runs in progress (ZenML's own `in_progress`: initializing, provisioning,
queued, running, stopping...) and for active schedules due within the guard (the minutes the
server itself moves: a run a schedule starts then would fail). Quiet -> released, exit 0. Still
busy when the wait is over -> refused, exit 1, listing each run (pipeline, user, status, started
at) and schedule, and what to do. With an override reason it lists the same and exits 0, marked
overridden, the reason in its report.

Usage: drain.py --wait-minutes N --guard-minutes G [--poll-seconds S] [--override-reason TEXT]
                --out PATH|s3://BUCKET/KEY
The last stdout line is `PRE_UPGRADE_DRAIN <report>`.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from preflight_io import all_pages, log, result_line, write_document  # noqa: E402

PREFIX = "PRE_UPGRADE_DRAIN"
KIND = "zenml-platform/pre-upgrade-drain"


def utc(dt: Optional[datetime]) -> Optional[datetime]:
    """ZenML hands out naive UTC datetimes; compare them as aware ones."""
    if dt is None:
        return None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def next_fire(schedule: Any, now: datetime) -> Optional[datetime]:
    """When an active schedule next starts a run, or None when it never will again."""
    if not schedule.active or getattr(schedule, "is_archived", False):
        return None
    end = utc(schedule.end_time)
    if schedule.cron_expression:
        from croniter import croniter  # zenml[server] brings it: the server image has it

        start = max(now, utc(schedule.start_time) or now)
        fire = croniter(schedule.cron_expression, start - timedelta(seconds=1)).get_next(datetime)
        fire = utc(fire)
    elif schedule.interval_second:
        start = utc(schedule.start_time) or now
        step = schedule.interval_second.total_seconds()
        periods = max(0, -(-(now - start).total_seconds() // step))
        fire = start + timedelta(seconds=periods * step)
    elif schedule.run_once_start_time:
        fire = utc(schedule.run_once_start_time)
        if fire < now:
            return None
    else:
        return None
    return None if end and fire > end else fire


def busy(client: Any, now: datetime, guard: timedelta) -> Dict[str, List[Dict[str, Any]]]:
    runs = [
        {"run": r.name, "id": str(r.id), "pipeline": r.pipeline.name if r.pipeline else None, "user": r.user.name if r.user else None, "status": str(r.status),
         "started_at": str(utc(r.start_time) or utc(r.created))}
        for r in all_pages(client.list_pipeline_runs, in_progress=True, hydrate=True)
    ]
    due = []
    for s in all_pages(client.list_schedules, hydrate=True):
        fire = next_fire(s, now)
        if fire is not None and fire <= now + guard:
            due.append({"schedule": s.name, "id": str(s.id), "cron_expression": s.cron_expression, "next_run_at": fire.isoformat()})
    return {"runs": runs, "schedules": due}


def advice(wait_minutes: float) -> str:
    return (f"they did not finish within {wait_minutes:g} minutes (upgradeDrainMinutes): let them finish and deploy again, "
            "stop a run that must not block (`zenml pipeline runs stop <id>`), or, in an emergency, set "
            "upgradeDrainOverrideReason in the stack file (the runs listed are then broken by the upgrade)")


def drain(client: Any, wait_minutes: float, guard_minutes: float, poll_seconds: float, override: str,
          clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc), sleep: Callable[[float], None] = time.sleep) -> Dict[str, Any]:
    started = clock()
    deadline = started + timedelta(minutes=wait_minutes)
    first: Optional[Dict[str, Any]] = None
    polls = 0
    while True:
        now = clock()
        found = busy(client, now, timedelta(minutes=guard_minutes))
        polls += 1
        first = first or (found if found["runs"] or found["schedules"] else None)
        quiet = not found["runs"] and not found["schedules"]
        if quiet or now >= deadline:
            break
        log("drain", f"holding the upgrade: {len(found['runs'])} run(s) in progress, {len(found['schedules'])} schedule(s) due; {int((deadline - now).total_seconds())}s left")
        sleep(min(poll_seconds, max(0.0, (deadline - now).total_seconds())))
    waited = round((clock() - started).total_seconds(), 1)
    result = "released" if quiet else ("overridden" if override else "refused")
    report: Dict[str, Any] = {
        "kind": KIND, "result": result, "ok": result != "refused", "waited_seconds": waited, "wait_minutes": wait_minutes, "guard_minutes": guard_minutes,
        "polls": polls, "held_by": first or {"runs": [], "schedules": []}, "still_busy": {} if quiet else found,
    }
    if result == "overridden":
        report["override_reason"] = override
    if result == "refused":
        report["advice"] = advice(wait_minutes)
    return report


def lines(report: Dict[str, Any]) -> List[str]:
    """What the log says about what is still busy: one line per run and schedule."""
    busy_now = report.get("still_busy") or {}
    out = [f"run {r['run']} (pipeline {r['pipeline']}, user {r['user']}, {r['status']}, started {r['started_at']})" for r in busy_now.get("runs", [])]
    out += [f"schedule {s['schedule']} ({s['cron_expression'] or 'interval'}) next runs at {s['next_run_at']}" for s in busy_now.get("schedules", [])]
    return out


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--wait-minutes", type=float, required=True)
    p.add_argument("--guard-minutes", type=float, required=True)
    p.add_argument("--poll-seconds", type=float, default=15)
    p.add_argument("--override-reason", default="")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    try:
        from zenml.client import Client

        report = drain(Client(), a.wait_minutes, a.guard_minutes, a.poll_seconds, a.override_reason.strip())
        write_document(a.out, report)
    except Exception as e:
        traceback.print_exc()
        result_line(PREFIX, {"ok": False, "result": "error", "error": f"{type(e).__name__}: {str(e)[:300]}"})
        return 1
    for line in lines(report):
        log("drain", ("OVERRIDDEN, upgrading anyway: " if report["result"] == "overridden" else "still busy: ") + line)
    if report["result"] == "refused":
        log("drain", f"REFUSED: {report['advice']}")
    else:
        log("drain", f"{report['result']} after {report['waited_seconds']}s")
    result_line(PREFIX, {k: report[k] for k in ("ok", "result", "waited_seconds", "held_by", "still_busy")} | ({"override_reason": report["override_reason"]} if "override_reason" in report else {}))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
