"""Registration against a real ZenML server: create, re-run, update, ownership, pruning, failures.

The script runs in a venv like the official client image (plain `zenml`, no AWS libraries);
this process checks the result with the ZenML client of the server's venv. Tests share one
server and run in file order: each starts from the state the previous one left.
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from conftest import DOWN_SERVER, HERE, EarlyRun, client_python, run_registration, run_script, summary_of

EXAMPLE = json.loads((HERE.parent / "example-spec.json").read_text())
OWNER = {"zenml-platform/owner": "zenml-platform", "zenml-platform/environment": "staging"}
CLIENT_VERSION = next(
    line.split("==")[1].strip() for line in (HERE.parent / "requirements-client.txt").read_text().splitlines() if line.startswith("zenml==")
)


KINDS = ["artifact_store", "container_registry", "orchestrator", "image_builder"]
ALL_STAGING = [
    "service_connector:aws-staging",
    "artifact_store:s3-staging",
    "container_registry:ecr-staging",
    "orchestrator:k8s-staging",
    "image_builder:codebuild-staging",
    "stack:aws-staging",
]


def spec() -> Dict[str, Any]:
    return copy.deepcopy(EXAMPLE)


def renamed(environment: str, suffix: str = "") -> Dict[str, Any]:
    """The example for another environment (names and labels), names optionally suffixed."""
    s = spec()
    s["environment"] = environment
    s["stack"]["name"] = s["stack"]["name"].replace("staging", environment) + suffix
    s["connector"]["name"] = s["connector"]["name"].replace("staging", environment) + suffix
    for comp in s["components"].values():
        comp["name"] = comp["name"].replace("staging", environment) + suffix
    return s


def components_of(client: Any, stack_name: str) -> Dict[str, Any]:
    stack = client.get_stack(stack_name, allow_name_prefix_match=False)
    return {ctype.value: comps[0] for ctype, comps in stack.components.items()}


def state(client: Any, stack_name: str) -> Dict[str, Tuple[Any, ...]]:
    """Everything a re-run must leave alone: ids, update times, configuration, links, labels."""
    stack = client.get_stack(stack_name, allow_name_prefix_match=False)
    out: Dict[str, Tuple[Any, ...]] = {"stack": (stack.id, stack.updated, stack.labels)}
    for kind, c in components_of(client, stack_name).items():
        out[kind] = (c.id, c.updated, dict(c.configuration), c.connector.id if c.connector else None, c.connector_resource_id, c.labels)
    conn = components_of(client, stack_name)["artifact_store"].connector
    full = client.get_service_connector(conn.id)
    out["connector"] = (full.id, full.updated, full.auth_method, dict(full.configuration.non_secrets), full.labels)
    return out


def names(client: Any, lister: str) -> List[str]:
    return sorted(x.name for x in getattr(client, lister)(size=1000).items)


def test_the_job_runs_with_the_client_image_libraries_only() -> None:
    """The proof below is about `zenmldocker/zenml:<version>`: plain zenml, no AWS libraries."""
    probe = "import importlib.util as u, zenml; print(zenml.__version__, [m for m in ('boto3', 's3fs', 'kubernetes') if u.find_spec(m)])"
    out = subprocess.run([client_python(), "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == CLIENT_VERSION
    assert out[1:] == ["[]"], f"the client venv has AWS/k8s libraries the client image lacks: {out[1:]}"


def test_first_run_creates_everything(server: Dict[str, str], client: Any, tmp_path: Path) -> None:
    summary = summary_of(run_registration(server, spec(), tmp_path))
    assert summary == {"created": ALL_STAGING, "updated": [], "unchanged": [], "deleted": []}

    stack = client.get_stack("aws-staging", allow_name_prefix_match=False)
    assert stack.labels == OWNER
    comps = components_of(client, "aws-staging")
    assert set(comps) == set(KINDS)
    for kind in KINDS:
        want = EXAMPLE["components"][kind]
        assert comps[kind].name == want["name"]
        assert comps[kind].flavor_name == want["flavor"]
        assert {k: v for k, v in comps[kind].configuration.items() if v is not None} == want["configuration"]
        assert comps[kind].labels == OWNER
        assert comps[kind].connector is not None and comps[kind].connector.name == "aws-staging"
        assert comps[kind].connector_resource_id == want["connector_resource_id"]
    connector = client.get_service_connector("aws-staging", allow_name_prefix_match=False)
    assert connector.auth_method == "implicit"
    assert dict(connector.configuration.non_secrets) == EXAMPLE["connector"]["configuration"]
    assert not connector.configuration.secrets  # no stored keys
    assert connector.labels == OWNER


def test_second_run_changes_nothing(server: Dict[str, str], client: Any, tmp_path: Path) -> None:
    before = state(client, "aws-staging")
    summary = summary_of(run_registration(server, spec(), tmp_path))
    assert summary == {"created": [], "updated": [], "unchanged": ALL_STAGING, "deleted": []}
    assert state(client, "aws-staging") == before


def test_service_account_api_key_logs_in(server: Dict[str, str], client: Any, tmp_path: Path) -> None:
    account = client.create_service_account(name="stack-registrar", description="registration job")
    key = client.create_api_key(service_account_name_id_or_prefix=account.id, name="job").key
    login = {"ZENML_STORE_URL": server["ZENML_STORE_URL"], "ZENML_STORE_API_KEY": key}
    result = run_registration(login, spec(), tmp_path)
    assert summary_of(result)["unchanged"] == ALL_STAGING
    assert key not in result.stdout + result.stderr


def test_changed_bucket_updates_the_artifact_store(server: Dict[str, str], client: Any, tmp_path: Path) -> None:
    before = state(client, "aws-staging")
    changed = spec()
    changed["components"]["artifact_store"]["configuration"]["path"] = "s3://zenml-artifacts-bucket-new"
    changed["components"]["artifact_store"]["connector_resource_id"] = "s3://zenml-artifacts-bucket-new"
    summary = summary_of(run_registration(server, changed, tmp_path))
    assert summary["updated"] == ["artifact_store:s3-staging"]
    assert summary["created"] == summary["deleted"] == []
    store = components_of(client, "aws-staging")["artifact_store"]
    assert store.configuration["path"] == "s3://zenml-artifacts-bucket-new"
    assert store.connector is not None and store.connector.name == "aws-staging"
    assert store.connector_resource_id == "s3://zenml-artifacts-bucket-new"
    assert store.id == before["artifact_store"][0]  # updated in place, not replaced
    after = state(client, "aws-staging")
    assert {k: v for k, v in after.items() if k != "artifact_store"} == {k: v for k, v in before.items() if k != "artifact_store"}

    # And back: the spec is the truth both ways.
    assert summary_of(run_registration(server, spec(), tmp_path))["updated"] == ["artifact_store:s3-staging"]
    assert components_of(client, "aws-staging")["artifact_store"].configuration["path"] == EXAMPLE["components"]["artifact_store"]["configuration"]["path"]


def test_changed_role_updates_the_connector_only(server: Dict[str, str], client: Any, tmp_path: Path) -> None:
    changed = spec()
    changed["connector"]["configuration"]["role_arn"] = "arn:aws:iam::123456789012:role/zenml-staging-connector-2"
    summary = summary_of(run_registration(server, changed, tmp_path))
    assert summary["updated"] == ["service_connector:aws-staging"]
    assert len(summary["unchanged"]) == 5
    connector = client.get_service_connector("aws-staging", allow_name_prefix_match=False)
    assert dict(connector.configuration.non_secrets)["role_arn"].endswith("connector-2")
    assert components_of(client, "aws-staging")["orchestrator"].connector.id == connector.id
    assert summary_of(run_registration(server, spec(), tmp_path))["updated"] == ["service_connector:aws-staging"]


def test_hand_made_changes_to_our_stack_are_undone(server: Dict[str, str], client: Any, tmp_path: Path) -> None:
    from zenml.enums import StackComponentType

    before = state(client, "aws-staging")
    extra = client.create_stack_component(name="hand-added-deployer", flavor="local", component_type=StackComponentType.DEPLOYER, configuration={})
    client.update_stack("aws-staging", component_updates={StackComponentType.DEPLOYER: [extra.id]})
    client.update_stack_component("k8s-staging", StackComponentType.ORCHESTRATOR, configuration={"kubernetes_namespace": "somewhere-else"})
    summary = summary_of(run_registration(server, spec(), tmp_path))
    assert summary["updated"] == ["orchestrator:k8s-staging", "stack:aws-staging"]
    assert set(components_of(client, "aws-staging")) == set(KINDS)
    after = state(client, "aws-staging")
    assert after["orchestrator"][2] == EXAMPLE["components"]["orchestrator"]["configuration"]
    assert after["orchestrator"][0] == before["orchestrator"][0]
    # The hand-added component was not ours: it is off the stack but still there.
    assert client.get_stack_component(StackComponentType.DEPLOYER, extra.id).name == "hand-added-deployer"
    assert summary_of(run_registration(server, spec(), tmp_path))["unchanged"] == ALL_STAGING


def make_foreign(client: Any, kind: str, env: str, labels: Dict[str, str]) -> Tuple[Any, Any]:
    """An object with the name `env`'s spec uses, made by someone else; returns (getter, object)."""
    from zenml.enums import StackComponentType

    if kind == "service_connector":
        obj, _ = client.create_service_connector(
            name=f"aws-{env}", connector_type="aws", auth_method="implicit", configuration={"region": "us-east-1"}, labels=labels, verify=False, list_resources=False
        )
        return (lambda: client.get_service_connector(obj.id)), obj
    if kind == "stack":
        store = client.create_stack_component(name=f"theirs-{env}", flavor="local", component_type=StackComponentType.ARTIFACT_STORE, configuration={})
        orchestrator = client.get_stack_component(StackComponentType.ORCHESTRATOR, "default")
        obj = client.create_stack(name=f"aws-{env}", components={StackComponentType.ARTIFACT_STORE: store.id, StackComponentType.ORCHESTRATOR: orchestrator.id}, labels=labels)
        return (lambda: client.get_stack(obj.id)), obj
    obj = client.create_stack_component(
        name=f"s3-{env}", flavor="s3", component_type=StackComponentType.ARTIFACT_STORE, configuration={"path": "s3://someone-elses"}, labels=labels
    )
    return (lambda: client.get_stack_component(StackComponentType.ARTIFACT_STORE, obj.id)), obj


