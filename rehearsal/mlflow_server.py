"""MLflow servers and clients for the MLflow rehearsal (steps_mlflow.py): venvs of the image's
requirements, the migration Job's command, the Deployment's start script, the deploy's smoke, and
the server's memory against its pod's limit."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from base64 import b64encode
from pathlib import Path
from typing import Dict, Optional, Tuple

from driver import ROOT, Context, StepFailed
from processes import answers_health, stop_process, wait_until

IMAGE_DIR = ROOT / "components" / "mlflow" / "image"
# The Deployment's start script and container resources: the rehearsal runs and measures the same.
SERVE_SCRIPT = IMAGE_DIR / "serve.sh"
SERVER_RESOURCES = IMAGE_DIR / "server-resources.json"


def url(ctx: Context) -> str:
    return f"http://127.0.0.1:{ctx.server_port}"


def venv(ctx: Context, which: str) -> Path:
    found = ctx.venv_from if which == "from" else ctx.venv_to
    if found is None:
        raise StepFailed(f"no venv of MLflow {ctx.version(which)} yet (the mlflow-venvs step builds them)")
    return found


def run(cmd: list, log_file: Path, env: Optional[Dict[str, str]] = None, timeout: float = 600) -> None:
    with open(log_file, "ab") as out:
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, timeout=timeout)
    if proc.returncode != 0:
        tail = log_file.read_text(errors="replace").splitlines()[-15:]
        raise StepFailed(f"{' '.join(cmd[:3])}... exited {proc.returncode} (log {log_file}):\n  " + "\n  ".join(tail))


def ensure_venv(ctx: Context, version: str) -> Path:
    """A venv with exactly the image's requirements (components/mlflow/image/requirements.txt) for this version."""
    reqs = (IMAGE_DIR / "requirements.txt").read_text().replace("${MLFLOW_VERSION}", version)
    venvs = Path(os.environ.get("MLFLOW_VENVS_DIR") or ctx.cache / "venvs")
    built = venvs / f"mlflow-{version}"
    # One venv builder for every rehearsal (uv, cached, rebuilt when the requirements change).
    venvs.mkdir(parents=True, exist_ok=True)
    reqs_file = venvs / f"mlflow-{version}.requirements.txt"
    reqs_file.write_text(reqs)
    run(["bash", str(ROOT / "rehearsal" / "build-venv.sh"), str(built), str(reqs_file)], ctx.work.parent / f"venv-{version}.log")
    got = subprocess.run([str(built / "bin" / "python"), "-c", "import mlflow, pymysql, boto3; print(mlflow.__version__)"], capture_output=True, text=True)
    if got.stdout.strip() != version:
        (built / ".ok").unlink(missing_ok=True)
        raise StepFailed(f"{built} does not import mlflow {version} with its drivers: {got.stdout.strip() or got.stderr.strip()[-300:]}")
    return built


def db_uri(ctx: Context, db: str) -> str:
    # The same URI shape as the platform's: PyMySQL, TLS requested when the server offers it.
    return f"mysql+pymysql://mlflow:{ctx.state['db_password']}@127.0.0.1:{ctx.db_port}/{db}?ssl_check_hostname=false"


def migrate(ctx: Context, which: str) -> float:
    """The migration Job's command (components/mlflow/image/migrate.py) with one version; returns seconds."""
    env = {**os.environ, "MLFLOW_BACKEND_STORE_URI": db_uri(ctx, "mlflow"), "MLFLOW_AUTH_DATABASE_URI": db_uri(ctx, "mlflow_auth")}
    t = time.monotonic()
    run([str(venv(ctx, which) / "bin" / "python"), str(IMAGE_DIR / "migrate.py")], ctx.work / f"migrate-{which}.log", env=env)
    return time.monotonic() - t


def auth_ini(ctx: Context) -> Path:
    path = ctx.work / "basic_auth.ini"
    path.write_text(
        "[mlflow]\ndefault_permission = READ\n"
        f"database_uri = {db_uri(ctx, 'mlflow_auth')}\nadmin_username = admin\nadmin_password = {ctx.state['admin_password']}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    path.chmod(0o600)
    return path


def start_server(ctx: Context, which: str) -> None:
    """The server as the Deployment runs it (its serve.sh): basic-auth app, proxied artifacts, no migration."""
    bin_dir = venv(ctx, which) / "bin"
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(ctx.work), "LANG": "C.UTF-8",
           "MLFLOW_AUTH_CONFIG_PATH": str(auth_ini(ctx)), "MLFLOW_FLASK_SERVER_SECRET_KEY": "rehearsal-" + ctx.state["admin_password"],
           "MLFLOW_SERVER_ALLOWED_HOSTS": f"127.0.0.1:{ctx.server_port},localhost:{ctx.server_port}",
           "MLFLOW_BACKEND_STORE_URI": db_uri(ctx, "mlflow"), "MLFLOW_ARTIFACTS_DESTINATION": f"file://{ctx.work / 'artifacts'}"}
    log = open(ctx.work / f"server-{which}.log", "ab")
    proc = subprocess.Popen(["sh", str(SERVE_SCRIPT), "127.0.0.1", str(ctx.server_port)], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ctx.work, start_new_session=True)
    ctx.state["server"], ctx.state["server_log"] = proc, log
    if not wait_until(lambda: answers_health(url(ctx), timeout=15), proc, 180):
        raise StepFailed(f"MLflow {which} server did not become healthy (see {ctx.work / f'server-{which}.log'})")


