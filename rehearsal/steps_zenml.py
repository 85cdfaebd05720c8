"""The ZenML upgrade rehearsal's steps (driver.py's zenml part, `npm run rehearse`): FROM (prod's
pin) -> TO (staging's) on a private MariaDB, as the Helm chart does it.

Server and migration processes get the chart's environment: migrations only in the migration
"job" (`zenml migrate-database`), the `database` backup strategy into `zenml_backup`, a SQL
secrets store with an encryption key. What only a cluster proves is reported `staging-only`.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pins
from driver import ROOT, Context, Part, StepFailed, step, timed_upgrade
from mariadb import MariaDB
from processes import answers_health, port_free, stop_process, wait_until
from prober import Prober, check_adoption
import pre_upgrade_steps  # noqa: F401  registers the pre-upgrade steps (inventory, drain, restore-test, timing) of this part

BACKUP_DB = "zenml_backup"  # components/zenml-server.ts: zenml.database.backupDatabase
RESTORE_DB = "zenml_restore"
FAILTEST_DB = "zenml_failtest"  # the copy the injected failing migration runs on
BUILD_STACK = "aws-staging"  # components/registration/example-spec.json: staging's stack, remote components
# What must survive an upgrade unchanged, by table.
COUNTED = {
    "runs": "pipeline_run",
    "artifacts": "artifact_version",
    "model_versions": "model_version",
    "stacks": "stack",
    "components": "stack_component",
    "connectors": "service_connector",
    "users": "user",
    "snapshots": "pipeline_snapshot",
    "templates": "run_template",
    "schedules": "schedule",
    "secrets": "secret",
}


def prepare(ctx: Context) -> None:
    """rehearse.sh built the venvs (VENV_FROM, VENV_TO) and says how long it took (VENV_SECONDS)."""
    ctx.venv_from = Path(os.environ.get("VENV_FROM") or ctx.cache / "venvs" / f"zenml-{ctx.from_version}")
    ctx.venv_to = Path(os.environ.get("VENV_TO") or ctx.cache / "venvs" / f"zenml-{ctx.to_version}")
    ctx.phases["venvs"] = float(os.environ.get("VENV_SECONDS") or 0)


# FROM = prod's pin, TO = staging's; ports as in rehearsal/versions.env.
PART = Part(
    name="zenml",
    versions=lambda: (pins.zenml_pin("prod"), pins.zenml_pin("staging")),
    summary=("database", "alembic_version_after"),
    prepare=prepare,
)


# ------------------------------------------------------------------ helpers

def url(ctx: Context) -> str:
    return f"http://127.0.0.1:{ctx.server_port}"


def db(ctx: Context) -> MariaDB:
    return ctx.state["db"]


def counts(ctx: Context, database: str) -> Dict[str, int]:
    return {kind: int(db(ctx).sql(f"SELECT COUNT(*) FROM `{database}`.`{table}`")) for kind, table in COUNTED.items()}


def all_table_counts(ctx: Context, database: str) -> Dict[str, int]:
    """Rows of every table of a schema: "nothing lost" means all of them, not only the counted kinds."""
    tables = db(ctx).sql(f"SELECT table_name FROM information_schema.tables WHERE table_schema='{database}' AND table_type='BASE TABLE' ORDER BY table_name").split()
    return {t: int(db(ctx).sql(f"SELECT COUNT(*) FROM `{database}`.`{t}`")) for t in tables}


def alembic_version(ctx: Context, database: str) -> str:
    return db(ctx).sql(f"SELECT version_num FROM `{database}`.alembic_version")


def base_env(ctx: Context, venv: Path, config_dir: str) -> Dict[str, str]:
    return {
        "PATH": f"{venv}/bin:/usr/bin:/bin",
        "HOME": str(ctx.work),
        "LANG": "C.UTF-8",
        "ZENML_CONFIG_PATH": str(ctx.work / config_dir),
        "ZENML_LOCAL_STORES_PATH": str(ctx.work / "artifacts"),
        "ZENML_ANALYTICS_OPT_IN": "false",
    }


def server_env(ctx: Context, venv: Path, database: str, role: str) -> Dict[str, str]:
    """The environment the chart gives the server pods and the migration job."""
    s = ctx.state
    return {
        **base_env(ctx, venv, f"cfg-{role}-{venv.name}"),
        "ZENML_LOGGING_VERBOSITY": "INFO",
        "ZENML_STORE_URL": f"mysql://zenml:{s['db_password']}@127.0.0.1:{ctx.db_port}/{database}",
        "ZENML_STORE_BACKUP_STRATEGY": "database",
        "ZENML_STORE_BACKUP_DATABASE": BACKUP_DB,
        "ZENML_SECRETS_STORE_TYPE": "sql",
        "ZENML_SECRETS_STORE_ENCRYPTION_KEY": s["secrets_key"],
        "ZENML_SERVER_DEPLOYMENT_TYPE": "kubernetes",
        "ZENML_SERVER_AUTO_ACTIVATE": "1",
        "ZENML_DEFAULT_USER_NAME": "admin",
        "ZENML_DEFAULT_USER_PASSWORD": s["admin_password"],
        "ZENML_SERVER_JWT_SECRET_KEY": s["jwt_key"],
        "ZENML_ENABLE_IMPLICIT_AUTH_METHODS": "true",
    }


def migrate(ctx: Context, venv: Path, database: str, log: str, script: Optional[Path] = None) -> int:
    cmd = [str(venv / "bin" / "python"), str(script)] if script else [str(venv / "bin" / "zenml"), "migrate-database"]
    with open(ctx.work / log, "w") as f:
        return subprocess.run(cmd, env=server_env(ctx, venv, database, "migrate"), stdout=f, stderr=subprocess.STDOUT).returncode


def start_server(ctx: Context, venv: Path, database: str, log: str, timeout: float = 180) -> None:
    env = {**server_env(ctx, venv, database, "server"), "ZENML_DISABLE_DATABASE_MIGRATION": "true"}
    f = open(ctx.work / log, "w")
    proc = subprocess.Popen([str(venv / "bin" / "uvicorn"), "zenml.zen_server.zen_server_api:app", "--host", "127.0.0.1", "--port", str(ctx.server_port), "--log-level", "warning"], env=env, stdout=f, stderr=subprocess.STDOUT)
    ctx.state["server"] = (proc, f)
    if not wait_until(lambda: answers_health(url(ctx)), proc, timeout):
        raise StepFailed(f"server {venv.name} on {database} did not become healthy (see {ctx.work / log})")


def stop_server(ctx: Context) -> None:
    server = ctx.state.pop("server", None)
    if not server:
        return
    proc, f = server
    stop_process(proc, timeout=30)
    f.close()
    if not port_free(ctx.server_port):
        raise StepFailed(f"port {ctx.server_port} still answers after stopping the server")


def client_env(ctx: Context, venv: Path, name: str, admin: bool = False) -> Dict[str, str]:
    env = {**base_env(ctx, venv, f"client-{name}-{venv.name}"), "ZENML_LOGGING_VERBOSITY": "WARN", "ZENML_STORE_URL": url(ctx)}
    if admin:
        env.update(ZENML_STORE_USERNAME="admin", ZENML_STORE_PASSWORD=ctx.state["admin_password"])
    else:
        env["ZENML_STORE_API_KEY"] = ctx.state["api_key"]
    return env


def run_client(ctx: Context, venv: Path, args: List[str], log: str, admin: bool = False, extra: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    env = {**client_env(ctx, venv, log.split(".")[0], admin), **(extra or {})}
    result = subprocess.run([str(venv / "bin" / "python"), *args], env=env, capture_output=True, text=True, cwd=ROOT)
    (ctx.work / log).write_text(result.stdout + result.stderr)
    return result


def must(result: subprocess.CompletedProcess, what: str, log: str) -> str:
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise StepFailed(f"{what} failed (exit {result.returncode}): {tail[0][:200]} (see {log})")
    return result.stdout


def smoke_ts(ctx: Context, *args: str, key: Optional[str] = None) -> Tuple[int, str]:
    env = {**os.environ, "ZENML_API_KEY": key if key is not None else ctx.state["api_key"]}
    out = subprocess.run(["npm", "run", "--silent", "smoke", "--", "--url", url(ctx), *args], env=env, capture_output=True, text=True, cwd=ROOT)
    return out.returncode, out.stdout + out.stderr


def diff_counts(before: Dict[str, int], after: Dict[str, int]) -> List[str]:
    return [f"{k} {before[k]} -> {after.get(k)}" for k in before if before[k] != after.get(k)]


# ------------------------------------------------------------------ steps

@step("mariadb", 100)
def start_mariadb(ctx: Context) -> None:
    ctx.claim_ports_and_work()
    ctx.state.update(db_password=secrets.token_urlsafe(24), admin_password=secrets.token_urlsafe(24), jwt_key=secrets.token_urlsafe(32), secrets_key=secrets.token_hex(32))
    database = ctx.state["db"] = MariaDB(ctx.work, ctx.db_port)
    ctx.cleanups.append(database.stop)
    database.start()
    ctx.facts["database"] = f"MariaDB {database.version()}"
    # The grants the chart's `database` backup strategy needs: its own schema, created and dropped by ZenML.
    database.sql(f"CREATE DATABASE zenml; CREATE USER 'zenml'@'127.0.0.1' IDENTIFIED BY '{ctx.state['db_password']}'; "
                 f"GRANT ALL ON zenml.* TO 'zenml'@'127.0.0.1'; GRANT ALL ON {BACKUP_DB}.* TO 'zenml'@'127.0.0.1'; "
                 f"GRANT ALL ON {RESTORE_DB}.* TO 'zenml'@'127.0.0.1'; GRANT ALL ON {FAILTEST_DB}.* TO 'zenml'@'127.0.0.1';")


@step("from-server", 110)
def from_server(ctx: Context) -> None:
    if migrate(ctx, ctx.venv_from, "zenml", f"migrate-{ctx.from_version}.log"):
        raise StepFailed(f"zenml {ctx.from_version} migrate-database failed (see {ctx.work}/migrate-{ctx.from_version}.log)")
    start_server(ctx, ctx.venv_from, "zenml", f"server-{ctx.from_version}.log")
    ctx.cleanups.append(lambda: stop_server(ctx))


@step("seed", 120)
def seed(ctx: Context) -> None:
    key_file = ctx.work / "api-key"
    env = {**os.environ, "ZENML_ADMIN_PASSWORD": ctx.state["admin_password"]}
    must(subprocess.run([str(ctx.venv_from / "bin" / "python"), str(ROOT / "rehearsal" / "bootstrap_sa.py"), url(ctx), "admin", "smoke-ci", str(key_file)], env=env, capture_output=True, text=True), "creating the service account", "bootstrap")
    ctx.state["api_key"] = key_file.read_text()
    v = ctx.venv_from
    must(run_client(ctx, v, ["smoke/seed.py", str(ctx.work / "seed.json")], "seed-run.log"), "the seed run", "seed-run.log")
    must(run_client(ctx, v, ["components/registration/register_stack.py", "--spec", "components/registration/example-spec.json"], "seed-stack.log", admin=True), "registering staging's stack (connector + components)", "seed-stack.log")
    must(run_client(ctx, v, ["rehearsal/seed_server.py", "seed", str(ctx.work / "seed-server.json")], "seed-server.log", admin=True), "seeding users, secret and model version", "seed-server.log")
    must(run_client(ctx, v, ["components/post-upgrade/seed_items.py", "--snapshot", "smoke-check", "--template", "smoke-check-template", "--schedule", "smoke-check-nightly", "--build-stack", BUILD_STACK, "--out", str(ctx.work / "seed-items.json")], "seed-items.log", admin=True), "seeding snapshot, run template and schedule", "seed-items.log")
    rc, out = smoke_ts(ctx, "--expect-version", ctx.from_version, "--expect-stack", BUILD_STACK, "--retries", "2", "--backoff-ms", "500")
    (ctx.work / f"smoke-{ctx.from_version}.txt").write_text(out)
    ctx.expect("smoke-before-upgrade", rc == 0, f"TS smoke on {ctx.from_version}: exit {rc}")


@step("counts-before", 130)
def counts_before(ctx: Context) -> None:
    before = counts(ctx, "zenml")
    ctx.facts["counts_before"] = before
    ctx.state["alembic_from"] = alembic_version(ctx, "zenml")
    empty = [k for k, n in before.items() if n == 0]
    ctx.expect("seeded-everything", not empty, f"before the upgrade: {before}" + (f"; nothing seeded for {empty}" if empty else ""))


@step("failing-migration", 140)
def failing_migration(ctx: Context) -> None:
    """A migration that fails after the others ran, on a copy of the seeded database (FROM keeps
    serving the original): the chart's `database` backup must restore every row of every table."""
    if db(ctx).database_exists(BACKUP_DB):
        raise StepFailed(f"{BACKUP_DB} exists before the migration: ZenML would silently reuse it as the backup")
    db(ctx).load(db(ctx).dump("zenml"), rename=("zenml", FAILTEST_DB))
    before = all_table_counts(ctx, FAILTEST_DB)
    rc = migrate(ctx, ctx.venv_to, FAILTEST_DB, "migrate-injected-failure.log", script=ROOT / "rehearsal" / "failing_migrate.py")
    log = (ctx.work / "migrate-injected-failure.log").read_text()
    ctx.expect("injected-migration-fails", rc != 0 and "injected failure" in log, f"exit {rc}; the log {'names' if 'injected failure' in log else 'does not name'} the injected failure")
    restored_said = "successfully restored" in log
    version = alembic_version(ctx, FAILTEST_DB)
    after = all_table_counts(ctx, FAILTEST_DB)
    lost = diff_counts(before, after) + [f"table {t} appeared" for t in after if t not in before]
    ctx.expect("backup-restores-failed-migration", restored_said and version == ctx.state["alembic_from"] and not lost,
               f"strategy database: {'restored' if restored_said else 'NOT restored'}, alembic_version {version} (before {ctx.state['alembic_from']}), " + (f"differs: {lost}" if lost else f"all {len(before)} tables have their rows ({sum(before.values())})"))
    left = db(ctx).database_exists(BACKUP_DB)
    ctx.expect("backup-database-dropped", not left, f"{BACKUP_DB} {'still exists' if left else 'was dropped'} after the restore")
    db(ctx).sql(f"DROP DATABASE `{FAILTEST_DB}`")