@pytest.mark.parametrize(
    "kind,labels",
    [
        ("service_connector", {}),
        ("artifact_store", {}),
        ("stack", {"team": "data"}),
        # Ours, but for another environment: still not this environment's to change.
        ("artifact_store", {"zenml-platform/owner": "zenml-platform", "zenml-platform/environment": "elsewhere"}),
    ],
    ids=["connector", "component", "stack", "other-environment"],
)
def test_foreign_object_with_our_name_is_refused_and_untouched(server: Dict[str, str], client: Any, tmp_path: Path, kind: str, labels: Dict[str, str]) -> None:
    env = f"clash{len(labels)}{kind.split('_')[0]}"
    get, foreign = make_foreign(client, kind, env, labels)
    result = run_registration(server, renamed(env), tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    label = {"service_connector": "service connector", "artifact_store": "artifact store", "stack": "stack"}[kind]
    name = foreign.name
    assert lines[-1].startswith(f"register_stack: {label} '{name}' exists but was not created by zenml-platform for '{env}'"), lines[-1]
    assert "Traceback" not in result.stderr
    again = get()
    assert again.updated == foreign.updated
    assert again.labels == foreign.labels
    # Refused before the first write: nothing of this environment was created around the clash.
    if kind != "service_connector":
        with pytest.raises(KeyError):
            client.get_service_connector(f"aws-{env}", allow_name_prefix_match=False)


def test_removed_stack_is_deleted_with_what_only_it_used(server: Dict[str, str], client: Any, tmp_path: Path) -> None:
    # Our previous stack (other names, own connector), no longer in the spec.
    # One stack per environment: registering it replaces the current one, which it deletes.
    old = renamed("staging", "-old")
    old_names = [n.replace("staging", "staging-old") for n in ALL_STAGING]
    first = summary_of(run_registration(server, old, tmp_path))
    assert first["created"] == old_names
    assert sorted(first["deleted"]) == sorted(ALL_STAGING)
    # Back to the spec: the old stack goes, with the components and connector only it used.
    summary = summary_of(run_registration(server, spec(), tmp_path))
    assert summary["created"] == ALL_STAGING
    assert sorted(summary["deleted"]) == sorted(old_names)
    assert "aws-staging-old" not in names(client, "list_stacks")
    assert "aws-staging-old" not in names(client, "list_service_connectors")
    assert not [n for n in names(client, "list_stack_components") if n.endswith("-old")]
    assert summary_of(run_registration(server, spec(), tmp_path))["deleted"] == []


def test_removed_stack_is_deleted_only_if_ours(server: Dict[str, str], client: Any, tmp_path: Path) -> None:
    from zenml.enums import StackComponentType

    old = renamed("staging", "-old")
    summary_of(run_registration(server, old, tmp_path))
    # Someone else's stack uses one of our old components: that component (and the connector it
    # uses) must stay. A hand-made stack and another environment's stack are never touched.
    ours_orchestrator = client.get_stack_component(StackComponentType.ORCHESTRATOR, "k8s-staging-old")
    hand_store = client.create_stack_component(name="hand-made-store", flavor="local", component_type=StackComponentType.ARTIFACT_STORE, configuration={})
    client.create_stack(name="hand-made", components={StackComponentType.ARTIFACT_STORE: hand_store.id, StackComponentType.ORCHESTRATOR: ours_orchestrator.id})
    prod = renamed("prod")
    summary_of(run_registration(server, prod, tmp_path))

    summary = summary_of(run_registration(server, spec(), tmp_path))
    assert summary["created"] == ALL_STAGING
    assert sorted(summary["deleted"]) == sorted(
        ["stack:aws-staging-old", "artifact_store:s3-staging-old", "container_registry:ecr-staging-old", "image_builder:codebuild-staging-old"]
    )
    stacks = names(client, "list_stacks")
    assert {"aws-staging", "aws-prod", "hand-made", "default"} <= set(stacks)
    assert "aws-staging-old" not in stacks
    assert client.get_stack_component(StackComponentType.ORCHESTRATOR, "k8s-staging-old").id == ours_orchestrator.id
    assert "aws-staging-old" in names(client, "list_service_connectors")
    assert set(components_of(client, "aws-prod")) == set(KINDS)
    assert components_of(client, "aws-prod")["artifact_store"].labels["zenml-platform/environment"] == "prod"


def test_unreachable_server_fails_in_one_line(against_a_down_server: Dict[str, EarlyRun]) -> None:
    result = against_a_down_server["register"].result()
    assert result.returncode == 1
    assert result.stdout == ""
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"register_stack: cannot use the ZenML server at {DOWN_SERVER['ZENML_STORE_URL']}")
    assert DOWN_SERVER["ZENML_STORE_PASSWORD"] not in result.stderr


