"""The ZenML upgrade rehearsal's steps: FROM -> TO on a private MariaDB, as the Helm chart does it.

Server and migration processes get the chart's environment: migrations only in the migration
"job" (`zenml migrate-database`), the `database` backup strategy into `zenml_backup`, a SQL
secrets store with an encryption key. What only a cluster proves is reported `staging-only`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from driver import ROOT, Context, StepFailed, step

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


# ------------------------------------------------------------------ helpers

def url(ctx: Context) -> str:
    return f"http://127.0.0.1:{ctx.server_port}"


def sql(ctx: Context, query: str) -> str:
    out = subprocess.run(["mariadb", "--no-defaults", "-S", str(ctx.state["sock"]), "-uroot", "-N", "-B", "-e", query], capture_output=True, text=True)
    if out.returncode != 0:
        raise StepFailed(f"SQL failed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else query}")
    return out.stdout.strip()


def database_exists(ctx: Context, name: str) -> bool:
    return sql(ctx, f"SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name='{name}'") == "1"


def counts(ctx: Context, db: str) -> Dict[str, int]:
    return {kind: int(sql(ctx, f"SELECT COUNT(*) FROM `{db}`.`{table}`")) for kind, table in COUNTED.items()}


def all_table_counts(ctx: Context, db: str) -> Dict[str, int]:
    """Rows of every table of a schema: "nothing lost" means all of them, not only the counted kinds."""
    tables = sql(ctx, f"SELECT table_name FROM information_schema.tables WHERE table_schema='{db}' AND table_type='BASE TABLE' ORDER BY table_name").split()
    return {t: int(sql(ctx, f"SELECT COUNT(*) FROM `{db}`.`{t}`")) for t in tables}


def dump(ctx: Context, db: str) -> bytes:
    out = subprocess.run(["mariadb-dump", "--no-defaults", "-S", str(ctx.state["sock"]), "-uroot", "--single-transaction", "--routines", "--triggers", "--databases", db], capture_output=True)
    if out.returncode:
        raise StepFailed(f"mariadb-dump of {db} failed: {out.stderr.decode(errors='replace').strip()[:200]}")
    return out.stdout


def load_as(ctx: Context, data: bytes, source: str, target: str) -> None:
    """Loads a dump of `source` into a new schema `target` (bytes: the dump holds binary columns)."""
    data = data.replace(f"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `{source}`".encode(), f"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `{target}`".encode()).replace(f"USE `{source}`;".encode(), f"USE `{target}`;".encode())
    loaded = subprocess.run(["mariadb", "--no-defaults", "-S", str(ctx.state["sock"]), "-uroot"], input=data, capture_output=True)
    if loaded.returncode:
        raise StepFailed(f"loading the dump into {target} failed: {loaded.stderr.decode(errors='replace').strip()[:200]}")


def alembic_version(ctx: Context, db: str) -> str:
    return sql(ctx, f"SELECT version_num FROM `{db}`.alembic_version")


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def base_env(ctx: Context, venv: Path, config_dir: str) -> Dict[str, str]:
    return {
        "PATH": f"{venv}/bin:/usr/bin:/bin",
        "HOME": str(ctx.work),
        "LANG": "C.UTF-8",
        "ZENML_CONFIG_PATH": str(ctx.work / config_dir),
        "ZENML_LOCAL_STORES_PATH": str(ctx.work / "artifacts"),
        "ZENML_ANALYTICS_OPT_IN": "false",
    }


def server_env(ctx: Context, venv: Path, db: str, role: str) -> Dict[str, str]:
    """The environment the chart gives the server pods and the migration job."""
    s = ctx.state
    return {
        **base_env(ctx, venv, f"cfg-{role}-{venv.name}"),
        "ZENML_LOGGING_VERBOSITY": "INFO",
        "ZENML_STORE_URL": f"mysql://zenml:{s['db_password']}@127.0.0.1:{ctx.db_port}/{db}",
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


def migrate(ctx: Context, venv: Path, db: str, log: str, script: Optional[Path] = None) -> int:
    cmd = [str(venv / "bin" / "python"), str(script)] if script else [str(venv / "bin" / "zenml"), "migrate-database"]
    with open(ctx.work / log, "w") as f:
        return subprocess.run(cmd, env=server_env(ctx, venv, db, "migrate"), stdout=f, stderr=subprocess.STDOUT).returncode


def start_server(ctx: Context, venv: Path, db: str, log: str, timeout: float = 180) -> None:
    env = {**server_env(ctx, venv, db, "server"), "ZENML_DISABLE_DATABASE_MIGRATION": "true"}
    f = open(ctx.work / log, "w")
    proc = subprocess.Popen([str(venv / "bin" / "uvicorn"), "zenml.zen_server.zen_server_api:app", "--host", "127.0.0.1", "--port", str(ctx.server_port), "--log-level", "warning"], env=env, stdout=f, stderr=subprocess.STDOUT)
    ctx.state["server"] = (proc, f)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if healthy(ctx):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    raise StepFailed(f"server {venv.name} on {db} did not become healthy (see {ctx.work / log})")


def stop_server(ctx: Context) -> None:
    server = ctx.state.pop("server", None)
    if not server:
        return
    proc, f = server
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    f.close()
    if not port_free(ctx.server_port):
        raise StepFailed(f"port {ctx.server_port} still answers after stopping the server")


def healthy(ctx: Context) -> bool:
    try:
        with urllib.request.urlopen(f"{url(ctx)}/health", timeout=1) as r:
            return r.status == 200
    except Exception:  # refused, reset, half-started server: all "not healthy"
        return False


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
    for port, var in ((ctx.db_port, "DB_PORT"), (ctx.server_port, "SERVER_PORT")):
        if not port_free(port):
            raise StepFailed(f"port {port} ({var}) is in use on 127.0.0.1")
    shutil.rmtree(ctx.work, ignore_errors=True)
    (ctx.work / "db").mkdir(parents=True)
    os.chmod(ctx.work, 0o700)
    s = ctx.state
    s.update(db_password=secrets.token_urlsafe(24), admin_password=secrets.token_urlsafe(24), jwt_key=secrets.token_urlsafe(32), secrets_key=secrets.token_hex(32), sock=ctx.work / "db" / "mysql.sock")
    user = os.environ.get("USER") or subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
    datadir = ctx.work / "db" / "data"
    with open(ctx.work / "db-install.log", "w") as f:
        if subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={datadir}", f"--user={user}", "--auth-root-authentication-method=socket", "--skip-test-db"], stdout=f, stderr=subprocess.STDOUT).returncode:
            raise StepFailed(f"mariadb-install-db failed (see {ctx.work / 'db-install.log'})")
    proc = subprocess.Popen(["mariadbd", "--no-defaults", f"--datadir={datadir}", f"--socket={s['sock']}", f"--port={ctx.db_port}", "--bind-address=127.0.0.1", f"--user={user}", f"--pid-file={ctx.work / 'db' / 'mysqld.pid'}", f"--log-error={ctx.work / 'db' / 'error.log'}", "--skip-name-resolve"])
    ctx.cleanups.append(lambda: (proc.terminate(), proc.wait(timeout=60)))
    for _ in range(120):
        try:
            sql(ctx, "SELECT 1")
            break
        except StepFailed:
            time.sleep(0.5)
    ctx.facts["database"] = f"MariaDB {sql(ctx, 'SELECT VERSION()')}"
    # The grants the chart's `database` backup strategy needs: its own schema, created and dropped by ZenML.
    sql(ctx, f"CREATE DATABASE zenml; CREATE USER 'zenml'@'127.0.0.1' IDENTIFIED BY '{s['db_password']}'; "
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
    if database_exists(ctx, BACKUP_DB):
        raise StepFailed(f"{BACKUP_DB} exists before the migration: ZenML would silently reuse it as the backup")
    load_as(ctx, dump(ctx, "zenml"), "zenml", FAILTEST_DB)
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
    ctx.expect("backup-database-dropped", not database_exists(ctx, BACKUP_DB), f"{BACKUP_DB} {'still exists' if database_exists(ctx, BACKUP_DB) else 'was dropped'} after the restore")
    sql(ctx, f"DROP DATABASE `{FAILTEST_DB}`")


class Prober:
    """The deploys' downtime prober (tools/prober), beside the local upgrade: one measure for both."""

    def __init__(self, ctx: Context) -> None:
        self.out = ctx.work / "downtime.json"
        cmd = ["node", "--require", "./tools/loader/register.cjs", "tools/prober/cli.ts", "--url", url(ctx), "--out", str(self.out)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(ctx.work / "prober.log", "w"))
        ctx.cleanups.append(lambda: self.proc.poll() is None and self.proc.kill())

    def wait_for(self, version: str, timeout: float = 60) -> None:
        """Until a probe found the server up on `version`: the outage ends when the prober says so."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if version in json.loads(self.out.read_text()).get("versions", []):
                    return
            except (OSError, ValueError):
                pass  # not written yet, or caught mid-rename
            time.sleep(0.5)

    def stop(self) -> Dict[str, Any]:
        self.proc.terminate()  # SIGTERM: the prober writes its last summary and exits
        self.proc.wait(timeout=30)
        return json.loads(self.out.read_text()) if self.out.exists() else {}


@step("upgrade", 200)
def upgrade(ctx: Context) -> None:
    prober = Prober(ctx)
    time.sleep(3)
    t0 = time.monotonic()
    stop_server(ctx)
    t1 = time.monotonic()
    # The stand-in for the RDS snapshot the program takes before the Helm upgrade.
    (ctx.work / f"backup-before-{ctx.to_version}.sql").write_bytes(dump(ctx, "zenml"))
    t2 = time.monotonic()
    if migrate(ctx, ctx.venv_to, "zenml", f"migrate-{ctx.to_version}.log"):
        raise StepFailed(f"zenml {ctx.to_version} migrate-database failed (see {ctx.work}/migrate-{ctx.to_version}.log)")
    t3 = time.monotonic()
    start_server(ctx, ctx.venv_to, "zenml", f"server-{ctx.to_version}.log")
    t4 = time.monotonic()
    prober.wait_for(ctx.to_version)
    down = prober.stop()
    ctx.phases.update(stop_old_server=round(t1 - t0, 1), backup=round(t2 - t1, 1), migration=round(t3 - t2, 1), start_new_server=round(t4 - t3, 1))
    ctx.facts["downtime_seconds"] = down.get("secondsDown")
    ctx.facts["downtime"] = {k: down.get(k) for k in ("secondsDown", "longestOutageSeconds", "probes", "failed", "firstFailure", "lastFailure", "versions")}
    ctx.facts["alembic_version_after"] = alembic_version(ctx, "zenml")
    ctx.expect("downtime-measured", down.get("failed", 0) > 0 and down.get("versions") == [ctx.from_version, ctx.to_version],
               f"prober: API down {down.get('secondsDown')} s ({down.get('failed')} of {down.get('probes')} probes failed), versions seen {down.get('versions')}")
    log = (ctx.work / f"migrate-{ctx.to_version}.log").read_text()
    ctx.expect("migration-used-chart-backup", "Database successfully backed up" in log and BACKUP_DB in log and not database_exists(ctx, BACKUP_DB),
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


@step("post-upgrade", 240)
def post_upgrade(ctx: Context) -> None:
    """The post-upgrade Job's script, on staging's catalogue, with the TO client on the local stack."""
    bundle = ctx.work / "post-upgrade-bundle"
    made = subprocess.run(["npx", "tsx", "tools/post-upgrade/bundle.ts", "--stack", "staging", "--out", str(bundle)], cwd=ROOT, capture_output=True, text=True)
    if made.returncode:
        raise StepFailed(f"bundling staging's pipeline catalogue failed: {made.stderr.strip()[:200]}")
    report_file = ctx.work / "post-upgrade-report.json"
    result = run_client(ctx, ctx.venv_to, ["components/post-upgrade/post_upgrade.py", "--catalogue", str(bundle / "catalogue.json"), "--sources", str(bundle / "sources.json"), "--stack", "default",
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
    # This upgrade's deploy record, as a deploy writes it (the prober's summary in it), so the KPIs place the week.
    records = ctx.work / "records"
    records.mkdir(exist_ok=True)
    record = subprocess.run(["npm", "run", "--silent", "deploy-record", "--", "--stack", "staging", "--sha", "0" * 40, "--from", ctx.from_version, "--to", ctx.to_version,
                             "--check", "up=success", "--downtime", str(ctx.work / "downtime.json"), "--out", str(records / "rehearsal.json")], capture_output=True, text=True, cwd=ROOT, env={**os.environ, "GITHUB_STEP_SUMMARY": ""})
    if record.returncode:
        raise StepFailed(f"deploy-record failed (exit {record.returncode}): {(record.stderr.strip().splitlines() or ['no output'])[-1][:200]}")
    env = {**os.environ, "ZENML_API_KEY": ctx.state["api_key"]}
    kpis = ["npm", "run", "--silent", "upgrade-kpis", "--", "--stack", "staging", "--records", str(records), "--server-url", url(ctx), "--no-release-dates"]
    (ctx.work / "upgrade-kpis.txt").write_text(subprocess.run(kpis, env=env, capture_output=True, text=True, cwd=ROOT).stdout)
    out = subprocess.run([*kpis, "--json"], env=env, capture_output=True, text=True, cwd=ROOT)
    (ctx.work / "upgrade-kpis.json").write_text(out.stdout + out.stderr)
    if out.returncode:
        raise StepFailed(f"upgrade-kpis failed (exit {out.returncode}): {(out.stderr.strip().splitlines() or ['no output'])[-1][:200]}")
    a = json.loads(out.stdout)["adoption"]
    # What the database says each run's client was (the run's own environment, or its snapshot's).
    by_version = dict(line.split("\t") for line in sql(ctx, "SELECT COALESCE(JSON_VALUE(s.client_environment, '$.zenml_version'), JSON_VALUE(r.client_environment, '$.zenml_version'), 'unknown'), COUNT(*) "
                                                            "FROM zenml.pipeline_run r LEFT JOIN zenml.pipeline_snapshot s ON r.snapshot_id = s.id GROUP BY 1").splitlines())
    ctx.facts["adoption"] = {k: a[k] for k in ("serverVersion", "runs", "runsOnServerVersion", "shareOfRuns", "usersActive", "usersAdopted", "users")}
    ctx.facts["kpi_report"] = str(ctx.work / "upgrade-kpis.txt")
    new, old = int(by_version.get(ctx.to_version, 0)), int(by_version.get(ctx.from_version, 0))
    ctx.expect("adoption-new-client-adopted", a["serverVersion"] == ctx.to_version and a["runsOnServerVersion"] == new > 0, f"{a['runsOnServerVersion']} run(s) counted on {ctx.to_version}; the database has {new} by a {ctx.to_version} client")
    ctx.expect("adoption-old-client-not-adopted", a["runs"] - a["runsOnServerVersion"] == sum(int(n) for v, n in by_version.items() if v != ctx.to_version) and old > 0,
               f"{a['runs'] - a['runsOnServerVersion']} run(s) counted as not adopted; the database has {old} by a {ctx.from_version} client, by version {by_version}")


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
    load_as(ctx, (ctx.work / f"backup-before-{ctx.to_version}.sql").read_bytes(), "zenml", RESTORE_DB)
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
