"""The upgrade rehearsal's driver: a list of steps, one report.

Every step is a function `step(ctx)` registered with `@step(name, order)`; the driver runs them in
order, times each, and writes one report (.cache/rehearsal/report.json). A step records findings
with `ctx.check(name, status, detail)` (status pass | fail | staging-only) and raises `StepFailed`
(or anything else) when the rehearsal cannot go on: the driver then records a failed check named
`step:<name>` with the reason, skips the remaining steps (except `always=True` ones, which clean
up) and exits 1. Stdlib only: it runs with the system python3; ZenML runs in venvs it is given.

Steps come from every `rehearsal/steps_*.py` module (sorted by file name), so another part of the
platform (e.g. an MLflow rehearsal) adds `rehearsal/steps_mlflow.py` with its own `@step`s and
`ctx.check`s and needs no change here. See docs/SMOKE.md.

Usage: python3 rehearsal/driver.py    (rehearse.sh installs packages and venvs, then calls this)
Environment: FROM, TO (versions; default prod's and staging's pins), DB_PORT, SERVER_PORT,
VENV_FROM, VENV_TO (venv directories), REHEARSAL_ONLY (comma-separated step names, for debugging).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import pins

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


def stack_pin(stack: str) -> str:
    """The zenmlVersion pin of Pulumi.<stack>.yaml (rehearsal/pins.py: the one reader shell shares)."""
    try:
        return pins.zenml_pin(stack)
    except pins.PinError as err:
        raise StepFailed(str(err)) from None


class Context:
    """What steps share: versions, paths, ports, checks, and a scratch dict for their own state."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.from_version = os.environ.get("FROM") or stack_pin("prod")
        self.to_version = os.environ.get("TO") or stack_pin("staging")
        self.db_port = int(os.environ.get("DB_PORT") or 33306)
        self.server_port = int(os.environ.get("SERVER_PORT") or 18237)
        self.cache = ROOT / ".cache"
        self.work = self.cache / "rehearsal" / "run"
        self.report_path = self.cache / "rehearsal" / "report.json"
        self.venv_from = Path(os.environ.get("VENV_FROM") or self.cache / "venvs" / f"zenml-{self.from_version}")
        self.venv_to = Path(os.environ.get("VENV_TO") or self.cache / "venvs" / f"zenml-{self.to_version}")
        self.checks: List[Dict[str, str]] = []
        self.steps: List[Dict[str, Any]] = []
        self.phases: Dict[str, float] = {"venvs": float(os.environ.get("VENV_SECONDS") or 0)}
        self.facts: Dict[str, Any] = {}  # report fields steps add (downtime, counts, database...)
        self.state: Dict[str, Any] = {}  # steps' private state (processes, secrets): never reported
        self.cleanups: List[Callable[[], None]] = []

    def log(self, msg: str) -> None:
        print(f"[rehearse {time.monotonic() - self.t0:6.1f}s] {msg}", flush=True)

    def check(self, name: str, status: str, detail: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"check {name}: status {status!r} is not one of {STATUSES}")
        self.checks.append({"name": name, "status": status, "detail": detail})
        self.log(f"check {name}: {status} ({detail})")

    def expect(self, name: str, ok: bool, detail: str) -> bool:
        self.check(name, "pass" if ok else "fail", detail)
        return ok


def load_step_modules() -> None:
    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    # Step modules `from driver import step`: that must be this module, not a second copy of it.
    sys.modules.setdefault("driver", sys.modules[__name__])
    for path in sorted(here.glob("steps_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)


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
    ctx.report_path.write_text(json.dumps(report, indent=2))
    return report


def print_summary(report: Dict[str, Any]) -> None:
    print()
    print(f"================ upgrade rehearsal: zenml {report['from_version']} -> {report['to_version']} ================")
    for key in ("database", "alembic_version_after"):
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
    print(f"report: {Path(report['logs']).parent / 'report.json'}")


def main() -> int:
    load_step_modules()
    try:
        ctx = Context()
    except StepFailed as e:
        print(f"REHEARSAL FAILED: {e}", file=sys.stderr)
        return 2
    only = {n.strip() for n in os.environ.get("REHEARSAL_ONLY", "").split(",") if n.strip()}
    unknown = only - set(REGISTRY)
    if unknown:
        print(f"REHEARSAL FAILED: REHEARSAL_ONLY names unknown steps {sorted(unknown)} (known: {', '.join(sorted(REGISTRY))})", file=sys.stderr)
        return 2
    steps = sorted(s for s in REGISTRY.values() if not only or s.name in only or s.always)
    failed = run_steps(ctx, steps)
    for cleanup in reversed(ctx.cleanups):
        try:
            cleanup()
        except Exception as e:  # cleanup must not hide the result
            print(f"cleanup: {e}", file=sys.stderr)
    report = write_report(ctx, failed)
    print_summary(report)
    if not report["ok"]:
        bad = [c["name"] for c in report["checks"] if c["status"] == "fail"]
        print(f"REHEARSAL FAILED: {', '.join(bad) or 'no checks ran'}" + (f" (stopped at step {failed})" if failed else ""), file=sys.stderr)
        return 1
    print("REHEARSAL PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
