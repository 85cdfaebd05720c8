"""The pre-upgrade steps, rehearsed on real servers in the order the program plans them:
inventory -> drain -> snapshot -> restore-test -> (migration timed on a copy) -> the upgrade.

The scripts are the Jobs' own (components/pre-upgrade/*.py), run with the venv of the version each
Job's image carries: FROM for the inventory, the drain and the restore-test, TO for the timing.
Documents go to files under the run directory instead of the artifact bucket. The snapshot is a
dump taken while FROM still serves (as RDS snapshots the live instance), restored into databases
of its own, each dropped after its check: the live `zenml` database is never written here.

Part of the zenml rehearsal: steps_zenml.py imports this module, which registers its steps (the
driver loads only steps_<part>.py, and a steps_*.py name would make this a part of its own).
Orders 122..205 place these between the seed (120) and the upgrade (200) of steps_zenml.py, the
last one right after it; the drain runs before counts-before (130), so the run it holds is part of
what the upgrade must keep.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List

from driver import ROOT, Context, StepFailed, step
from mariadb import MariaDB

PAYLOAD = ROOT / "components" / "pre-upgrade"
RESTORE_TEST_DB = "zenml_restoretest"  # the restore-test's own copy (its own RDS identifier in AWS)
TIMING_DB = "zenml_migrationtiming"  # the migration-timing copy (prod's latest snapshot in AWS)
SLOW_RUN_SECONDS = 20


def zenml_steps() -> Any:
    """steps_zenml's helpers (clients, counts), imported when a step runs: steps_zenml imports this
    module while it loads, so it is not complete yet at that moment."""
    import steps_zenml

    return steps_zenml


def db(ctx: Context) -> MariaDB:
    return ctx.state["db"]


def sql(ctx: Context, query: str) -> str:
    return db(ctx).sql(query)


def alembic_version(ctx: Context, database: str) -> str:
    return zenml_steps().alembic_version(ctx, database)


def run_client(ctx: Context, venv: Path, args: List[str], log: str, admin: bool = False, extra: Dict[str, str] = None) -> subprocess.CompletedProcess:
    return zenml_steps().run_client(ctx, venv, args, log, admin=admin, extra=extra)


def upgrade_dir(ctx: Context) -> Path:
    """Stands in for s3://<bucket>/upgrades/<stack>/<from>-<to>/."""
    return ctx.work / "upgrades" / "staging" / f"{ctx.from_version}-{ctx.to_version}"


def result_of(out: str, prefix: str) -> Dict[str, Any]:
    lines = [line for line in out.splitlines() if line.startswith(prefix + " ")]
    if not lines:
        raise StepFailed(f"no {prefix} line in the script's output")
    return json.loads(lines[-1][len(prefix) + 1:])


def live_counts(ctx: Context, kinds: List[str]) -> Dict[str, int]:
    """The restore-test's own count queries, on the live database."""
    import sys

    sys.path.insert(0, str(PAYLOAD))
    from restore_test import COUNT_SQL

    return {kind: int(sql(ctx, f"USE zenml; {COUNT_SQL[kind]}")) for kind in kinds if kind in COUNT_SQL}


def grant_copy(ctx: Context, database: str) -> None:
    sql(ctx, f"GRANT ALL ON `{database}`.* TO 'zenml'@'127.0.0.1'")


@step("inventory", 122)
def inventory(ctx: Context) -> None:
    out = upgrade_dir(ctx) / "inventory.json"
    result = run_client(ctx, ctx.venv_from, [str(PAYLOAD / "inventory.py"), "--stack", "staging", "--from-version", ctx.from_version, "--to-version", ctx.to_version, "--out", str(out)], "inventory.log", admin=True)
    zenml_steps().must(result, "the inventory", "inventory.log")
    doc = json.loads(out.read_text())
    ctx.state["inventory"] = out
    db_counts = live_counts(ctx, list(doc["counts"]))
    differs = {k: (doc["counts"][k], n) for k, n in db_counts.items() if n != doc["counts"][k]}
    ctx.facts["inventory"] = {"document": str(out), "counts": doc["counts"], "alembic_heads": doc["alembic_heads"]}
    ctx.expect("inventory-matches-database", not differs and doc["alembic_heads"] == [alembic_version(ctx, "zenml")],
               f"{len(doc['counts'])} kinds as the database counts them" + (f"; differs (inventory, database): {differs}" if differs else "") + f"; alembic {doc['alembic_heads']}")
    text = out.read_text()
    leaked = [name for name, value in (("admin password", ctx.state["admin_password"]), ("API key", ctx.state["api_key"])) if value in text]
    ctx.expect("inventory-holds-no-secret", not leaked, "no password or key in the document" if not leaked else f"the document contains the {leaked}")


