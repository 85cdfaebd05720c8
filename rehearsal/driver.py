"""The upgrade rehearsals' driver: one part's steps, one report.

A part is a plug-in: `rehearsal/steps_<part>.py` declares `PART = Part(...)` (where its versions,
ports and report come from) and registers its steps with `@step(name, order)`. `driver.py <part>`
loads that module, runs its steps in order, times each, and writes the part's report under
.cache/rehearsal/. A step records findings with `ctx.check(name, status, detail)` (status pass |
fail | staging-only) or `ctx.expect(name, ok, detail)`, and raises `StepFailed` (or anything else)
when the rehearsal cannot go on: the driver then records a failed check named `step:<name>` with
the reason, skips the remaining steps (except `always=True` ones), runs the clean-ups the steps
registered (`ctx.cleanups`) and exits 1. Stdlib only: it runs with the system python3; ZenML and
MLflow run in venvs. Parts today: zenml (steps_zenml.py), mlflow (steps_mlflow.py). docs/SMOKE.md.

Usage: python3 rehearsal/driver.py [zenml|mlflow]    (rehearse.sh installs packages, then calls this)
Environment: <P>FROM, <P>TO (versions), <P>DB_PORT, <P>SERVER_PORT with the part's prefix <P>
("" for zenml, MLFLOW_ for mlflow); REHEARSAL_ONLY (comma-separated step names, for debugging).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pins
from processes import HealthPoller, port_free

ROOT = Path(__file__).resolve().parent.parent
STATUSES = ("pass", "fail", "staging-only")


class StepFailed(Exception):
    """The step cannot go on; the message says why in one line."""


@dataclass(order=True)
class Step:
    order: int
    name: str = field(compare=False)
    fn: Callable[["Context"], None] = field(compare=False)
    always: bool = field(default=False, compare=False)


REGISTRY: Dict[str, Step] = {}


def step(name: str, order: int, always: bool = False) -> Callable[[Callable[["Context"], None]], Callable[["Context"], None]]:
    """Registers a rehearsal step. `order` places it (the ZenML steps use 100..900, in tens)."""

    def register(fn: Callable[["Context"], None]) -> Callable[["Context"], None]:
        if name in REGISTRY:
            raise RuntimeError(f"rehearsal step {name} is registered twice ({REGISTRY[name].fn.__module__} and {fn.__module__})")
        REGISTRY[name] = Step(order, name, fn, always)
        return fn

    return register


@dataclass(frozen=True)
class Part:
    """What a plug-in tells the driver. The environment's <env_prefix>FROM/TO/DB_PORT/SERVER_PORT
    override versions and ports."""

    name: str  # `driver.py <name>` runs rehearsal/steps_<name>.py
    versions: Callable[[], Tuple[str, str]]  # FROM and TO when the environment names neither
    env_prefix: str = ""
    db_port: int = 33306
    server_port: int = 18237
    report: str = "report.json"  # under .cache/rehearsal/
    work: str = "run"  # the run's scratch dir under .cache/rehearsal/, mode 700 (it holds passwords)
    summary: Tuple[str, ...] = ()  # report fields the closing summary prints
    prepare: Callable[["Context"], None] = lambda ctx: None  # before the first step


class Context:
    """What steps share: versions, paths, ports, checks, and a scratch dict for their own state."""

    def __init__(self, part: Part) -> None:
        self.part = part
        self.t0 = time.monotonic()
        env = {k[len(part.env_prefix):]: v for k, v in os.environ.items() if k.startswith(part.env_prefix) and v}
        pinned = ("", "") if "FROM" in env and "TO" in env else part.versions()
        self.from_version: str = env.get("FROM") or pinned[0]
        self.to_version: str = env.get("TO") or pinned[1]
        self.db_port = int(env.get("DB_PORT") or part.db_port)
        self.server_port = int(env.get("SERVER_PORT") or part.server_port)
        self.cache = ROOT / ".cache"
        self.work = self.cache / "rehearsal" / part.work
        self.report_path = self.cache / "rehearsal" / part.report
        self.venv_from: Optional[Path] = None  # the venvs of FROM and TO, once a step or `prepare` has them
        self.venv_to: Optional[Path] = None
        self.checks: List[Dict[str, str]] = []
        self.steps: List[Dict[str, Any]] = []
        self.phases: Dict[str, float] = {}
        self.facts: Dict[str, Any] = {}  # report fields steps add (downtime, counts, database...)
        self.state: Dict[str, Any] = {}  # steps' private state (processes, secrets): never reported
        self.cleanups: List[Callable[[], None]] = []

    def log(self, msg: str) -> None:
        print(f"[rehearse {self.part.name} {time.monotonic() - self.t0:6.1f}s] {msg}", flush=True)

    def check(self, name: str, status: str, detail: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"check {name}: status {status!r} is not one of {STATUSES}")
        self.checks.append({"name": name, "status": status, "detail": detail})
        self.log(f"check {name}: {status} ({detail})")

    def expect(self, name: str, ok: bool, detail: str) -> bool:
        self.check(name, "pass" if ok else "fail", detail)
        return ok

    def claim_ports_and_work(self) -> None:
        """The first step's first act: refuses ports in use (another rehearsal may own them and
        its work dir), then starts this run's work dir afresh, readable by this user only."""
        for port, key in ((self.db_port, "DB_PORT"), (self.server_port, "SERVER_PORT")):
            if not port_free(port):
                raise StepFailed(f"port {port} ({self.part.env_prefix}{key}) is in use on 127.0.0.1")
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        self.work.chmod(0o700)

    def version(self, which: str) -> str:
        """"from" or "to" -> the version."""
        return self.from_version if which == "from" else self.to_version


