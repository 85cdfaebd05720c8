"""The MLflow experiment tracker an environment with mlflowVersion registers, on a real server.

Runs after test_register_stack.py (file order) in its own environment ("mlflowtest"), so the
staging objects those tests count are never touched. Credentials reach ZenML only as a secret
filled from the job's environment; the component refers to it by {{name.key}}.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Dict

from conftest import HERE, run_registration, summary_of

ENV = "mlflowtest"
SECRET = f"mlflow-{ENV}"
OWNER = {"zenml-platform/owner": "zenml-platform", "zenml-platform/environment": ENV}
CREDENTIALS = {"MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": "first-generated-password-0123456789"}


def spec(with_tracker: bool = True) -> Dict[str, Any]:
    s = copy.deepcopy(json.loads((HERE.parent / "example-spec.json").read_text()))
    s["environment"] = ENV
    s["stack"]["name"] = f"aws-{ENV}"
    s["connector"]["name"] = f"aws-{ENV}"
    for comp in s["components"].values():
        comp["name"] = comp["name"].replace("staging", ENV)
    if with_tracker:
        # What components/zenml-stack-spec.ts builds when mlflowVersion is set.
        s["secrets"] = [{"name": SECRET, "values_from_env": {"username": "MLFLOW_TRACKING_USERNAME", "password": "MLFLOW_TRACKING_PASSWORD"}}]
        s["components"]["experiment_tracker"] = {
            "name": SECRET,
            "flavor": "mlflow",
            "configuration": {"tracking_uri": f"https://mlflow.{ENV}.example.com", "tracking_username": f"{{{{{SECRET}.username}}}}", "tracking_password": f"{{{{{SECRET}.password}}}}"},
        }
    return s


def tracker_of(client: Any) -> Any:
    stack = client.get_stack(f"aws-{ENV}", allow_name_prefix_match=False)
    return {ctype.value: comps[0] for ctype, comps in stack.components.items()}.get("experiment_tracker")


def test_tracker_and_secret_are_created_credentials_only_in_the_secret(server: Dict[str, str], client: Any, tmp_path: Path) -> None:
    result = run_registration(server, spec(), tmp_path, **CREDENTIALS)
    summary = summary_of(result)
    assert summary["created"][0] == f"secret:{SECRET}"
    assert f"experiment_tracker:{SECRET}" in summary["created"]
    tracker = tracker_of(client)
    assert tracker is not None and tracker.flavor_name == "mlflow" and tracker.labels == OWNER
    config = {k: v for k, v in tracker.configuration.items() if v is not None}
    assert config == spec()["components"]["experiment_tracker"]["configuration"]
    stored = client.get_secret(SECRET, allow_partial_name_match=False).secret_values
    assert stored == {"username": "admin", "password": CREDENTIALS["MLFLOW_TRACKING_PASSWORD"], "zenml_platform_owner": f"zenml-platform/{ENV}"}
    assert CREDENTIALS["MLFLOW_TRACKING_PASSWORD"] not in result.stdout + result.stderr


def test_rerun_changes_nothing(server: Dict[str, str], client: Any, tmp_path: Path) -> None:
    before = tracker_of(client).updated
    summary = summary_of(run_registration(server, spec(), tmp_path, **CREDENTIALS))
    assert summary["created"] == [] and summary["updated"] == [] and f"secret:{SECRET}" in summary["unchanged"]
    assert tracker_of(client).updated == before


def test_rotated_password_updates_the_secret_only(server: Dict[str, str], client: Any, tmp_path: Path) -> None:
    rotated = {**CREDENTIALS, "MLFLOW_TRACKING_PASSWORD": "rotated-password-9876543210"}
    summary = summary_of(run_registration(server, spec(), tmp_path, **rotated))
    assert summary["updated"] == [f"secret:{SECRET}"]
    assert client.get_secret(SECRET, allow_partial_name_match=False).secret_values["password"] == rotated["MLFLOW_TRACKING_PASSWORD"]


def test_missing_credentials_fail_before_any_write(server: Dict[str, str], client: Any, tmp_path: Path) -> None:
    s = spec()
    s["secrets"][0]["name"] = "mlflow-never-created"
    result = run_registration(server, s, tmp_path, MLFLOW_TRACKING_USERNAME="admin")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == "register_stack: secret 'mlflow-never-created' takes its values from MLFLOW_TRACKING_PASSWORD, which the job's environment does not set"
    assert "mlflow-never-created" not in [x.name for x in client.list_secrets(size=100).items]


def test_a_foreign_secret_with_our_name_is_refused_and_untouched(server: Dict[str, str], client: Any, tmp_path: Path) -> None:
    client.create_secret(name="mlflow-foreign", values={"password": "someone-elses"})
    s = spec()
    s["secrets"][0]["name"] = "mlflow-foreign"
    result = run_registration(server, s, tmp_path, **CREDENTIALS)
    assert result.returncode == 1
    assert "secret 'mlflow-foreign' exists but was not created by zenml-platform" in result.stderr
    assert client.get_secret("mlflow-foreign", allow_partial_name_match=False).secret_values == {"password": "someone-elses"}


def test_turning_mlflow_off_removes_the_tracker(server: Dict[str, str], client: Any, tmp_path: Path) -> None:
    summary = summary_of(run_registration(server, spec(with_tracker=False), tmp_path))
    assert f"stack:aws-{ENV}" in summary["updated"]
    assert f"experiment_tracker:{SECRET}" in summary["deleted"]
    assert tracker_of(client) is None
