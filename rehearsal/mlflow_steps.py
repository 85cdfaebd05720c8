"""MLflow upgrade rehearsal on real servers: MLflow FROM -> TO (PyPI) on a private MariaDB, in the
order the platform enforces (stop, back up, migrate with the new version, start the new server),
then every seeded entity read back, an older client against the new server, and the backup
restored under FROM. Steps are plain functions over one context, so a driver can run them.

    python3 rehearsal/mlflow_steps.py        (env MLFLOW_FROM / MLFLOW_TO / MLFLOW_DB_PORT / MLFLOW_SERVER_PORT)

Writes .cache/rehearsal/mlflow-report.json: from_version, to_version, downtime_seconds,
phases_seconds.migration, memory_mib (server PSS per check), ok, checks [{name, status, detail}],
steps_seconds.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from base64 import b64encode
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pins

ROOT = Path(__file__).resolve().parent.parent
IMAGE_DIR = ROOT / "components" / "mlflow" / "image"
# The Deployment's start script and container resources: the rehearsal runs and measures the same.
SERVE_SCRIPT = IMAGE_DIR / "serve.sh"
SERVER_RESOURCES = IMAGE_DIR / "server-resources.json"
# A real pair across a major (2 -> 3) whose tracking and auth schemas both migrate; override with env.
DEFAULT_FROM = "2.22.5"
DEFAULT_TO = "3.17.2"


class StepFailed(Exception):
    pass


@dataclass
class Context:
    from_version: str
    to_version: str
    db_port: int
    server_port: int
    work: Path
    venvs: Path
    report_path: Path
    db_password: str = field(default_factory=lambda: secrets.token_urlsafe(18).replace("-", "a").replace("_", "b"))
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(18).replace("-", "a").replace("_", "b"))
    master_password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    checks: list[dict] = field(default_factory=list)
    steps_seconds: dict[str, float] = field(default_factory=dict)
    phases_seconds: dict[str, float] = field(default_factory=dict)
    downtime_seconds: float | None = None
    memory_mib: dict[str, float] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    venv: dict[str, Path] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"

    @property
    def socket(self) -> Path:
        return self.work / "db" / "mysql.sock"

    def db_uri(self, db: str) -> str:
        # The same URI shape as the platform's: PyMySQL, TLS requested when the server offers it.
        return f"mysql+pymysql://mlflow:{self.db_password}@127.0.0.1:{self.db_port}/{db}?ssl_check_hostname=false"

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append({"name": name, "status": "pass" if ok else "fail", "detail": detail})
        log(f"check {name}: {'pass' if ok else 'FAIL'} ({detail})")


T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[mlflow-rehearsal {time.monotonic() - T0:6.1f}s] {msg}", flush=True)


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def run(cmd: list[str], log_file: Path, env: dict | None = None, timeout: float = 600) -> None:
    with open(log_file, "ab") as out:
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, timeout=timeout)
    if proc.returncode != 0:
        tail = log_file.read_text(errors="replace").splitlines()[-15:]
        raise StepFailed(f"{' '.join(cmd[:3])}... exited {proc.returncode} (log {log_file}):\n  " + "\n  ".join(tail))


def sql(ctx: Context, statement: str) -> str:
    out = subprocess.run(["mariadb", "--no-defaults", "-S", str(ctx.socket), "-uroot", "-N", "-B", "-e", statement], capture_output=True, text=True)
    if out.returncode != 0:
        raise StepFailed(f"SQL failed: {out.stderr.strip()}")
    return out.stdout.strip()


# ---------------------------------------------------------------- steps

def step_prerequisites(ctx: Context) -> None:
    for port, key in ((ctx.db_port, "MLFLOW_DB_PORT"), (ctx.server_port, "MLFLOW_SERVER_PORT")):
        if not port_free(port):
            raise StepFailed(f"port {port} ({key}) is in use on 127.0.0.1")
    if not shutil.which("mariadbd") or not shutil.which("mariadb-dump"):
        log("installing MariaDB from Debian")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "mariadb-server", "mariadb-client"]):
            if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode != 0:
                raise StepFailed(f"{' '.join(cmd)} failed: MariaDB cannot be had from Debian")


def ensure_venv(ctx: Context, version: str) -> Path:
    """A venv with exactly the image's requirements (components/mlflow/image/requirements.txt) for this version."""
    reqs = (IMAGE_DIR / "requirements.txt").read_text().replace("${MLFLOW_VERSION}", version)
    venv = ctx.venvs / f"mlflow-{version}"
    # One venv builder for every rehearsal (uv, cached, rebuilt when the requirements change).
    ctx.venvs.mkdir(parents=True, exist_ok=True)
    reqs_file = ctx.venvs / f"mlflow-{version}.requirements.txt"
    reqs_file.write_text(reqs)
    logf = ctx.work.parent / f"venv-{version}.log"
    run(["bash", str(Path(__file__).resolve().parent / "build-venv.sh"), str(venv), str(reqs_file)], logf)
    got = subprocess.run([str(venv / "bin" / "python"), "-c", "import mlflow, pymysql, boto3; print(mlflow.__version__)"], capture_output=True, text=True)
    if got.stdout.strip() != version:
        (venv / ".ok").unlink(missing_ok=True)
        raise StepFailed(f"{venv} does not import mlflow {version} with its drivers: {got.stdout.strip() or got.stderr.strip()[-300:]}")
    return venv


