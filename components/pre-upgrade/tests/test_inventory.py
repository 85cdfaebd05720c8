"""inventory.py against a real server: what it lists, that no secret value is in it, its counts."""

import json

import zenml

from conftest import PAYLOAD, last_json, run
from inventory import alembic_heads


def take(server, tmp_path, *extra):
    out = tmp_path / "inventory.json"
    result = run(server, tmp_path, [str(PAYLOAD / "inventory.py"), "--stack", "staging", "--from-version", zenml.__version__, "--to-version", "9.9.9", "--out", str(out), *extra])
    return result, out


def test_lists_what_the_server_holds_with_counts_and_the_alembic_head(server, seeded, tmp_path):
    result, out = take(server, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    doc = json.loads(out.read_text())
    line = last_json(result, "PRE_UPGRADE_INVENTORY")
    assert line["ok"] is True and line["document"] == str(out) and line["counts"] == doc["counts"]
    assert doc["kind"] == "zenml-platform/pre-upgrade-inventory" and (doc["from_version"], doc["to_version"]) == (zenml.__version__, "9.9.9")
    assert doc["alembic_heads"] == alembic_heads() and len(doc["alembic_heads"]) >= 1
    spec = json.loads((PAYLOAD.parents[0] / "registration" / "example-spec.json").read_text())
    assert spec["stack"]["name"] in {s["name"] for s in doc["stacks"]}
    assert {u["name"] for u in doc["users"]} >= set(seeded["users"]) | {"admin"}
    assert seeded["secret"] in {s["name"] for s in doc["secrets"]}
    [connector] = [c for c in doc["service_connectors"] if c["type"] == "aws"]
    assert connector["auth_method"] and connector["resource_types"]
    for kind in ("stacks", "components", "service_connectors", "users", "secrets"):
        assert doc["counts"][kind] == len(doc[kind]) > 0, kind


def test_never_writes_a_secret_value(server, seeded, tmp_path):
    result, out = take(server, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    text = out.read_text() + result.stdout + result.stderr
    assert seeded["secret_password"] not in text
    assert server["ZENML_STORE_PASSWORD"] not in text


def test_masks_secret_looking_configuration_but_keeps_references():
    from inventory import masked

    assert masked({"region": "eu-west-1", "password": "hunter2", "aws_secret_access_key": "abc", "token": "{{vault.token}}", "api_key": "k"}) == {
        "region": "eu-west-1", "password": "[masked]", "aws_secret_access_key": "[masked]", "token": "{{vault.token}}", "api_key": "[masked]",
    }


def test_refuses_a_server_that_is_not_the_upgrades_from_version(server, tmp_path):
    out = tmp_path / "inventory.json"
    result = run(server, tmp_path, [str(PAYLOAD / "inventory.py"), "--stack", "staging", "--from-version", "0.1.0", "--to-version", "9.9.9", "--out", str(out)])
    assert result.returncode == 1
    line = last_json(result, "PRE_UPGRADE_INVENTORY")
    assert line["ok"] is False and f"runs {zenml.__version__}, not 0.1.0" in line["error"]
    assert not out.exists()


def test_the_restored_database_check_matches_the_api_counts(server, seeded, tmp_path, database):
    """The restore-test's SQL counts are the inventory's API counts, kind by kind, on one database."""
    from restore_test import check_database

    result, out = take(server, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    inventory = json.loads(out.read_text())
    report = check_database(database, inventory, alembic_heads())
    assert report["ok"] is True, report
    assert report["counts"] == inventory["counts"]


def test_the_check_fails_when_the_copy_lacks_rows_or_is_at_another_revision(server, seeded, tmp_path, database):
    from restore_test import check_database

    result, out = take(server, tmp_path)
    inventory = json.loads(out.read_text())
    inventory["counts"]["stacks"] += 1
    report = check_database(database, inventory, ["not-a-revision"])
    assert report["ok"] is False
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["alembic-head"]["ok"] is False and "not-a-revision" in checks["alembic-head"]["detail"]
    assert checks["inventory-counts"]["ok"] is False and "'stacks'" in checks["inventory-counts"]["detail"]
