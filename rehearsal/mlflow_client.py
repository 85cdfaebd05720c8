"""Client side of the MLflow rehearsal, run with a venv's own MLflow (old or new client).

    python mlflow_client.py seed   <state.json>   record entities on the server, write what was recorded
    python mlflow_client.py verify <state.json>   read every recorded entity back, exit 1 on a difference
    python mlflow_client.py write  <state.json>   record one more run (a client writing after the upgrade)
    python mlflow_client.py verify,write <state.json>   several modes in one interpreter, in order

The server and credentials come from MLFLOW_TRACKING_URI / MLFLOW_TRACKING_USERNAME /
MLFLOW_TRACKING_PASSWORD. Output: one JSON line {"ok": bool, "differences": [...], ...}.
"""
import hashlib
import json
import os
import sys
import tempfile

import mlflow
from mlflow.tracking import MlflowClient

ARTIFACT_TEXT = "rehearsal artifact\n" + "x" * 4096 + "\n"


def seed(state_path: str) -> dict:
    client = MlflowClient()
    state = {"client_version": mlflow.__version__, "experiments": [], "model": None}
    for e in range(2):
        exp_id = client.create_experiment(f"rehearsal-exp-{e}", tags={"team": "platform", "index": str(e)})
        exp = {"id": exp_id, "name": f"rehearsal-exp-{e}", "tags": {"team": "platform", "index": str(e)}, "runs": []}
        for r in range(2):
            run = client.create_run(exp_id, tags={"kind": "seed", "n": str(r)}, run_name=f"seed-{e}-{r}")
            rid = run.info.run_id
            params = {"lr": str(0.01 * (r + 1)), "layers": str(3 + r)}
            for k, v in params.items():
                client.log_param(rid, k, v)
            history = [(step, 1.0 / (step + 1 + r)) for step in range(5)]
            for step, value in history:
                client.log_metric(rid, "loss", value, step=step, timestamp=1_700_000_000_000 + step)
            client.log_metric(rid, "accuracy", 0.9 + r / 100, step=0, timestamp=1_700_000_000_000)
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "notes.txt")
                with open(path, "w") as f:
                    f.write(ARTIFACT_TEXT + rid)
                client.log_artifact(rid, path, artifact_path="model")
            client.set_terminated(rid, "FINISHED")
            exp["runs"].append({"id": rid, "params": params, "tags": {"kind": "seed", "n": str(r)}, "loss": history, "accuracy": 0.9 + r / 100,
                                "artifact": "model/notes.txt", "artifact_sha256": hashlib.sha256((ARTIFACT_TEXT + rid).encode()).hexdigest()})
        state["experiments"].append(exp)
    name = "rehearsal-model"
    client.create_registered_model(name, tags={"owner": "platform"}, description="seeded before the upgrade")
    versions = []
    for run in state["experiments"][0]["runs"]:
        mv = client.create_model_version(name, source=f"{client.get_run(run['id']).info.artifact_uri}/model", run_id=run["id"], tags={"seed": "yes"})
        versions.append({"version": str(mv.version), "run_id": run["id"]})
    client.set_registered_model_alias(name, "champion", versions[-1]["version"])
    state["model"] = {"name": name, "tags": {"owner": "platform"}, "description": "seeded before the upgrade", "versions": versions, "aliases": {"champion": versions[-1]["version"]}}
    with open(state_path, "w") as f:
        json.dump(state, f, indent=1)
    runs = sum(len(e["runs"]) for e in state["experiments"])
    return {"ok": True, "experiments": len(state["experiments"]), "runs": runs, "model_versions": len(versions)}