@step("upgrade", 200)
def upgrade(ctx: Context) -> None:
    def migrate_to() -> None:
        if migrate(ctx, ctx.venv_to, "zenml", f"migrate-{ctx.to_version}.log"):
            raise StepFailed(f"zenml {ctx.to_version} migrate-database failed (see {ctx.work}/migrate-{ctx.to_version}.log)")

    # The deploys' prober measures the outage, so the rehearsal's figure is the one a real deploy records.
    prober = Prober(ctx, url(ctx))
    timed_upgrade(ctx, None, [
        ("stop_old_server", lambda: stop_server(ctx)),
        # The stand-in for the RDS snapshot the program takes before the Helm upgrade.
        ("backup", lambda: (ctx.work / f"backup-before-{ctx.to_version}.sql").write_bytes(db(ctx).dump("zenml"))),
        ("migration", migrate_to),
        ("start_new_server", lambda: start_server(ctx, ctx.venv_to, "zenml", f"server-{ctx.to_version}.log")),
    ], settle=3)
    prober.wait_for(ctx.to_version)
    down = prober.stop()
    ctx.facts["downtime_seconds"] = down.get("secondsDown")
    ctx.facts["downtime"] = {k: down.get(k) for k in ("secondsDown", "longestOutageSeconds", "probes", "failed", "firstFailure", "lastFailure", "versions")}
    ctx.facts["alembic_version_after"] = alembic_version(ctx, "zenml")
    ctx.expect("downtime-measured", down.get("failed", 0) > 0 and down.get("versions") == [ctx.from_version, ctx.to_version],
               f"prober: API down {down.get('secondsDown')} s ({down.get('failed')} of {down.get('probes')} probes failed), versions seen {down.get('versions')}")
    log = (ctx.work / f"migrate-{ctx.to_version}.log").read_text()
    ctx.expect("migration-used-chart-backup", "Database successfully backed up" in log and BACKUP_DB in log and not db(ctx).database_exists(BACKUP_DB),
               f"backup strategy database into {BACKUP_DB}, dropped after the successful migration")