def timed_upgrade(ctx: Context, healthy: Optional[Callable[[], bool]], phases: List[Tuple[str, Callable[[], None]]], settle: float) -> Optional[float]:
    """Runs an upgrade's phases (stop, back up, migrate, start) in order under a health poller, each
    timed into ctx.phases; returns the downtime (None: the server was not seen up before and after,
    or `healthy` is None because the caller measures it otherwise, e.g. with the deploys' prober)."""
    poller = HealthPoller(healthy) if healthy else None
    if poller:
        poller.start()
    try:
        time.sleep(settle)
        for name, run in phases:
            t = time.monotonic()
            run()
            ctx.phases[name] = round(time.monotonic() - t, 1)
        time.sleep(settle)
    finally:
        downtime = poller.stop() if poller else None
    return downtime


def load_part(name: str) -> Part:
    """Imports rehearsal/steps_<name>.py, which registers its steps; returns its PART."""
    here = Path(__file__).resolve().parent
    path = here / f"steps_{name}.py"
    if not path.is_file():
        known = sorted(p.stem[len("steps_"):] for p in here.glob("steps_*.py"))
        raise StepFailed(f"no rehearsal part {name!r} (parts: {', '.join(known)})")
    sys.path.insert(0, str(here))
    # Step modules `from driver import step`: that must be this module, not a second copy of it.
    sys.modules.setdefault("driver", sys.modules[__name__])
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module.PART


def run_steps(ctx: Context, steps: List[Step]) -> Optional[str]:
    """Runs the steps; returns the name of the step that stopped the rehearsal, if one did."""
    failed: Optional[str] = None
    for s in steps:
        if failed and not s.always:
            ctx.steps.append({"name": s.name, "status": "skipped", "seconds": 0.0})
            continue
        t = time.monotonic()
        status = "pass"
        try:
            ctx.log(f"step {s.name}")
            s.fn(ctx)
        except Exception as e:  # a step that fails names itself; the rest is skipped
            status = "fail"
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            if not isinstance(e, StepFailed):
                traceback.print_exc()
                reason = f"{type(e).__name__}: {reason}"
            ctx.check(f"step:{s.name}", "fail", reason)
            failed = failed or s.name
        ctx.steps.append({"name": s.name, "status": status, "seconds": round(time.monotonic() - t, 1)})
    return failed


