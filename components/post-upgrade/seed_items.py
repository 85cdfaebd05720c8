"""Seeds what users leave on a server: a named snapshot, a run template and a schedule row.

Run with the OLD client (the rehearsal's FROM, or an older venv in the tests), so that the items
record that client's version and the post-upgrade script must find them stale. The schedule goes
through the store, as ZenML does itself, because the local orchestrator refuses schedules.

Usage: seed_items.py --snapshot NAME [--template NAME] [--schedule NAME --cron EXPR] [--out FILE]
Pipeline: smoke/smoke_pipelines.py:smoke_check_pipeline.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "smoke"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import zenml  # noqa: E402
from zenml.client import Client  # noqa: E402

from post_upgrade import register_build, store_schedule  # noqa: E402
from smoke_pipelines import smoke_check_pipeline  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--snapshot", required=True)
    p.add_argument("--template")
    p.add_argument("--schedule")
    p.add_argument("--cron", default="0 3 * * *")
    p.add_argument("--build-stack", help="registered remote stack the template's build record belongs to")
    p.add_argument("--out")
    a = p.parse_args()
    client = Client()
    snap = smoke_check_pipeline.create_snapshot(name=a.snapshot, replace=True)
    out = {"client_version": zenml.__version__, "snapshot_id": str(snap.id)}
    if a.template:
        if not a.build_stack:
            p.error("--template needs --build-stack")
        # A template needs a build; the local stack builds none, so record the one it would make.
        built = smoke_check_pipeline.with_options(build=register_build(client, smoke_check_pipeline, a.build_stack).id)
        source = built.create_snapshot(name=a.template, replace=True)
        out["template_id"] = str(client.create_run_template(name=a.template, snapshot_id=source.id).id)
    if a.schedule:
        schedule = store_schedule(client, snap.pipeline.id, a.schedule, a.cron)
        out["schedule_id"] = str(schedule.id)
    text = json.dumps(out)
    if a.out:
        Path(a.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