@step("counts-after", 210)
def counts_after(ctx: Context) -> None:
    after = counts(ctx, "zenml")
    ctx.facts["counts_after"] = after
    lost = diff_counts(ctx.facts["counts_before"], after)
    ctx.expect("counts-equal", not lost, "runs, artifacts, model versions, stacks, components, connectors, users, snapshots, templates, schedules, secrets: " + ("; ".join(lost) if lost else "all equal"))
    out = must(run_client(ctx, ctx.venv_to, ["rehearsal/seed_server.py", "check", str(ctx.work / "seed-server.json")], "check-server.log", admin=True), "reading the seeded secret back", "check-server.log")
    found = json.loads(out.strip().splitlines()[-1])
    ctx.expect("secret-reads-back", found["secret_matches"] is True, f"SQL secrets store, same encryption key: {'same value' if found['secret_matches'] else 'DIFFERENT value'}")
    ctx.expect("users-and-model-version", len(found["users"]) == 2, f"users {found['users']}, model version {found['model_version_id']}")


@step("smoke-after", 220)
def smoke_after(ctx: Context) -> None:
    rc, out = smoke_ts(ctx, "--expect-version", ctx.to_version, "--expect-stack", BUILD_STACK)
    (ctx.work / f"smoke-{ctx.to_version}.txt").write_text(out)
    ctx.expect("ts-smoke", rc == 0, f"TS smoke on {ctx.to_version}: exit {rc}")
    result = run_client(ctx, ctx.venv_to, ["-m", "pytest", "-p", "no:cacheprovider", "-q", "smoke"], f"pytest-{ctx.to_version}.txt",
                        extra={"ZENML_SMOKE_SEED_FILE": str(ctx.work / "seed.json"), "ZENML_SMOKE_EXPECT_VERSION": ctx.to_version, "ZENML_SMOKE_STACK": "default"})
    last = (result.stdout.strip().splitlines() or ["no output"])[-1]
    ctx.expect("pytest-smoke", result.returncode == 0, last)


