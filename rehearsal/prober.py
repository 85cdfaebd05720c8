"""The deploys' downtime prober (tools/prober) and the KPIs' adoption (npm run upgrade-kpis), run
against the rehearsal's real servers: one measure for a deploy and its rehearsal."""

from __future__ import annotations

import json
import os
import subprocess
import time
from typing import Any, Dict

from driver import ROOT, Context, StepFailed
from mariadb import MariaDB


class Prober:
    """The deploys' downtime prober (tools/prober), beside the local upgrade: one measure for both."""

    def __init__(self, ctx: Context, server_url: str) -> None:
        self.out = ctx.work / "downtime.json"
        cmd = ["node", "tools/cli.cjs", "prober", "--url", server_url, "--out", str(self.out)]
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


def check_adoption(ctx: Context, server_url: str, database: MariaDB) -> None:
    """Runs by the old client count as not adopted, the new one's as adopted, as the database says."""
    # This upgrade's deploy record, as a deploy writes it (the prober's summary in it), so the KPIs place the week.
    records = ctx.work / "records"
    records.mkdir(exist_ok=True)
    record = subprocess.run(["npm", "run", "--silent", "deploy-record", "--", "--stack", "staging", "--sha", "0" * 40, "--from", ctx.from_version, "--to", ctx.to_version,
                             "--check", "up=success", "--downtime", str(ctx.work / "downtime.json"), "--out", str(records / "rehearsal.json")], capture_output=True, text=True, cwd=ROOT, env={**os.environ, "GITHUB_STEP_SUMMARY": ""})
    if record.returncode:
        raise StepFailed(f"deploy-record failed (exit {record.returncode}): {(record.stderr.strip().splitlines() or ['no output'])[-1][:200]}")
    env = {**os.environ, "ZENML_API_KEY": ctx.state["api_key"]}
    kpis = ["npm", "run", "--silent", "upgrade-kpis", "--", "--stack", "staging", "--records", str(records), "--server-url", server_url, "--no-release-dates"]
    (ctx.work / "upgrade-kpis.txt").write_text(subprocess.run(kpis, env=env, capture_output=True, text=True, cwd=ROOT).stdout)
    out = subprocess.run([*kpis, "--json"], env=env, capture_output=True, text=True, cwd=ROOT)
    (ctx.work / "upgrade-kpis.json").write_text(out.stdout + out.stderr)
    if out.returncode:
        raise StepFailed(f"upgrade-kpis failed (exit {out.returncode}): {(out.stderr.strip().splitlines() or ['no output'])[-1][:200]}")
    a = json.loads(out.stdout)["adoption"]
    # What the database says each run's client was (the run's own environment, or its snapshot's).
    by_version = dict(line.split("\t") for line in database.sql("SELECT COALESCE(JSON_VALUE(s.client_environment, '$.zenml_version'), JSON_VALUE(r.client_environment, '$.zenml_version'), 'unknown'), COUNT(*) "
                                                            "FROM zenml.pipeline_run r LEFT JOIN zenml.pipeline_snapshot s ON r.snapshot_id = s.id GROUP BY 1").splitlines())
    ctx.facts["adoption"] = {k: a[k] for k in ("serverVersion", "runs", "runsOnServerVersion", "shareOfRuns", "usersActive", "usersAdopted", "users")}
    ctx.facts["kpi_report"] = str(ctx.work / "upgrade-kpis.txt")
    new, old = int(by_version.get(ctx.to_version, 0)), int(by_version.get(ctx.from_version, 0))
    ctx.expect("adoption-new-client-adopted", a["serverVersion"] == ctx.to_version and a["runsOnServerVersion"] == new > 0, f"{a['runsOnServerVersion']} run(s) counted on {ctx.to_version}; the database has {new} by a {ctx.to_version} client")
    ctx.expect("adoption-old-client-not-adopted", a["runs"] - a["runsOnServerVersion"] == sum(int(n) for v, n in by_version.items() if v != ctx.to_version) and old > 0,
               f"{a['runs'] - a['runsOnServerVersion']} run(s) counted as not adopted; the database has {old} by a {ctx.from_version} client, by version {by_version}")
