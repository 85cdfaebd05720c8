"""Proves the pre-upgrade backup restorable before the server moves.

`rds` (the restore-test Job, FROM's image): restores the pre-upgrade snapshot into a short-lived
instance of its own identifier, gives that copy a password made here and never stored, checks it,
and deletes it again whatever happened (no final snapshot). Its IAM role may restore only from this
stack's pre-upgrade snapshots and may modify or delete only that identifier, and the pod never
holds the live database's password: nothing here can touch the live database.

`check` (the rehearsal, the tests): the same check against a database given by host and port.

The check: the copy's alembic_version is the head of FROM's migrations (this image's), and each
kind the inventory counted has at least the inventory's count (a run finishing between inventory
and snapshot may add rows; fewer means the backup lost what the server held).

Usage: restore_test.py rds --snapshot ID --instance ID --instance-class C --subnet-group G
           --security-group SG --parameter-group P --inventory DOC --out DOC [--ca FILE] [--wait-minutes N]
       restore_test.py check --host H --port P --user U --password-env VAR --database D --inventory DOC [--out DOC]
The last stdout line is `PRE_UPGRADE_RESTORE_TEST <report>`; exit 0 pass, 1 fail.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inventory import alembic_heads  # noqa: E402
from preflight_io import log, read_document, result_line, write_document  # noqa: E402

PREFIX = "PRE_UPGRADE_RESTORE_TEST"
KIND = "zenml-platform/pre-upgrade-restore-test"
# Each inventory count (read through the API) against the table it comes from.
COUNT_SQL = {
    "stacks": "SELECT COUNT(*) FROM stack",
    "components": "SELECT COUNT(*) FROM stack_component",
    "service_connectors": "SELECT COUNT(*) FROM service_connector",
    "users": "SELECT COUNT(*) FROM user WHERE is_service_account = 0",
    "service_accounts": "SELECT COUNT(*) FROM user WHERE is_service_account = 1",
    "pipelines": "SELECT COUNT(*) FROM pipeline",
    "snapshots": "SELECT COUNT(*) FROM pipeline_snapshot WHERE name IS NOT NULL",
    "run_templates": "SELECT COUNT(*) FROM run_template",
    "schedules": "SELECT COUNT(*) FROM schedule",
    "secrets": "SELECT COUNT(*) FROM secret",
    "runs": "SELECT COUNT(*) FROM pipeline_run",
}


def check_database(query: Callable[[str], List[tuple]], inventory: Dict[str, Any], heads: List[str]) -> Dict[str, Any]:
    """The restored database against FROM's alembic head and the inventory's counts."""
    revisions = sorted(row[0] for row in query("SELECT version_num FROM alembic_version"))
    counts = {kind: int(query(sql)[0][0]) for kind, sql in COUNT_SQL.items() if kind in inventory["counts"]}
    missing = {kind: {"inventory": inventory["counts"][kind], "restored": n} for kind, n in counts.items() if n < inventory["counts"][kind]}
    added = {kind: n - inventory["counts"][kind] for kind, n in counts.items() if n > inventory["counts"][kind]}
    checks = [
        {"name": "alembic-head", "ok": revisions == sorted(heads), "detail": f"restored {revisions}, FROM's head {sorted(heads)}"},
        {"name": "inventory-counts", "ok": not missing,
         "detail": (f"fewer than the inventory: {missing}" if missing else f"{len(counts)} kinds at least as counted") + (f"; added since the inventory: {added}" if added else "")},
    ]
    return {"alembic_version": revisions, "counts": counts, "checks": checks, "ok": all(c["ok"] for c in checks)}


def mysql_query(host: str, port: int, user: str, password: str, database: str, ca: Optional[str]) -> Callable[[str], List[tuple]]:
    import pymysql  # the server image's MySQL driver

    conn = pymysql.connect(host=host, port=port, user=user, password=password, database=database, connect_timeout=30, ssl={"ca": ca} if ca else None)

    def query(sql: str) -> List[tuple]:
        with conn.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())

    return query


def wait_for(rds: Any, instance: str, ready: Callable[[Dict[str, Any]], bool], deadline: float, sleep: Callable[[float], None]) -> Dict[str, Any]:
    while True:
        db = rds.describe_db_instances(DBInstanceIdentifier=instance)["DBInstances"][0]
        if ready(db):
            return db
        if time.monotonic() > deadline:
            raise TimeoutError(f"{instance} is still {db['DBInstanceStatus']} at the deadline")
        sleep(20)


def status_of(rds: Any, instance: str) -> Optional[str]:
    """The instance's status, None when it does not exist."""
    try:
        return rds.describe_db_instances(DBInstanceIdentifier=instance)["DBInstances"][0]["DBInstanceStatus"]
    except Exception as e:  # botocore's DBInstanceNotFoundFault: nothing there
        if "NotFound" in type(e).__name__ or "NotFound" in str(e):
            return None
        raise


def exists(rds: Any, instance: str) -> bool:
    return status_of(rds, instance) is not None