@step("old-client", 230)
def old_client(ctx: Context) -> None:
    """What a stale CronJob does until it is rebuilt: an old client runs a pipeline on the new server."""
    result = run_client(ctx, ctx.venv_from, ["smoke/seed.py", str(ctx.work / "seed-old-client.json")], "old-client.log")
    ok = result.returncode == 0 and json.loads((ctx.work / "seed-old-client.json").read_text())["server_version"] == ctx.to_version
    ctx.expect("from-client-on-to-server", ok, f"client {ctx.from_version} ran a pipeline on server {ctx.to_version}: exit {result.returncode}")


def job_image_venv(ctx: Context) -> Path:
    """The post-upgrade Job image's locked set for TO (components/post-upgrade/image): what ships."""
    lock = ROOT / "components" / "post-upgrade" / "image" / "locks" / f"zenml-{ctx.to_version}.txt"
    if not lock.exists():
        raise StepFailed(f"{lock.relative_to(ROOT)} is missing: run `npm run lock-images -- --image post-upgrade --version {ctx.to_version}`")
    venv = ctx.cache / "venvs" / f"post-upgrade-image-{ctx.to_version}"
    built = subprocess.run(["bash", str(ROOT / "rehearsal" / "build-venv.sh"), str(venv), str(lock)], capture_output=True, text=True)
    if built.returncode:
        raise StepFailed(f"the Job image's locked set does not install: {built.stderr.strip()[-300:]}")
    return venv


