"""A pipeline run that stays in progress for a while: what the pre-upgrade drain must wait for.

Run with a client logged in to the server (local orchestrator, the client's default stack): one
step sleeps the given seconds, so the server reports the run `running` meanwhile. Prints the run's
final status as JSON. Used by the rehearsal (pre_upgrade_steps.py) and the drain's tests.

Usage: slow_run.py <seconds> [<pipeline name>]
"""

import json
import sys
import time

from zenml import pipeline, step
from zenml.client import Client


@step(enable_cache=False)
def busy_for(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def main() -> int:
    seconds = float(sys.argv[1])
    name = sys.argv[2] if len(sys.argv) > 2 else "long_running_training"

    @pipeline(name=name, enable_cache=False)
    def long_running() -> None:
        busy_for(seconds)

    run = long_running()
    run = Client().get_pipeline_run(run.id)
    print(json.dumps({"run": run.name, "id": str(run.id), "status": str(run.status), "end_time": str(run.end_time)}))
    return 0 if str(run.status).endswith("completed") else 1


if __name__ == "__main__":
    sys.exit(main())
