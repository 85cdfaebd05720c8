"""Pipeline smoke suite, run against an (upgraded) ZenML server.

Environment:
  ZENML_STORE_URL, ZENML_STORE_API_KEY  server and service-account key (read by ZenML itself)
  ZENML_SMOKE_SEED_FILE                 JSON written by seed.py before the upgrade (optional:
                                        the seed tests skip without it)
  ZENML_SMOKE_EXPECT_VERSION            server version expected (default: this client's version)
  ZENML_SMOKE_STACK                     a ZenML stack that must exist with its components; the
                                        smoke pipeline runs on it
"""

import json
import os
from pathlib import Path

import pytest
import zenml
from zenml.client import Client
from zenml.enums import StackComponentType

from smoke_pipelines import smoke_check_pipeline, step_outputs


def _completed(status) -> bool:
    return str(getattr(status, "value", status)) == "completed"


@pytest.fixture(scope="session")
def client() -> Client:
    if not os.environ.get("ZENML_STORE_URL"):
        pytest.fail("ZENML_STORE_URL is not set: point the suite at a ZenML server")
    client = Client()
    # The smoke pipeline runs where the teams' pipelines run: the environment's own stack.
    if os.environ.get("ZENML_SMOKE_STACK"):
        client.activate_stack(os.environ["ZENML_SMOKE_STACK"])
    return client


@pytest.fixture(scope="session")
def seed():
    path = os.environ.get("ZENML_SMOKE_SEED_FILE")
    if not path:
        pytest.skip("ZENML_SMOKE_SEED_FILE not set: no pre-upgrade seed to check")
    p = Path(path)
    assert p.is_file(), f"seed file {p} does not exist"
    return json.loads(p.read_text())


def test_server_version(client):
    expected = os.environ.get("ZENML_SMOKE_EXPECT_VERSION", zenml.__version__)
    info = client.zen_store.get_store_info()
    assert info.version == expected
    assert str(getattr(info.database_type, "value", info.database_type)) == "mysql"


def test_seed_run_survived_upgrade(client, seed):
    run = client.get_pipeline_run(seed["run_id"])
    assert run.name == seed["run_name"]
    assert _completed(run.status)


def test_seed_artifacts_load_with_same_values(client, seed):
    assert seed["artifacts"], "seed file lists no artifacts"
    for a in seed["artifacts"]:
        av = client.get_artifact_version(a["artifact_version_id"])
        assert av.load() == a["value"], f"{a['step']}.{a['output']} changed"


def test_smoke_pipeline_runs_to_completion(client):
    run = smoke_check_pipeline(x=12)
    run = client.get_pipeline_run(run.id)
    assert _completed(run.status), f"smoke run ended {run.status}"
    outputs = list(step_outputs(run, "square"))
    assert [av.load() for _, av in outputs] == [144]


def test_expected_stack_exists(client):
    name = os.environ.get("ZENML_SMOKE_STACK")
    if not name:
        pytest.skip("ZENML_SMOKE_STACK not set")
    stack = client.get_stack(name, allow_name_prefix_match=False)
    components = stack.components
    for kind in (StackComponentType.ORCHESTRATOR, StackComponentType.ARTIFACT_STORE):
        assert components.get(kind), f"stack {name} has no {kind.value}"
