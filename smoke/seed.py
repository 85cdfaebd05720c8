"""Seed run before an upgrade: runs a pipeline and records the IDs of what it produced.

Usage: ZENML_STORE_URL=... ZENML_STORE_API_KEY=... python smoke/seed.py <out.json>
(or ZENML_SMOKE_SEED_FILE=<out.json>). The smoke suite loads these artifacts after the
upgrade and compares their values.
"""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import zenml  # noqa: E402
from zenml.client import Client  # noqa: E402

from smoke_pipelines import smoke_seed_pipeline, step_outputs  # noqa: E402


def main() -> int:
    out = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ZENML_SMOKE_SEED_FILE")
    if not out:
        print("usage: seed.py <out.json> (or set ZENML_SMOKE_SEED_FILE)", file=sys.stderr)
        return 2
    client = Client()
    server = client.zen_store.get_store_info()
    run = smoke_seed_pipeline()
    run = client.get_pipeline_run(run.id)  # refresh: final status and outputs
    if str(run.status) not in ("completed", "ExecutionStatus.COMPLETED"):
        print(f"seed run {run.id} ended with status {run.status}", file=sys.stderr)
        return 1
    artifacts = []
    for step_name in ("produce_numbers", "summarize"):
        for output_name, av in step_outputs(run, step_name):
            artifacts.append(
                {
                    "step": step_name,
                    "output": output_name,
                    "artifact_version_id": str(av.id),
                    "value": av.load(),
                }
            )
    record = {
        "zenml_client_version": zenml.__version__,
        "server_version": server.version,
        "pipeline": "smoke_seed_pipeline",
        "run_id": str(run.id),
        "run_name": run.name,
        "artifacts": artifacts,
    }
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(record, indent=2))
    print(f"seed run {run.name} ({run.id}): {len(artifacts)} artifacts recorded in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