@step("post-upgrade", 240)
def post_upgrade(ctx: Context) -> None:
    """The post-upgrade Job's script, on staging's catalogue, with the TO client on the local stack."""
    bundle = ctx.work / "post-upgrade-bundle"
    made = subprocess.run(["npx", "tsx", "tools/post-upgrade/bundle.ts", "--stack", "staging", "--out", str(bundle)], cwd=ROOT, capture_output=True, text=True)
    if made.returncode:
        raise StepFailed(f"bundling staging's pipeline catalogue failed: {made.stderr.strip()[:200]}")
    report_file = ctx.work / "post-upgrade-report.json"
    result = run_client(ctx, job_image_venv(ctx), ["components/post-upgrade/post_upgrade.py", "--catalogue", str(bundle / "catalogue.json"), "--sources", str(bundle / "sources.json"), "--stack", "default",
                                           "--workdir", str(ctx.work), "--register-builds", BUILD_STACK, "--report", str(report_file)], "post-upgrade.log", admin=True)
    if not report_file.exists():
        raise StepFailed(f"post_upgrade.py wrote no report (exit {result.returncode}, see {ctx.work / 'post-upgrade.log'})")
    report = json.loads(report_file.read_text())
    ctx.facts["post_upgrade"] = {"ok": report["ok"], "stale_before": report.get("stale_before"), "seconds": report["seconds"], "entries": [{k: e.get(k) for k in ("entry", "old_client_version", "new_client_version", "status", "seconds")} for e in report["entries"]]}
    inv = report.get("inventory", {})
    stale = sorted(f"{i['kind']}:{i['name']}" for items in inv.values() for i in items if i["stale"] and i["client_version"] == ctx.from_version)
    want = ["run_template:smoke-check-template", "schedule:smoke-check-nightly", "snapshot:smoke-check", "snapshot:smoke-check-template"]
    ctx.expect("post-upgrade-finds-stale", all(w in stale for w in want), f"stale (client {ctx.from_version}): {stale}")
    for entry in report["entries"]:
        for c in entry["checks"]:
            # staging-only checks are carried over as they are: a cluster proves them, not this run.
            ctx.check(f"post-upgrade:{entry['entry']}:{c['name']}", c["status"], c["detail"])
    ctx.expect("post-upgrade-report", report["ok"] is True and result.returncode == 0, f"exit {result.returncode}, {len(report['entries'])} entr{'y' if len(report['entries']) == 1 else 'ies'}, {len(report['unowned_stale'])} unowned stale, nothing stale left: {not report.get('stale_after_owned')}")