def verify(state_path: str) -> dict:
    with open(state_path) as f:
        state = json.load(f)
    client = MlflowClient()
    diffs: list[str] = []

    def same(what, expected, actual):
        if expected != actual:
            diffs.append(f"{what}: expected {expected!r}, got {actual!r}")

    checked = 0
    for exp in state["experiments"]:
        got = client.get_experiment(exp["id"])
        same(f"experiment {exp['id']} name", exp["name"], got.name)
        same(f"experiment {exp['id']} tags", exp["tags"], {k: v for k, v in got.tags.items() if not k.startswith("mlflow.")})
        for run in exp["runs"]:
            r = client.get_run(run["id"])
            same(f"run {run['id']} params", run["params"], dict(r.data.params))
            same(f"run {run['id']} tags", run["tags"], {k: v for k, v in r.data.tags.items() if not k.startswith("mlflow.")})
            same(f"run {run['id']} status", "FINISHED", r.info.status)
            same(f"run {run['id']} accuracy", run["accuracy"], r.data.metrics.get("accuracy"))
            loss = sorted((m.step, m.value) for m in client.get_metric_history(run["id"], "loss"))
            same(f"run {run['id']} loss history", [tuple(x) for x in run["loss"]], loss)
            with tempfile.TemporaryDirectory() as tmp:
                local = client.download_artifacts(run["id"], run["artifact"], tmp)
                with open(local, "rb") as f:
                    same(f"run {run['id']} artifact {run['artifact']}", run["artifact_sha256"], hashlib.sha256(f.read()).hexdigest())
            checked += 1
        listed = {r.info.run_id for r in client.search_runs([exp["id"]])}
        expected = [r["id"] for r in exp["runs"]] + [r["id"] for r in state.get("written_after", []) if r["experiment_id"] == exp["id"]]
        same(f"experiment {exp['id']} runs", sorted(expected), sorted(listed))
    model = state["model"]
    rm = client.get_registered_model(model["name"])
    same("model tags", model["tags"], dict(rm.tags))
    same("model description", model["description"], rm.description)
    same("model aliases", model["aliases"], {k: str(v) for k, v in (rm.aliases or {}).items()})
    for v in model["versions"]:
        mv = client.get_model_version(model["name"], v["version"])
        same(f"model version {v['version']} run", v["run_id"], mv.run_id)
        same(f"model version {v['version']} tags", {"seed": "yes"}, dict(mv.tags))
    for extra in state.get("written_after", []):
        r = client.get_run(extra["id"])
        same(f"run written after the upgrade {extra['id']} metric", extra["metric"], r.data.metrics.get("after_upgrade"))
    return {"ok": not diffs, "differences": diffs, "runs_checked": checked, "client_version": mlflow.__version__}


def write(state_path: str) -> dict:
    with open(state_path) as f:
        state = json.load(f)
    client = MlflowClient()
    exp_id = state["experiments"][0]["id"]
    run = client.create_run(exp_id, run_name=f"written-by-{mlflow.__version__}")
    client.log_metric(run.info.run_id, "after_upgrade", 42.0)
    client.set_terminated(run.info.run_id, "FINISHED")
    state.setdefault("written_after", []).append({"id": run.info.run_id, "experiment_id": exp_id, "metric": 42.0, "client_version": mlflow.__version__})
    with open(state_path, "w") as f:
        json.dump(state, f, indent=1)
    return {"ok": True, "run_id": run.info.run_id, "client_version": mlflow.__version__}


if __name__ == "__main__":
    # Modes may be chained ("verify,write"): one interpreter start instead of several (importing
    # mlflow is most of a call's time). Stops at the first mode that is not ok.
    modes, path = sys.argv[1].split(","), sys.argv[2]
    results = []
    for mode in modes:
        results.append({"mode": mode, **{"seed": seed, "verify": verify, "write": write}[mode](path)})
        if not results[-1]["ok"]:
            break
    merged = {"ok": all(r["ok"] for r in results) and len(results) == len(modes), "steps": results, "differences": [d for r in results for d in r.get("differences", [])]}
    merged.update({k: v for r in results for k, v in r.items() if k not in ("ok", "differences", "mode")})
    print(json.dumps(merged))
    sys.exit(0 if merged["ok"] else 1)