def write_report(ctx: Context, failed: Optional[str]) -> Dict[str, Any]:
    report = {
        "part": ctx.part.name,
        "from_version": ctx.from_version,
        "to_version": ctx.to_version,
        **ctx.facts,
        "downtime_seconds": ctx.facts.get("downtime_seconds"),
        "phases_seconds": ctx.phases,
        "steps_seconds": {s["name"]: s["seconds"] for s in ctx.steps},
        "steps": ctx.steps,
        "total_seconds": round(time.monotonic() - ctx.t0, 1),
        "failed_step": failed,
        # staging-only is neither pass nor fail: it is what only a cluster proves.
        "ok": failed is None and bool(ctx.checks) and all(c["status"] != "fail" for c in ctx.checks),
        "checks": ctx.checks,
        "logs": str(ctx.work),
    }
    ctx.report_path.parent.mkdir(parents=True, exist_ok=True)
    ctx.report_path.write_text(json.dumps(report, indent=2) + "\n")
    return report


def print_summary(ctx: Context, report: Dict[str, Any]) -> None:
    print()
    print(f"================ upgrade rehearsal: {ctx.part.name} {report['from_version']} -> {report['to_version']} ================")
    for key in ctx.part.summary:
        if key in report:
            print(f"{key:<28} {report[key]}")
    print(f"{'API downtime':<28} {report['downtime_seconds']}s  phases {report['phases_seconds']}")
    print(f"{'total duration':<28} {report['total_seconds']}s")
    for s in report["steps"]:
        print(f"  step {s['name']:<23} {s['status']:<8} {s['seconds']:>6.1f}s")
    for c in report["checks"]:
        print(f"{c['name']:<28} {c['status'].upper():<12} {c['detail']}")
    counts = {c["status"]: 0 for c in report["checks"]}
    for c in report["checks"]:
        counts[c["status"]] += 1
    print(f"checks: {', '.join(f'{n} {s}' for s, n in sorted(counts.items()))}")
    print(f"report: {ctx.report_path}")


def main(argv: List[str]) -> int:
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print("usage: python3 rehearsal/driver.py [zenml|mlflow]", file=sys.stderr)
        return 2
    try:
        ctx = Context(load_part(argv[0] if argv else "zenml"))
    except (StepFailed, pins.PinError) as e:
        print(f"REHEARSAL FAILED: {e}", file=sys.stderr)
        return 2
    only = {n.strip() for n in os.environ.get("REHEARSAL_ONLY", "").split(",") if n.strip()}
    unknown = only - set(REGISTRY)
    if unknown:
        print(f"REHEARSAL FAILED: REHEARSAL_ONLY names unknown steps {sorted(unknown)} (known: {', '.join(sorted(REGISTRY))})", file=sys.stderr)
        return 2
    ctx.log(f"{ctx.part.name} {ctx.from_version} -> {ctx.to_version}, MariaDB :{ctx.db_port}, server :{ctx.server_port}")
    ctx.part.prepare(ctx)
    failed = run_steps(ctx, sorted(s for s in REGISTRY.values() if not only or s.name in only or s.always))
    for cleanup in reversed(ctx.cleanups):
        try:
            cleanup()
        except Exception as e:  # cleanup must not hide the result
            print(f"cleanup: {e}", file=sys.stderr)
    report = write_report(ctx, failed)
    print_summary(ctx, report)
    if not report["ok"]:
        bad = [c["name"] for c in report["checks"] if c["status"] == "fail"]
        print(f"REHEARSAL FAILED: {', '.join(bad) or 'no checks ran'}" + (f" (stopped at step {failed})" if failed else ""), file=sys.stderr)
        return 1
    print("REHEARSAL PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
