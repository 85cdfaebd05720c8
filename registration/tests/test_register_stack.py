"""Registration against a real ZenML server: create, re-run, update, ownership, pruning."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

from conftest import HERE, run_registration, summary_of

EXAMPLE = json.loads((HERE.parent / "example-spec.json").read_text())
OWNER = {"zenml-platform/owner": "zenml-platform", "zenml-platform/environment": "staging"}


def spec(**changes: Any) -> Dict[str, Any]:
    s = copy.deepcopy(EXAMPLE)
    for path, value in changes.items():
        node = s
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
    return s


def components_of(client: Any, stack_name: str) -> Dict[str, Any]:
    stack = client.get_stack(stack_name, allow_name_prefix_match=False)
    return {ctype.value: comps[0] for ctype, comps in stack.components.items()}


def test_first_run_creates_everything(server: Dict[str, str], client: Any, tmp_path: Path) -> None:
    summary = summary_of(run_registration(server, spec(), tmp_path))
    assert sorted(summary["created"]) == sorted(
        [
            "service_connector:aws-staging",
            "artifact_store:s3-staging",
            "container_registry:ecr-staging",
            "orchestrator:k8s-staging",
            "image_builder:codebuild-staging",
            "stack:aws-staging",
        ]
    )
    assert summary["updated"] == summary["deleted"] == []

    stack = client.get_stack("aws-staging", allow_name_prefix_match=False)
    assert stack.labels == OWNER
    comps = components_of(client, "aws-staging")
    assert set(comps) == {"artifact_store", "container_registry", "orchestrator", "image_builder"}
    assert comps["artifact_store"].configuration["path"] == EXAMPLE["components"]["artifact_store"]["configuration"]["path"]
    assert comps["artifact_store"].connector.name == "aws-staging"
    assert comps["artifact_store"].connector_resource_id == EXAMPLE["components"]["artifact_store"]["connector_resource_id"]
    assert comps["container_registry"].configuration["default_repository"] == "zenml-staging/zenml"
    assert comps["orchestrator"].configuration["kubernetes_namespace"] == "zenml-pipelines"
    assert comps["orchestrator"].connector_resource_id == "zenml-staging"
    assert comps["image_builder"].configuration["code_build_project"] == "zenml-staging-image-builder"
    assert comps["image_builder"].connector.name == "aws-staging"
    assert comps["image_builder"].connector_resource_id == "eu-west-1"
    for comp in comps.values():
        assert comp.labels == OWNER
    connector = client.get_service_connector("aws-staging", allow_name_prefix_match=False)
    assert connector.auth_method == "implicit"
    assert dict(connector.configuration.non_secrets)["role_arn"] == EXAMPLE["connector"]["configuration"]["role_arn"]
    assert connector.labels == OWNER


def test_second_run_changes_nothing(server: Dict[str, str], client: Any, tmp_path: Path) -> None:
    before = {k: (c.id, c.updated) for k, c in components_of(client, "aws-staging").items()}
    summary = summary_of(run_registration(server, spec(), tmp_path))
    assert summary["created"] == summary["updated"] == summary["deleted"] == []
    assert len(summary["unchanged"]) == 6
    after = {k: (c.id, c.updated) for k, c in components_of(client, "aws-staging").items()}
    assert after == before


def test_changed_bucket_updates_the_artifact_store(server: Dict[str, str], client: Any, tmp_path: Path) -> None:
    changed = spec()
    changed["components"]["artifact_store"]["configuration"]["path"] = "s3://zenml-artifacts-bucket-new"
    changed["components"]["artifact_store"]["connector_resource_id"] = "s3://zenml-artifacts-bucket-new"
    summary = summary_of(run_registration(server, changed, tmp_path))
    assert summary["updated"] == ["artifact_store:s3-staging"]
    assert summary["created"] == summary["deleted"] == []
    store = components_of(client, "aws-staging")["artifact_store"]
    assert store.configuration["path"] == "s3://zenml-artifacts-bucket-new"
    assert store.connector_resource_id == "s3://zenml-artifacts-bucket-new"
    assert store.connector.name == "aws-staging"


def test_foreign_object_with_our_name_is_refused_and_untouched(server: Dict[str, str], client: Any, tmp_path: Path) -> None:
    from zenml.enums import StackComponentType

    foreign = client.create_stack_component(
        name="s3-prod", flavor="s3", component_type=StackComponentType.ARTIFACT_STORE, configuration={"path": "s3://someone-elses"}
    )
    prod = copy.deepcopy(EXAMPLE)
    prod["environment"] = "prod"
    prod["stack"]["name"] = "aws-prod"
    prod["connector"]["name"] = "aws-prod"
    for key in prod["components"]:
        prod["components"][key]["name"] = prod["components"][key]["name"].replace("staging", "prod")
    result = run_registration(server, prod, tmp_path)
    assert result.returncode == 1
    assert "artifact store 's3-prod' exists but was not created by zenml-platform for 'prod'" in result.stderr
    assert "Traceback" not in result.stderr
    again = client.get_stack_component(StackComponentType.ARTIFACT_STORE, "s3-prod", allow_name_prefix_match=False)
    assert again.configuration["path"] == "s3://someone-elses"
    assert again.updated == foreign.updated


def test_removed_stack_is_deleted_only_if_ours(server: Dict[str, str], client: Any, tmp_path: Path) -> None:
    from zenml.enums import StackComponentType

    # Someone else's stack that shares nothing with ours must survive.
    local = client.create_stack_component(name="hand-made-store", flavor="local", component_type=StackComponentType.ARTIFACT_STORE, configuration={})
    orchestrator = client.get_stack_component(StackComponentType.ORCHESTRATOR, "default")
    client.create_stack(name="hand-made", components={StackComponentType.ARTIFACT_STORE: local.id, StackComponentType.ORCHESTRATOR: orchestrator.id})

    renamed = spec()
    renamed["stack"]["name"] = "aws-staging-v2"
    summary = summary_of(run_registration(server, renamed, tmp_path))
    assert summary["created"] == ["stack:aws-staging-v2"]
    assert summary["deleted"] == ["stack:aws-staging"]
    names = {s.name for s in client.list_stacks(size=100).items}
    assert "aws-staging" not in names
    assert {"aws-staging-v2", "hand-made", "default"} <= names
    # The components moved to the new stack, so none was deleted.
    assert set(components_of(client, "aws-staging-v2")) == {"artifact_store", "container_registry", "orchestrator", "image_builder"}


def test_unreachable_server_gives_one_line(tmp_path: Path) -> None:
    bad = {"ZENML_STORE_URL": "http://127.0.0.1:9", "ZENML_STORE_USERNAME": "admin", "ZENML_STORE_PASSWORD": "x"}
    result = run_registration(bad, spec(), tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("register_stack: cannot use the ZenML server at http://127.0.0.1:9")
    assert "x" not in result.stderr.split("at http://127.0.0.1:9")[1].split()[:1]


def test_check_stack_sees_the_registered_stack(server: Dict[str, str], tmp_path: Path) -> None:
    env = {**server, "ZENML_CONFIG_PATH": str(tmp_path / "check-config")}
    ok = subprocess.run([sys.executable, str(HERE.parent / "check_stack.py"), "aws-staging-v2"], env={**__import__("os").environ, **env}, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    missing = subprocess.run([sys.executable, str(HERE.parent / "check_stack.py"), "nope"], env={**__import__("os").environ, **env}, capture_output=True, text=True)
    assert missing.returncode == 1
    assert "nope" in missing.stderr