@step("adoption", 250)
def adoption(ctx: Context) -> None:
    """The KPIs' adoption on this real server: runs by the old client count as not adopted, the new one's as adopted."""
    check_adoption(ctx, url(ctx), db(ctx))


@step("negative-checks", 300)
def negative_checks(ctx: Context) -> None:
    def neg(name: str, want: str, *args: str, key: Optional[str] = None) -> None:
        rc, out = smoke_ts(ctx, *args, key=key)
        (ctx.work / f"neg-{name}.txt").write_text(out)
        if rc == 0:
            ctx.check(name, "fail", "smoke passed but must fail")
        elif want not in out:
            ctx.check(name, "fail", f"exit {rc} but no reason {want!r}")
        elif ctx.state["api_key"] in out:
            ctx.check(name, "fail", "the API key was printed")
        else:
            ctx.check(name, "pass", f"exit {rc}: {next(line.strip() for line in out.splitlines() if want in line)}")

    neg("negative-wrong-version", f"FAILED at info: version is {ctx.to_version}, expected {ctx.from_version}", "--expect-version", ctx.from_version, "--retries", "1", "--backoff-ms", "200")
    neg("negative-bad-key", "FAILED at login: HTTP 401", "--expect-version", ctx.to_version, "--retries", "1", "--backoff-ms", "200", key="ZENML-not-a-key")
    stop_server(ctx)
    neg("negative-server-down", "FAILED at health: connection refused", "--expect-version", ctx.to_version, "--retries", "2", "--backoff-ms", "200")


@step("rollback-restore", 400)
def rollback_restore(ctx: Context) -> None:
    """Rollback = restore the pre-upgrade backup into a new database and pin FROM again."""
    db(ctx).load((ctx.work / f"backup-before-{ctx.to_version}.sql").read_bytes(), rename=("zenml", RESTORE_DB))
    version = alembic_version(ctx, RESTORE_DB)
    lost = diff_counts(ctx.facts["counts_before"], counts(ctx, RESTORE_DB))
    ctx.expect("restore-data", version == ctx.state["alembic_from"] and not lost, f"alembic_version {version} (want {ctx.state['alembic_from']}); " + (f"differs: {lost}" if lost else "counts equal to before the upgrade"))
    start_server(ctx, ctx.venv_from, RESTORE_DB, f"server-{ctx.from_version}-restored.log")
    rc, _ = smoke_ts(ctx, "--expect-version", ctx.from_version, "--retries", "2", "--backoff-ms", "500")
    ctx.expect("rollback-serves", rc == 0, f"{ctx.from_version} serves the restored database: exit {rc}")
    stop_server(ctx)


@step("cluster-only", 800, always=True)
def cluster_only(ctx: Context) -> None:
    """What the rehearsal cannot prove without a cluster, said as such (never as passed)."""
    ctx.check("cronjob-image", "staging-only", "a re-created schedule's CronJob runs the new build's image: post-upgrade Job on staging (post-upgrade:wait)")
    ctx.check("image-build", "staging-only", "snapshots re-built through CodeBuild with the new client's parent image: post-upgrade Job on staging")
    ctx.check("helm-hook-migration", "staging-only", "the chart's migration hook Job with backupStrategy database on RDS: pulumi up on staging")
