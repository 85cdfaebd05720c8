"""The MLflow upgrade rehearsal's steps: MLflow FROM -> TO (PyPI) on a private MariaDB, in the order
the platform enforces (stop, back up, migrate with the new version, start the new server), then
every seeded entity read back, an older client against the new server, and the backup restored
under FROM. `npm run rehearse:mlflow` (rehearse.sh mlflow) runs them through driver.py.

FROM/TO: MLFLOW_FROM/MLFLOW_TO, else prod's and staging's mlflowVersion when both are set and
differ, else 2.22.5 -> 3.17.2. Ports MLFLOW_DB_PORT (33307), MLFLOW_SERVER_PORT (18238).
Report .cache/rehearsal/mlflow-report.json: the driver's, plus memory_mib (server PSS per check).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from typing import Tuple

import pins
from driver import Context, Part, StepFailed, step, timed_upgrade
from mariadb import MariaDB
from mlflow_server import (IMAGE_DIR, admin, check_memory, check_server, client, ensure_venv, http, migrate, run, start_server,
                           stop_server, ts_smoke, url, venv)
from processes import answers_health

# A real pair across a major (2 -> 3) whose tracking and auth schemas both migrate.
DEFAULT_FROM = "2.22.5"
DEFAULT_TO = "3.17.2"


def versions() -> Tuple[str, str]:
    """Prod's mlflowVersion -> staging's when both stack files pin different ones, else the default pair."""
    prod, staging = (pins.stack_value(stack, "mlflowVersion", missing="") for stack in ("prod", "staging"))
    return (prod, staging) if prod and staging and prod != staging else (DEFAULT_FROM, DEFAULT_TO)


PART = Part(name="mlflow", versions=versions, env_prefix="MLFLOW_", db_port=33307, server_port=18238,
            report="mlflow-report.json", work="mlflow-run", summary=("database", "memory_mib"))


def password() -> str:
    return secrets.token_urlsafe(18).replace("-", "a").replace("_", "b")


def db(ctx: Context) -> MariaDB:
    return ctx.state["db"]


@step("mlflow-prerequisites", 100)
def prerequisites(ctx: Context) -> None:
    ctx.claim_ports_and_work()
    ctx.state.update(db_password=password(), admin_password=password(), master_password=secrets.token_urlsafe(18))


@step("mlflow-venvs", 110)
def venvs(ctx: Context) -> None:
    ctx.venv_from = ensure_venv(ctx, ctx.from_version)
    ctx.venv_to = ensure_venv(ctx, ctx.to_version)


@step("mlflow-database", 120)
def database(ctx: Context) -> None:
    mariadb = ctx.state["db"] = MariaDB(ctx.work, ctx.db_port)
    ctx.cleanups.append(mariadb.stop)
    mariadb.start()
    ctx.facts["database"] = f"MariaDB {mariadb.version()}"
    # A master user like RDS's; the platform's bootstrap script creates MLflow's user and databases with it.
    master = ctx.state["master_password"]
    mariadb.sql(f"CREATE USER 'master'@'127.0.0.1' IDENTIFIED BY '{master}'; GRANT ALL ON *.* TO 'master'@'127.0.0.1' WITH GRANT OPTION;")
    env = {**os.environ, "DB_HOST": "127.0.0.1", "DB_PORT": str(ctx.db_port), "DB_MASTER_USER": "master", "DB_MASTER_PASSWORD": master,
           "MLFLOW_DB_USER": "mlflow", "MLFLOW_DB_PASSWORD": ctx.state["db_password"], "MLFLOW_DATABASES": "mlflow,mlflow_auth"}
    run([str(venv(ctx, "from") / "bin" / "python"), str(IMAGE_DIR / "bootstrap_db.py")], ctx.work / "bootstrap.log", env=env)
    ctx.log(f"{ctx.facts['database']} on 127.0.0.1:{ctx.db_port}, mlflow user bootstrapped")


@step("mlflow-install-from", 130)
def install_from(ctx: Context) -> None:
    ctx.phases["first_migration"] = round(migrate(ctx, "from"), 1)
    ctx.cleanups.append(lambda: stop_server(ctx))  # clean-ups run last first: the server before its database
    start_server(ctx, "from")
    check_server(ctx, "from", "before-upgrade")


@step("mlflow-seed", 140)
def seed(ctx: Context) -> None:
    result = client(ctx, "from", "seed", ctx.work / "state.json")
    if not result.get("ok"):
        raise StepFailed(f"seeding on {ctx.from_version} failed: {result}")
    shutil.copy(ctx.work / "state.json", ctx.work / "state-seeded.json")
    ctx.log(f"seeded on {ctx.from_version}: {result}")
    ts_smoke(ctx, ctx.from_version, "before-upgrade")
    check_memory(ctx, "from", "before-upgrade")


@step("mlflow-upgrade", 200)
def upgrade(ctx: Context) -> None:
    downtime = timed_upgrade(ctx, lambda: answers_health(url(ctx)), [
        ("stop_old_server", lambda: stop_server(ctx)),  # 1. scale to zero
        ("backup", lambda: (ctx.work / "backup.sql").write_bytes(db(ctx).dump("mlflow", "mlflow_auth"))),  # 2. the snapshot's stand-in
        ("migration", lambda: migrate(ctx, "to")),  # 3. the migration Job, new version
        ("start_new_server", lambda: start_server(ctx, "to")),  # 4. the new server
    ], settle=0.5)
    ctx.phases["upgrade_total"] = round(sum(ctx.phases[p] for p in ("stop_old_server", "backup", "migration", "start_new_server")), 1)
    ctx.facts["downtime_seconds"] = downtime if downtime is not None else ctx.phases["upgrade_total"]
    ctx.log(f"upgraded {ctx.from_version} -> {ctx.to_version}: migration {ctx.phases['migration']}s, downtime {ctx.facts['downtime_seconds']}s")


@step("mlflow-verify-upgraded", 210)
def verify_upgraded(ctx: Context) -> None:
    check_server(ctx, "to", "after-upgrade")
    state = ctx.work / "state.json"
    # As a deploy runs it: the smoke run recorded on FROM must read back on TO.
    ts_smoke(ctx, ctx.to_version, "after-upgrade")
    # Three client starts: the old client reads and writes, then the new one reads the seed, writes,
    # and reads everything back (the seed and both clients' runs).
    old = client(ctx, "from", "verify,write", state)
    ctx.expect("mlflow-old-client-reads-new-server", old.get("ok", False),
               f"client {ctx.from_version} against server {ctx.to_version} read the seed and wrote a run; differences: {old.get('differences', [])[:3]}")
    new = client(ctx, "to", "verify,write,verify", state)
    ctx.expect("mlflow-seed-reads-back-on-new-server", new.get("ok", False),
               f"{new.get('runs_checked', 0)} runs, model, artifacts with client {ctx.to_version}; differences: {new.get('differences', [])[:3]}")
    ctx.expect("mlflow-old-and-new-clients-write", old.get("ok", False) and new.get("ok", False),
               f"runs written by {ctx.from_version} and {ctx.to_version} clients read back: {new.get('differences', [])[:3]}")
    check_memory(ctx, "to", "after-upgrade")


@step("mlflow-old-server-refuses", 300)
def refuses_unmigrated(ctx: Context) -> None:
    """Negative: the old server refuses the migrated schema instead of running on it."""
    stop_server(ctx)
    try:
        start_server(ctx, "from")
        ok, detail = False, f"MLflow {ctx.from_version} started on the schema {ctx.to_version} migrated"
    except StepFailed:
        tail = (ctx.work / "server-from.log").read_text(errors="replace")[-2000:].lower()
        said = " (out-of-date/unknown schema)" if "schema" in tail or "revision" in tail else ""
        ok, detail = True, f"MLflow {ctx.from_version} does not start on the migrated database{said}"
    stop_server(ctx)
    ctx.expect("mlflow-old-server-refuses-migrated-db", ok, detail)


@step("mlflow-restore", 400)
def restore(ctx: Context) -> None:
    stop_server(ctx)
    t = time.monotonic()
    db(ctx).sql("DROP DATABASE mlflow; DROP DATABASE mlflow_auth;")
    db(ctx).load((ctx.work / "backup.sql").read_bytes())
    ctx.phases["restore"] = round(time.monotonic() - t, 1)
    start_server(ctx, "from")
    check_server(ctx, "from", "after-restore")
    seeded = client(ctx, "from", "verify", ctx.work / "state-seeded.json")
    after = json.loads((ctx.work / "state.json").read_text()).get("written_after", [])
    present = [r["id"] for r in after if http(ctx, f"/api/2.0/mlflow/runs/get?run_id={r['id']}", admin(ctx))[0] == 200]
    ctx.expect("mlflow-restore-serves-from", seeded.get("ok", False) and not present,
               f"backup restored, {ctx.from_version} serves the seed; runs written after the upgrade still present: {present}; differences: {seeded.get('differences', [])[:3]}")
