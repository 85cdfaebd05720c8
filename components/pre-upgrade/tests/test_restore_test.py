"""restore_test.py's RDS side with a stand-in RDS client: only its own identifier, always deleted."""

import argparse

import pytest

from restore_test import restore_and_check

ARGS = argparse.Namespace(snapshot="zenml-staging-pre-upgrade-0-97-0-to-0-98-0", instance="zenml-staging-restore-test", instance_class="db.t4g.medium",
                          subnet_group="zenml-database-subnets-1", security_group="sg-1", parameter_group="zenml-database-params-mysql8-4-1", ca="/dbcerts/rds-ca.pem", wait_minutes=50)
INVENTORY = {"counts": {"stacks": 2, "runs": 10}}


class NotFound(Exception):
    """botocore's DBInstanceNotFoundFault, by name."""


class FakeRds:
    def __init__(self, leftover=False, fail_restore=False):
        self.calls, self.instances, self.fail_restore = [], {}, fail_restore
        if leftover:
            self.instances[ARGS.instance] = {"status": "available", "polls": 0}

    def describe_db_instances(self, DBInstanceIdentifier):
        self.calls.append(("describe", DBInstanceIdentifier))
        db = self.instances.get(DBInstanceIdentifier)
        if db is None:
            raise NotFound(f"DBInstanceNotFound: {DBInstanceIdentifier}")
        db["polls"] += 1
        if db["status"] == "creating" and db["polls"] > 2:
            db["status"] = "available"
        if db["status"] == "deleting" and db["polls"] > 1:
            del self.instances[DBInstanceIdentifier]
            raise NotFound(DBInstanceIdentifier)
        pending = {"MasterUserPassword": "****"} if db.get("password_pending", 0) > 0 else {}
        db["password_pending"] = max(0, db.get("password_pending", 0) - 1)
        return {"DBInstances": [{"DBInstanceStatus": db["status"], "PendingModifiedValues": pending, "Endpoint": {"Address": "copy.rds", "Port": 3306}, "MasterUsername": "zenml", "DBName": "zenml", "AllocatedStorage": 20}]}

    def restore_db_instance_from_db_snapshot(self, **kw):
        self.calls.append(("restore", kw))
        if self.fail_restore:
            raise RuntimeError("InsufficientDBInstanceCapacity")
        self.instances[kw["DBInstanceIdentifier"]] = {"status": "creating", "polls": 0}

    def modify_db_instance(self, **kw):
        self.calls.append(("modify", kw))
        self.instances[kw["DBInstanceIdentifier"]]["password_pending"] = 2

    def delete_db_instance(self, **kw):
        self.calls.append(("delete", kw))
        self.instances[kw["DBInstanceIdentifier"]]["status"] = "deleting"
        self.instances[kw["DBInstanceIdentifier"]]["polls"] = 0


def connect_to(rows):
    seen = {}

    def connect(host, port, user, password, database, ca):
        seen.update(host=host, port=port, user=user, password=password, database=database, ca=ca)
        return lambda sql: rows(sql)

    return connect, seen


def healthy_copy(sql):
    if "alembic_version" in sql:
        return [("rev-from",)]
    return [(10,)] if "pipeline_run" in sql else [(2,)]


def identifiers(rds):
    """Every instance identifier any call named."""
    return {c[1] if isinstance(c[1], str) else c[1]["DBInstanceIdentifier"] for c in rds.calls}


def test_restores_checks_and_deletes_its_own_copy_with_a_password_of_its_own():
    rds = FakeRds()
    connect, seen = connect_to(healthy_copy)
    report = restore_and_check(rds, ARGS, INVENTORY, connect, ["rev-from"], sleep=lambda s: None)
    assert report["ok"] is True and report["deleted"] is True, report
    assert identifiers(rds) == {ARGS.instance}
    [restore] = [c[1] for c in rds.calls if c[0] == "restore"]
    assert restore["DBSnapshotIdentifier"] == ARGS.snapshot and restore["PubliclyAccessible"] is False and restore["DeletionProtection"] is False and restore["MultiAZ"] is False
    [modify] = [c[1] for c in rds.calls if c[0] == "modify"]
    # The copy is checked with the password set here, never the live one.
    assert seen["password"] == modify["MasterUserPassword"] and len(seen["password"]) >= 32
    assert (seen["host"], seen["ca"]) == ("copy.rds", ARGS.ca)
    [delete] = [c[1] for c in rds.calls if c[0] == "delete"]
    assert delete == {"DBInstanceIdentifier": ARGS.instance, "SkipFinalSnapshot": True, "DeleteAutomatedBackups": True}


def test_a_failed_check_still_deletes_the_copy_and_fails():
    rds = FakeRds()
    connect, _ = connect_to(lambda sql: [("rev-older",)] if "alembic" in sql else [(0,)])
    report = restore_and_check(rds, ARGS, INVENTORY, connect, ["rev-from"], sleep=lambda s: None)
    assert report["ok"] is False and report["deleted"] is True
    assert [c["name"] for c in report["checks"] if not c["ok"]] == ["alembic-head", "inventory-counts"]
    assert [c[0] for c in rds.calls if c[0] != "describe"] == ["restore", "modify", "delete"]


def test_a_failed_restore_is_reported_and_nothing_else_is_touched():
    rds = FakeRds(fail_restore=True)
    connect, seen = connect_to(healthy_copy)
    report = restore_and_check(rds, ARGS, INVENTORY, connect, ["rev-from"], sleep=lambda s: None)
    assert report["ok"] is False and "InsufficientDBInstanceCapacity" in report["error"]
    assert seen == {} and identifiers(rds) == {ARGS.instance}


def test_a_copy_left_by_an_earlier_attempt_is_deleted_first():
    rds = FakeRds(leftover=True)
    connect, _ = connect_to(healthy_copy)
    report = restore_and_check(rds, ARGS, INVENTORY, connect, ["rev-from"], sleep=lambda s: None)
    assert report["ok"] is True
    kinds = [c[0] for c in rds.calls if c[0] != "describe"]
    assert kinds == ["delete", "restore", "modify", "delete"]