def gone_or_deleting(rds: Any, instance: str) -> bool:
    return status_of(rds, instance) in (None, "deleting")


def delete_copy(rds: Any, instance: str) -> bool:
    try:
        rds.delete_db_instance(DBInstanceIdentifier=instance, SkipFinalSnapshot=True, DeleteAutomatedBackups=True)
    except Exception as e:  # already deleting or gone is fine; anything else is reported
        if not ("NotFound" in str(e) or "InvalidDBInstanceState" in str(e)):
            log("restore-test", f"deleting {instance} failed: {e}")
    return gone_or_deleting(rds, instance)


def restore_and_check(rds: Any, a: argparse.Namespace, inventory: Dict[str, Any], connect: Callable[..., Callable[[str], List[tuple]]],
                      heads: List[str], sleep: Callable[[float], None] = time.sleep) -> Dict[str, Any]:
    deadline = time.monotonic() + a.wait_minutes * 60
    report: Dict[str, Any] = {"kind": KIND, "snapshot": a.snapshot, "instance": a.instance, "instance_class": a.instance_class, "ok": False}
    t0 = time.monotonic()
    try:
        # A copy left by an earlier attempt that died before its own clean-up.
        if exists(rds, a.instance):
            log("restore-test", f"{a.instance} is left from an earlier attempt: deleting it first")
            delete_copy(rds, a.instance)
            while exists(rds, a.instance):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{a.instance} from an earlier attempt is still being deleted")
                sleep(20)
        rds.restore_db_instance_from_db_snapshot(
            DBInstanceIdentifier=a.instance, DBSnapshotIdentifier=a.snapshot, DBInstanceClass=a.instance_class, DBSubnetGroupName=a.subnet_group,
            VpcSecurityGroupIds=[a.security_group], DBParameterGroupName=a.parameter_group, MultiAZ=False, PubliclyAccessible=False,
            AutoMinorVersionUpgrade=False, DeletionProtection=False, CopyTagsToSnapshot=False,
            Tags=[{"Key": "purpose", "Value": "restore-test"}, {"Key": "snapshot", "Value": a.snapshot}],
        )
        db = wait_for(rds, a.instance, lambda d: d["DBInstanceStatus"] == "available", deadline, sleep)
        report["restore_seconds"] = round(time.monotonic() - t0, 1)
        # The copy keeps the live password; it gets one of its own, which exists only in this process.
        password = secrets.token_urlsafe(32)
        rds.modify_db_instance(DBInstanceIdentifier=a.instance, MasterUserPassword=password, ApplyImmediately=True)
        sleep(20)
        db = wait_for(rds, a.instance, lambda d: d["DBInstanceStatus"] == "available" and "MasterUserPassword" not in d.get("PendingModifiedValues", {}), deadline, sleep)
        report["allocated_storage_gb"] = db.get("AllocatedStorage")
        query = connect(db["Endpoint"]["Address"], int(db["Endpoint"]["Port"]), db["MasterUsername"], password, db.get("DBName") or "zenml", a.ca)
        report.update(check_database(query, inventory, heads))
    except Exception as e:
        traceback.print_exc()
        report["error"] = f"{type(e).__name__}: {str(e)[:300]}"
        report["ok"] = False
    finally:
        report["deleted"] = delete_copy(rds, a.instance)
        report["seconds"] = round(time.monotonic() - t0, 1)
    # A copy that may still exist is a failure too: it costs money and holds prod's data.
    report["ok"] = bool(report["ok"]) and report["deleted"]
    return report


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("rds")
    for flag in ("--snapshot", "--instance", "--instance-class", "--subnet-group", "--security-group", "--parameter-group", "--inventory", "--out"):
        r.add_argument(flag, required=True)
    r.add_argument("--ca")
    r.add_argument("--wait-minutes", type=float, default=50)
    c = sub.add_parser("check")
    for flag in ("--host", "--user", "--password-env", "--database", "--inventory"):
        c.add_argument(flag, required=True)
    c.add_argument("--port", type=int, default=3306)
    c.add_argument("--out")
    a = p.parse_args(argv)
    try:
        inventory = read_document(a.inventory)
        heads = alembic_heads()
        if a.mode == "check":
            report = {"kind": KIND, **check_database(mysql_query(a.host, a.port, a.user, os.environ[a.password_env], a.database, None), inventory, heads)}
        else:
            import boto3

            report = restore_and_check(boto3.client("rds"), a, inventory, mysql_query, heads)
        if getattr(a, "out", None):
            write_document(a.out, report)
    except Exception as e:
        traceback.print_exc()
        result_line(PREFIX, {"ok": False, "error": f"{type(e).__name__}: {str(e)[:300]}"})
        return 1
    for check in report.get("checks", []):
        log("restore-test", f"{check['name']}: {'pass' if check['ok'] else 'FAIL'} ({check['detail']})")
    result_line(PREFIX, {k: report.get(k) for k in ("ok", "snapshot", "instance", "restore_seconds", "seconds", "deleted", "alembic_version", "counts", "error") if k in report})
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