def step_venvs(ctx: Context) -> None:
    ctx.venv["from"] = ensure_venv(ctx, ctx.from_version)
    ctx.venv["to"] = ensure_venv(ctx, ctx.to_version)


def step_database(ctx: Context) -> None:
    db = ctx.work / "db"
    db.mkdir(parents=True)
    user = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
    run(["mariadb-install-db", "--no-defaults", f"--datadir={db / 'data'}", f"--user={user}", "--auth-root-authentication-method=socket", "--skip-test-db"], ctx.work / "db-install.log")
    ctx.processes["mariadb"] = subprocess.Popen(
        ["mariadbd", "--no-defaults", f"--datadir={db / 'data'}", f"--socket={ctx.socket}", f"--port={ctx.db_port}", "--bind-address=127.0.0.1", f"--user={user}", f"--pid-file={db / 'mysqld.pid'}", f"--log-error={db / 'error.log'}", "--skip-name-resolve"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    for _ in range(120):
        if subprocess.run(["mariadb", "--no-defaults", "-S", str(ctx.socket), "-uroot", "-e", "select 1"], capture_output=True).returncode == 0:
            break
        time.sleep(0.25)
    else:
        raise StepFailed(f"MariaDB did not start (see {db / 'error.log'})")
    # A master user like RDS's; the platform's bootstrap script creates MLflow's user and databases with it.
    sql(ctx, f"CREATE USER 'master'@'127.0.0.1' IDENTIFIED BY '{ctx.master_password}'; GRANT ALL ON *.* TO 'master'@'127.0.0.1' WITH GRANT OPTION;")
    env = {**os.environ, "DB_HOST": "127.0.0.1", "DB_PORT": str(ctx.db_port), "DB_MASTER_USER": "master", "DB_MASTER_PASSWORD": ctx.master_password,
           "MLFLOW_DB_USER": "mlflow", "MLFLOW_DB_PASSWORD": ctx.db_password, "MLFLOW_DATABASES": "mlflow,mlflow_auth"}
    run([str(ctx.venv["from"] / "bin" / "python"), str(IMAGE_DIR / "bootstrap_db.py")], ctx.work / "bootstrap.log", env=env)
    log(f"MariaDB {sql(ctx, 'select version()')} on 127.0.0.1:{ctx.db_port}, mlflow user bootstrapped")


def migrate(ctx: Context, which: str) -> float:
    """The migration Job's command (components/mlflow/image/migrate.py) with one version; returns seconds."""
    env = {**os.environ, "MLFLOW_BACKEND_STORE_URI": ctx.db_uri("mlflow"), "MLFLOW_AUTH_DATABASE_URI": ctx.db_uri("mlflow_auth")}
    t = time.monotonic()
    run([str(ctx.venv[which] / "bin" / "python"), str(IMAGE_DIR / "migrate.py")], ctx.work / f"migrate-{which}.log", env=env)
    return time.monotonic() - t


def auth_ini(ctx: Context) -> Path:
    path = ctx.work / "basic_auth.ini"
    path.write_text(
        "[mlflow]\ndefault_permission = READ\n"
        f"database_uri = {ctx.db_uri('mlflow_auth')}\nadmin_username = admin\nadmin_password = {ctx.admin_password}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    path.chmod(0o600)
    return path


def start_server(ctx: Context, which: str) -> None:
    """The server as the Deployment runs it (its serve.sh): basic-auth app, proxied artifacts, no migration."""
    venv = ctx.venv[which]
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(ctx.work), "LANG": "C.UTF-8",
           "MLFLOW_AUTH_CONFIG_PATH": str(auth_ini(ctx)), "MLFLOW_FLASK_SERVER_SECRET_KEY": "rehearsal-" + ctx.admin_password,
           "MLFLOW_SERVER_ALLOWED_HOSTS": f"127.0.0.1:{ctx.server_port},localhost:{ctx.server_port}",
           "MLFLOW_BACKEND_STORE_URI": ctx.db_uri("mlflow"), "MLFLOW_ARTIFACTS_DESTINATION": f"file://{ctx.work / 'artifacts'}"}
    cmd = ["sh", str(SERVE_SCRIPT), "127.0.0.1", str(ctx.server_port)]
    logf = open(ctx.work / f"server-{which}.log", "ab")
    ctx.processes["server"] = subprocess.Popen(cmd, env=env, stdout=logf, stderr=subprocess.STDOUT, cwd=ctx.work, start_new_session=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if http(ctx, "/health")[0] == 200:
            return
        if ctx.processes["server"].poll() is not None:
            break
        time.sleep(0.2)
    raise StepFailed(f"MLflow {which} server did not become healthy (see {ctx.work / f'server-{which}.log'})")


def stop(ctx: Context, name: str) -> None:
    proc = ctx.processes.pop(name, None)
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)  # the group this script started: the server and its workers
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def http(ctx: Context, path: str, auth: tuple[str, str] | None = None, timeout: float = 15) -> tuple[int, str]:
    req = urllib.request.Request(ctx.url + path)
    if auth:
        req.add_header("Authorization", "Basic " + b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")
    except (urllib.error.URLError, OSError):
        return 0, ""


def client(ctx: Context, which: str, mode: str, state: Path) -> dict:
    env = {"PATH": f"{ctx.venv[which] / 'bin'}:/usr/bin:/bin", "HOME": str(ctx.work), "LANG": "C.UTF-8", "MLFLOW_TRACKING_URI": ctx.url,
           "MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": ctx.admin_password, "GIT_PYTHON_REFRESH": "quiet"}
    out = subprocess.run([str(ctx.venv[which] / "bin" / "python"), str(ROOT / "rehearsal" / "mlflow_client.py"), mode, str(state)], env=env, capture_output=True, text=True, timeout=300)
    with open(ctx.work / f"client-{which}-{mode}.log", "a") as f:
        f.write(out.stdout + out.stderr)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"ok": False, "differences": [f"client crashed: {out.stderr.strip()[-400:]}"]}


def ts_smoke(ctx: Context, version: str, label: str, expect_run: str | None = None) -> None:
    """The deploy's own MLflow smoke (npm run smoke:mlflow) against this real server."""
    env = {**os.environ, "MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": ctx.admin_password}
    cmd = ["npm", "run", "--silent", "smoke:mlflow", "--", "--url", ctx.url, "--expect-version", version, "--json", "--retries", "2", "--timeout", "30"]
    if expect_run:
        cmd += ["--expect-run", expect_run]
    out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    (ctx.work / f"smoke-{label}.json").write_text(out.stdout + out.stderr)
    try:
        steps = json.loads(out.stdout)["steps"]
        detail = "; ".join(f"{s['name']} {s['status']}" + (f": {s['detail']}" if s["status"] == "fail" or s["name"] == "earlier-run" else "") for s in steps)
    except (json.JSONDecodeError, KeyError):
        detail = (out.stderr or out.stdout).strip()[-300:]
    ctx.check(f"mlflow-smoke-{label}", out.returncode == 0, detail)


def check_server(ctx: Context, which: str, label: str) -> None:
    version = ctx.from_version if which == "from" else ctx.to_version
    status, body = http(ctx, "/version", ("admin", ctx.admin_password))
    ctx.check(f"mlflow-version-{label}", status == 200 and body.strip() == version, f"/version answered {status} {body.strip()[:40]!r}, expected {version}")
    anon = http(ctx, "/api/2.0/mlflow/experiments/search?max_results=1")[0]
    wrong = http(ctx, "/api/2.0/mlflow/experiments/search?max_results=1", ("admin", "wrong-" + ctx.admin_password))[0]
    good = http(ctx, "/api/2.0/mlflow/experiments/search?max_results=1", ("admin", ctx.admin_password))[0]
    ctx.check(f"mlflow-auth-{label}", (anon, wrong, good) == (401, 401, 200), f"anonymous {anon}, wrong password {wrong}, admin {good} (want 401, 401, 200)")


def quantity_mib(quantity: str) -> float:
    """A Kubernetes memory quantity (512Mi, 1Gi, 1G, bytes) in MiB."""
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
    for suffix in sorted(units, key=len, reverse=True):
        if quantity.endswith(suffix):
            return float(quantity[: -len(suffix)]) * units[suffix] / 2**20
    return float(quantity) / 2**20


def group_pss_mib(pgid: int) -> tuple[float, int]:
    """Proportional set size of every process in a group (shared pages counted once, as the pod's
    memory cgroup does), and how many processes there are."""
    total_kib, count = 0, 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if int((proc / "stat").read_text().rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            total_kib += sum(int(line.split()[1]) for line in (proc / "smaps_rollup").read_text().splitlines() if line.startswith("Pss:"))
            count += 1
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return total_kib / 1024, count


def check_memory(ctx: Context, which: str, label: str) -> None:
    """The server, after serving the clients, fits the memory limit its pod gets."""
    version = ctx.from_version if which == "from" else ctx.to_version
    limit_text = json.loads(SERVER_RESOURCES.read_text())["limits"]["memory"]
    limit = quantity_mib(limit_text)
    pss, count = group_pss_mib(ctx.processes["server"].pid)
    ctx.memory_mib[label] = round(pss)
    ctx.check(f"mlflow-memory-{label}", 0 < pss <= limit,
              f"MLflow {version}: {count} processes, {pss:.0f} MiB (PSS) against the pod's limit {limit_text} ({limit:.0f} MiB, {SERVER_RESOURCES.name})")


def step_install_from(ctx: Context) -> None:
    ctx.phases_seconds["first_migration"] = round(migrate(ctx, "from"), 1)
    start_server(ctx, "from")
    check_server(ctx, "from", "before-upgrade")


def step_seed(ctx: Context) -> None:
    result = client(ctx, "from", "seed", ctx.work / "state.json")
    if not result.get("ok"):
        raise StepFailed(f"seeding on {ctx.from_version} failed: {result}")
    shutil.copy(ctx.work / "state.json", ctx.work / "state-seeded.json")
    log(f"seeded on {ctx.from_version}: {result}")
    ts_smoke(ctx, ctx.from_version, "before-upgrade")
    check_memory(ctx, "from", "before-upgrade")


class HealthPoller(threading.Thread):
    """Polls /health every 100 ms; downtime = last good answer of FROM to first good answer of TO."""

    def __init__(self, ctx: Context):
        super().__init__(daemon=True)
        self.ctx, self.samples, self.stopped = ctx, [], threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.samples.append((time.monotonic(), http(self.ctx, "/health", timeout=1)[0] == 200))
            time.sleep(0.1)

    def downtime(self) -> float | None:
        downs = [i for i, (_, up) in enumerate(self.samples) if not up]
        if not downs:
            return None
        first_down, last_down = downs[0], downs[-1]
        start = self.samples[first_down - 1][0] if first_down > 0 else self.samples[0][0]
        end = self.samples[last_down + 1][0] if last_down + 1 < len(self.samples) else None
        return None if end is None else end - start


def step_upgrade(ctx: Context) -> None:
    poller = HealthPoller(ctx)
    poller.start()
    time.sleep(0.5)
    t = time.monotonic()
    stop(ctx, "server")  # 1. scale to zero
    tb = time.monotonic()
    backup = ctx.work / "backup.sql"  # 2. the pre-upgrade snapshot's stand-in
    with open(backup, "wb") as out:
        if subprocess.run(["mariadb-dump", "--no-defaults", "-S", str(ctx.socket), "-uroot", "--single-transaction", "--routines", "--databases", "mlflow", "mlflow_auth"], stdout=out).returncode != 0:
            raise StepFailed("mariadb-dump failed")
    ctx.phases_seconds["backup"] = round(time.monotonic() - tb, 1)
    ctx.phases_seconds["migration"] = round(migrate(ctx, "to"), 1)  # 3. the migration Job, new version
    start_server(ctx, "to")  # 4. the new server
    ctx.phases_seconds["upgrade_total"] = round(time.monotonic() - t, 1)
    time.sleep(0.5)
    poller.stopped.set()
    poller.join()
    ctx.downtime_seconds = round(poller.downtime() or (time.monotonic() - t), 1)
    log(f"upgraded {ctx.from_version} -> {ctx.to_version}: migration {ctx.phases_seconds['migration']}s, downtime {ctx.downtime_seconds}s")


def step_verify_upgraded(ctx: Context) -> None:
    check_server(ctx, "to", "after-upgrade")
    state = ctx.work / "state.json"
    # As a deploy runs it: the smoke run recorded on FROM must read back on TO.
    ts_smoke(ctx, ctx.to_version, "after-upgrade")
    # Three client starts: the old client reads and writes, then the new one reads the seed, writes,
    # and reads everything back (the seed and both clients' runs).
    old = client(ctx, "from", "verify,write", state)
    ctx.check("mlflow-old-client-reads-new-server", old.get("ok", False), f"client {ctx.from_version} against server {ctx.to_version} read the seed and wrote a run; differences: {old.get('differences', [])[:3]}")
    new = client(ctx, "to", "verify,write,verify", state)
    ctx.check("mlflow-seed-reads-back-on-new-server", new.get("ok", False), f"{new.get('runs_checked', 0)} runs, model, artifacts with client {ctx.to_version}; differences: {new.get('differences', [])[:3]}")
    ctx.check("mlflow-old-and-new-clients-write", old.get("ok", False) and new.get("ok", False),
              f"runs written by {ctx.from_version} and {ctx.to_version} clients read back: {new.get('differences', [])[:3]}")
    check_memory(ctx, "to", "after-upgrade")


def step_refuses_unmigrated(ctx: Context) -> None:
    """Negative: the old server refuses the migrated schema instead of running on it."""
    stop(ctx, "server")
    try:
        start_server(ctx, "from")
        ok, detail = False, f"MLflow {ctx.from_version} started on the schema {ctx.to_version} migrated"
    except StepFailed:
        tail = (ctx.work / "server-from.log").read_text(errors="replace")[-2000:]
        ok, detail = True, f"MLflow {ctx.from_version} does not start on the migrated database" + (" (out-of-date/unknown schema)" if "schema" in tail.lower() or "revision" in tail.lower() else "")
    stop(ctx, "server")
    ctx.check("mlflow-old-server-refuses-migrated-db", ok, detail)


def step_restore(ctx: Context) -> None:
    stop(ctx, "server")
    t = time.monotonic()
    sql(ctx, "DROP DATABASE mlflow; DROP DATABASE mlflow_auth;")
    with open(ctx.work / "backup.sql", "rb") as inp:
        if subprocess.run(["mariadb", "--no-defaults", "-S", str(ctx.socket), "-uroot"], stdin=inp).returncode != 0:
            raise StepFailed("restoring the backup failed")
    ctx.phases_seconds["restore"] = round(time.monotonic() - t, 1)
    start_server(ctx, "from")
    check_server(ctx, "from", "after-restore")
    seeded = client(ctx, "from", "verify", ctx.work / "state-seeded.json")
    after = json.loads((ctx.work / "state.json").read_text()).get("written_after", [])
    gone = [r["id"] for r in after if http(ctx, f"/api/2.0/mlflow/runs/get?run_id={r['id']}", ("admin", ctx.admin_password))[0] == 200]
    ctx.check("mlflow-restore-serves-from", seeded.get("ok", False) and not gone,
              f"backup restored, {ctx.from_version} serves the seed; runs written after the upgrade still present: {gone}; differences: {seeded.get('differences', [])[:3]}")


STEPS: list[tuple[str, Callable[[Context], None]]] = [
    ("mlflow-prerequisites", step_prerequisites),
    ("mlflow-venvs", step_venvs),
    ("mlflow-database", step_database),
    ("mlflow-install-from", step_install_from),
    ("mlflow-seed", step_seed),
    ("mlflow-upgrade", step_upgrade),
    ("mlflow-verify-upgraded", step_verify_upgraded),
    ("mlflow-old-server-refuses", step_refuses_unmigrated),
    ("mlflow-restore", step_restore),
]


def steps() -> list[tuple[str, Callable[[Context], None]]]:
    """For a driver that runs registered steps in order."""
    return list(STEPS)


def pins_from_stack_files() -> tuple[str | None, str | None]:
    """FROM = prod's mlflowVersion, TO = staging's, when both stack files pin different ones."""
    prod, staging = (pins.stack_value(stack, "mlflowVersion", missing="") or None for stack in ("prod", "staging"))
    return (prod, staging) if prod and staging and prod != staging else (None, None)


def write_report(ctx: Context, failure: str | None) -> dict:
    ok = failure is None and all(c["status"] != "fail" for c in ctx.checks)
    report = {
        "part": "mlflow", "from_version": ctx.from_version, "to_version": ctx.to_version, "ok": ok,
        "downtime_seconds": ctx.downtime_seconds, "phases_seconds": ctx.phases_seconds, "memory_mib": ctx.memory_mib,
        "checks": ctx.checks, "steps_seconds": ctx.steps_seconds, "failure": failure,
        "total_seconds": round(time.monotonic() - T0, 1),
    }
    ctx.report_path.parent.mkdir(parents=True, exist_ok=True)
    ctx.report_path.write_text(json.dumps(report, indent=2) + "\n")
    return report


def main() -> int:
    stack_from, stack_to = pins_from_stack_files()
    cache = ROOT / ".cache"
    ctx = Context(
        from_version=os.environ.get("MLFLOW_FROM") or stack_from or DEFAULT_FROM,
        to_version=os.environ.get("MLFLOW_TO") or stack_to or DEFAULT_TO,
        db_port=int(os.environ.get("MLFLOW_DB_PORT", "33307")),
        server_port=int(os.environ.get("MLFLOW_SERVER_PORT", "18238")),
        work=cache / "rehearsal" / "mlflow-run",
        venvs=Path(os.environ.get("MLFLOW_VENVS_DIR", cache / "venvs")),
        report_path=cache / "rehearsal" / "mlflow-report.json",
    )
    shutil.rmtree(ctx.work, ignore_errors=True)
    ctx.work.mkdir(parents=True)
    ctx.work.chmod(0o700)
    log(f"MLflow {ctx.from_version} -> {ctx.to_version}, MariaDB :{ctx.db_port}, server :{ctx.server_port}")
    failure = None
    try:
        for name, fn in STEPS:
            t = time.monotonic()
            try:
                fn(ctx)
            finally:
                ctx.steps_seconds[name] = round(time.monotonic() - t, 1)
    except (StepFailed, subprocess.SubprocessError, OSError) as err:
        failure = f"{name}: {err}"
        print(f"MLFLOW REHEARSAL FAILED: {failure}", file=sys.stderr)
    finally:
        stop(ctx, "server")
        stop(ctx, "mariadb")
    report = write_report(ctx, failure)
    passed = sum(c["status"] == "pass" for c in ctx.checks)
    log(f"{'green' if report['ok'] else 'RED'}: {passed}/{len(ctx.checks)} checks, downtime {ctx.downtime_seconds}s, migration {ctx.phases_seconds.get('migration')}s; report {ctx.report_path}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