def stop_server(ctx: Context) -> None:
    proc, log = ctx.state.pop("server", None), ctx.state.pop("server_log", None)
    if proc is not None:
        stop_process(proc, timeout=30, group=True)  # the group serve.sh leads: the server and its workers
    if log is not None:
        log.close()


def http(ctx: Context, path: str, auth: Optional[Tuple[str, str]] = None, timeout: float = 15) -> Tuple[int, str]:
    req = urllib.request.Request(url(ctx) + path)
    if auth:
        req.add_header("Authorization", "Basic " + b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")
    except (urllib.error.URLError, OSError):
        return 0, ""


def admin(ctx: Context) -> Tuple[str, str]:
    return "admin", ctx.state["admin_password"]


def client(ctx: Context, which: str, mode: str, state: Path) -> dict:
    """rehearsal/mlflow_client.py with one version's client: seed, verify, write (JSON result)."""
    bin_dir = venv(ctx, which) / "bin"
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(ctx.work), "LANG": "C.UTF-8", "MLFLOW_TRACKING_URI": url(ctx),
           "MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": ctx.state["admin_password"], "GIT_PYTHON_REFRESH": "quiet"}
    out = subprocess.run([str(bin_dir / "python"), str(ROOT / "rehearsal" / "mlflow_client.py"), mode, str(state)], env=env, capture_output=True, text=True, timeout=300)
    with open(ctx.work / f"client-{which}-{mode}.log", "a") as f:
        f.write(out.stdout + out.stderr)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"ok": False, "differences": [f"client crashed: {out.stderr.strip()[-400:]}"]}


def ts_smoke(ctx: Context, version: str, label: str, expect_run: Optional[str] = None) -> None:
    """The deploy's own MLflow smoke (npm run smoke:mlflow) against this real server."""
    env = {**os.environ, "MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": ctx.state["admin_password"]}
    cmd = ["npm", "run", "--silent", "smoke:mlflow", "--", "--url", url(ctx), "--expect-version", version, "--json", "--retries", "2", "--timeout", "30"]
    if expect_run:
        cmd += ["--expect-run", expect_run]
    out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    (ctx.work / f"smoke-{label}.json").write_text(out.stdout + out.stderr)
    try:
        steps = json.loads(out.stdout)["steps"]
        detail = "; ".join(f"{s['name']} {s['status']}" + (f": {s['detail']}" if s["status"] == "fail" or s["name"] == "earlier-run" else "") for s in steps)
    except (json.JSONDecodeError, KeyError):
        detail = (out.stderr or out.stdout).strip()[-300:]
    ctx.expect(f"mlflow-smoke-{label}", out.returncode == 0, detail)


def check_server(ctx: Context, which: str, label: str) -> None:
    version = ctx.version(which)
    status, body = http(ctx, "/version", admin(ctx))
    ctx.expect(f"mlflow-version-{label}", status == 200 and body.strip() == version, f"/version answered {status} {body.strip()[:40]!r}, expected {version}")
    search = "/api/2.0/mlflow/experiments/search?max_results=1"
    anon, wrong, good = http(ctx, search)[0], http(ctx, search, ("admin", "wrong-" + ctx.state["admin_password"]))[0], http(ctx, search, admin(ctx))[0]
    ctx.expect(f"mlflow-auth-{label}", (anon, wrong, good) == (401, 401, 200), f"anonymous {anon}, wrong password {wrong}, admin {good} (want 401, 401, 200)")


def quantity_mib(quantity: str) -> float:
    """A Kubernetes memory quantity (512Mi, 1Gi, 1G, bytes) in MiB."""
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
    for suffix in sorted(units, key=len, reverse=True):
        if quantity.endswith(suffix):
            return float(quantity[: -len(suffix)]) * units[suffix] / 2**20
    return float(quantity) / 2**20


def group_pss_mib(pgid: int) -> Tuple[float, int]:
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
    limit_text = json.loads(SERVER_RESOURCES.read_text())["limits"]["memory"]
    limit = quantity_mib(limit_text)
    pss, count = group_pss_mib(ctx.state["server"].pid)
    ctx.facts.setdefault("memory_mib", {})[label] = round(pss)
    ctx.expect(f"mlflow-memory-{label}", 0 < pss <= limit,
               f"MLflow {ctx.version(which)}: {count} processes, {pss:.0f} MiB (PSS) against the pod's limit {limit_text} ({limit:.0f} MiB, {SERVER_RESOURCES.name})")