@step("drain", 125)
def drain(ctx: Context) -> None:
    """A user's run is in progress when the upgrade begins: the drain holds it, then releases."""
    env = {**os.environ, **run_env(ctx)}
    slow = subprocess.Popen([str(ctx.venv_from / "bin" / "python"), str(ROOT / "rehearsal" / "slow_run.py"), str(SLOW_RUN_SECONDS), "nightly_training"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ctx.cleanups.append(lambda: slow.poll() is None and slow.kill())
    deadline = time.monotonic() + 120
    while sql(ctx, "SELECT COUNT(*) FROM zenml.pipeline_run WHERE status IN ('initializing', 'provisioning', 'running')") == "0":
        if slow.poll() is not None or time.monotonic() > deadline:
            raise StepFailed(f"the slow run never showed up in progress: {slow.communicate()[1][-300:]}")
        time.sleep(0.5)
    args = [str(PAYLOAD / "drain.py"), "--guard-minutes", "1", "--poll-seconds", "2"]
    # An upgrade that may not wait is refused, naming the run.
    refused = run_client(ctx, ctx.venv_from, [*args, "--wait-minutes", "0", "--out", str(upgrade_dir(ctx) / "drain-refused.json")], "drain-refused.log", admin=True)
    listed = "run nightly_training" in refused.stderr and "(pipeline nightly_training, user smoke-ci," in refused.stderr
    ctx.expect("drain-refuses-naming-the-run", refused.returncode == 1 and listed, f"exit {refused.returncode}; " + (next((l.strip() for l in refused.stderr.splitlines() if "still busy: run" in l), "no run listed")))
    t0 = time.monotonic()
    held = run_client(ctx, ctx.venv_from, [*args, "--wait-minutes", "5", "--out", str(upgrade_dir(ctx) / "drain.json")], "drain.log", admin=True)
    waited = round(time.monotonic() - t0, 1)
    report = result_of(held.stdout, "PRE_UPGRADE_DRAIN")
    out, _ = slow.communicate(timeout=120)
    run = json.loads(out.strip().splitlines()[-1])
    ctx.facts["drain"] = {"result": report["result"], "waited_seconds": report["waited_seconds"], "held_by": report["held_by"], "slow_run": run}
    ctx.expect("run-in-progress-holds-upgrade", held.returncode == 0 and report["result"] == "released" and report["held_by"]["runs"] and run["status"].endswith("completed"),
               f"held {waited}s by run {run['run']} ({SLOW_RUN_SECONDS}s long), released when it {run['status'].rsplit('.', 1)[-1].lower()}")


def run_env(ctx: Context) -> Dict[str, str]:
    return zenml_steps().client_env(ctx, ctx.venv_from, "slow-run")


@step("pre-upgrade-snapshot", 150)
def snapshot(ctx: Context) -> None:
    """The stand-in for the RDS snapshot: taken after the drain, while FROM still serves."""
    path = upgrade_dir(ctx) / "pre-upgrade-snapshot.sql"
    path.write_bytes(db(ctx).dump("zenml"))
    ctx.state["snapshot"] = path
    ctx.state["live_before"] = (alembic_version(ctx, "zenml"), zenml_steps().all_table_counts(ctx, "zenml"))


@step("restore-test", 160)
def restore_test(ctx: Context) -> None:
    """The snapshot restored into a database of its own, checked with the Job's script, then dropped."""
    db(ctx).load(ctx.state["snapshot"].read_bytes(), rename=("zenml", RESTORE_TEST_DB))
    grant_copy(ctx, RESTORE_TEST_DB)
    try:
        result = run_client(ctx, ctx.venv_from, [str(PAYLOAD / "restore_test.py"), "check", "--host", "127.0.0.1", "--port", str(ctx.db_port), "--user", "zenml", "--password-env", "REHEARSAL_DB_PASSWORD",
                                                 "--database", RESTORE_TEST_DB, "--inventory", str(ctx.state["inventory"]), "--out", str(upgrade_dir(ctx) / "restore-test.json")],
                            "restore-test.log", extra={"REHEARSAL_DB_PASSWORD": ctx.state["db_password"]})
        report = result_of(result.stdout, "PRE_UPGRADE_RESTORE_TEST")
    finally:
        sql(ctx, f"DROP DATABASE IF EXISTS `{RESTORE_TEST_DB}`")
    full = json.loads((upgrade_dir(ctx) / "restore-test.json").read_text()) if (upgrade_dir(ctx) / "restore-test.json").exists() else {"checks": []}
    ctx.facts["restore_test"] = {"ok": report["ok"], "alembic_version": report.get("alembic_version"), "counts": report.get("counts")}
    ctx.expect("backup-restore-test", result.returncode == 0 and report["ok"] is True, "; ".join(f"{c['name']}: {c['detail']}" for c in full["checks"]) or report.get("error", "no report"))
    live = (alembic_version(ctx, "zenml"), zenml_steps().all_table_counts(ctx, "zenml"))
    ctx.expect("restore-test-copy-dropped-live-untouched", live == ctx.state["live_before"] and not db(ctx).database_exists(RESTORE_TEST_DB),
               f"copy {RESTORE_TEST_DB} dropped; live zenml at {live[0]} with {sum(live[1].values())} rows as before")


@step("migration-timing", 170)
def migration_timing(ctx: Context) -> None:
    """TO's migration on a copy of the snapshot, timed, before the real one (prod: the workflow)."""
    db(ctx).load(ctx.state["snapshot"].read_bytes(), rename=("zenml", TIMING_DB))
    grant_copy(ctx, TIMING_DB)
    try:
        result = run_client(ctx, ctx.venv_to, [str(PAYLOAD / "time_migration.py"), "--host", "127.0.0.1", "--port", str(ctx.db_port), "--user", "zenml", "--password-env", "REHEARSAL_DB_PASSWORD",
                                               "--database", TIMING_DB, "--to-version", ctx.to_version, "--log", str(ctx.work / "migration-timing-migrate.log"), "--out", str(upgrade_dir(ctx) / "migration-timing.json")],
                            "migration-timing.log", extra={"REHEARSAL_DB_PASSWORD": ctx.state["db_password"]})
        record = result_of(result.stdout, "MIGRATION_TIMING")
    finally:
        sql(ctx, f"DROP DATABASE IF EXISTS `{TIMING_DB}`")
    ctx.facts["migration_timing"] = {k: record.get(k) for k in ("result", "seconds", "size_mb", "alembic_before", "alembic_after")}
    live_version = alembic_version(ctx, "zenml")
    ctx.expect("migration-timed-on-copy", record.get("ok") is True and live_version == ctx.state["live_before"][0],
               f"{record.get('result')} in {record.get('seconds')}s on {record.get('size_mb')} MB ({record.get('alembic_before')} -> {record.get('alembic_after')}); live zenml still at {live_version}")


@step("preflight-after-upgrade", 205)
def after_upgrade(ctx: Context) -> None:
    """The inventory and the timing were of the database before the migration the upgrade then ran."""
    now = alembic_version(ctx, "zenml")
    inv = ctx.facts["inventory"]["alembic_heads"]
    timed = ctx.facts["migration_timing"]
    ctx.expect("inventory-before-migration", inv == [ctx.state["live_before"][0]] and now != inv[0] and [now] == timed["alembic_after"],
               f"inventory at {inv}, the upgrade migrated to {now}, as the timed copy did")
    # The figure the prod gate weighs, beside the real one (a fact: timings on a shared machine vary).
    ctx.facts["migration_seconds"] = {"timed_copy": timed["seconds"], "real": ctx.phases.get("migration")}