def test_wrong_credentials_fail_in_one_line(server: Dict[str, str], tmp_path: Path) -> None:
    for creds in ({"ZENML_STORE_USERNAME": "admin", "ZENML_STORE_PASSWORD": "wrong-password-xyz"}, {"ZENML_STORE_API_KEY": "ZENKEY_not-a-real-key"}):
        result = run_registration({"ZENML_STORE_URL": server["ZENML_STORE_URL"], **creds}, spec(), tmp_path)
        assert result.returncode == 1
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith(f"register_stack: cannot use the ZenML server at {server['ZENML_STORE_URL']}: Authentication error"), last
        for secret in creds.values():
            assert secret == "admin" or secret not in result.stderr


def test_invalid_spec_touches_nothing(server: Dict[str, str], client: Any, tmp_path: Path) -> None:
    before = state(client, "aws-staging")
    broken = spec()
    del broken["components"]["image_builder"]
    result = run_registration(server, broken, tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == "register_stack: invalid spec: components lack image_builder"
    bad_path = spec()
    bad_path["components"]["artifact_store"]["configuration"]["path"] = "not-a-bucket"
    result = run_registration(server, bad_path, tmp_path)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("register_stack: failed at the artifact store 's3-staging': "), last
    assert state(client, "aws-staging") == before


def test_spec_from_the_environment(server: Dict[str, str], tmp_path: Path) -> None:
    result = run_script(server, tmp_path, [str(HERE.parent / "register_stack.py")], ZENML_PLATFORM_STACK_SPEC=json.dumps(spec()))
    assert summary_of(result)["unchanged"] == ALL_STAGING


def test_check_stack_sees_the_registered_stack(server: Dict[str, str], client: Any, tmp_path: Path) -> None:
    from zenml.enums import StackComponentType

    check = str(HERE.parent / "check_stack.py")
    ok = run_script(server, tmp_path, [check, "aws-staging"])
    assert ok.returncode == 0, ok.stderr
    missing = run_script(server, tmp_path, [check, "nope"])
    assert missing.returncode == 1
    assert "no ZenML stack named 'nope'" in missing.stderr
    # A stack without all four components is not good enough.
    partial = client.create_stack(
        name="partial",
        components={
            StackComponentType.ARTIFACT_STORE: client.get_stack_component(StackComponentType.ARTIFACT_STORE, "s3-staging").id,
            StackComponentType.ORCHESTRATOR: client.get_stack_component(StackComponentType.ORCHESTRATOR, "k8s-staging").id,
        },
    )
    lacking = run_script(server, tmp_path, [check, partial.name])
    assert lacking.returncode == 1
    assert "lacks container_registry, image_builder" in lacking.stderr


def test_check_stack_fails_cleanly_when_the_server_is_down(against_a_down_server: Dict[str, EarlyRun]) -> None:
    down = against_a_down_server["check"].result()
    assert down.returncode == 1
    assert "Traceback" not in down.stderr
