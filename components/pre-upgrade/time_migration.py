"""Times the TO version's migration on a copy of a database, before the real one.

Runs with the TO version's ZenML (the migration-timing Job in staging's cluster, on a short-lived
copy of prod's latest snapshot; the rehearsal, on a copy in MariaDB). It measures the copy's size,
runs `zenml migrate-database` exactly as the chart's hook does (same backup strategy), and records
how long it took, whether it passed and the alembic revisions before and after. The copy is
throw-away: the caller deletes it.

Usage: time_migration.py --host H --port P --user U --password-env VAR --database D --to-version X
                         [--ca FILE] [--backup-strategy database] [--backup-database NAME] [--out DOC]
The last stdout line is `MIGRATION_TIMING <record>`; exit 0 when the migration passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inventory import alembic_heads  # noqa: E402
from preflight_io import log, result_line, write_document  # noqa: E402
from restore_test import mysql_query  # noqa: E402

PREFIX = "MIGRATION_TIMING"
KIND = "zenml-platform/migration-timing"


def database_size_mb(query: Any, database: str) -> float:
    rows = query(f"SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables WHERE table_schema = '{database}'")
    return round(int(rows[0][0]) / 1024 / 1024, 1)


def migration_env(a: argparse.Namespace, password: str) -> Dict[str, str]:
    """The chart's migration hook environment, pointed at the copy."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENML_") or k == "ZENML_CONFIG_PATH"}
    env.update(
        ZENML_STORE_URL=f"mysql://{a.user}@{a.host}:{a.port}/{a.database}",
        ZENML_STORE_PASSWORD=password,
        ZENML_STORE_BACKUP_STRATEGY=a.backup_strategy,
        ZENML_STORE_BACKUP_DATABASE=a.backup_database,
        ZENML_ANALYTICS_OPT_IN="false",
        ZENML_LOGGING_VERBOSITY="INFO",
    )
    if a.ca:
        env.update(ZENML_STORE_SSL_CA=a.ca, ZENML_STORE_SSL_VERIFY_SERVER_CERT="true")
    return env


def time_it(a: argparse.Namespace, password: str, log_file: Optional[Path]) -> Dict[str, Any]:
    query = mysql_query(a.host, a.port, a.user, password, a.database, a.ca)
    before = sorted(r[0] for r in query("SELECT version_num FROM alembic_version"))
    size = database_size_mb(query, a.database)
    zenml_cli = str(Path(sys.executable).parent / "zenml")
    t0 = time.monotonic()
    done = subprocess.run([zenml_cli, "migrate-database"], env=migration_env(a, password), capture_output=True, text=True)
    seconds = round(time.monotonic() - t0, 1)
    if log_file:
        log_file.write_text(done.stdout + done.stderr)
    after = sorted(r[0] for r in mysql_query(a.host, a.port, a.user, password, a.database, a.ca)("SELECT version_num FROM alembic_version"))
    heads = alembic_heads()
    passed = done.returncode == 0 and after == heads
    tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
    return {
        "kind": KIND, "to_version": a.to_version, "database": a.database, "size_mb": size, "seconds": seconds, "minutes": round(seconds / 60, 2),
        "result": "passed" if passed else "failed", "ok": passed, "exit_code": done.returncode, "alembic_before": before, "alembic_after": after, "to_heads": heads,
        **({} if passed else {"error": tail[0][:300]}),
    }


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag in ("--host", "--user", "--password-env", "--database", "--to-version"):
        p.add_argument(flag, required=True)
    p.add_argument("--port", type=int, default=3306)
    p.add_argument("--ca")
    p.add_argument("--backup-strategy", default="database")
    p.add_argument("--backup-database", default="zenml_backup")
    p.add_argument("--log")
    p.add_argument("--out")
    a = p.parse_args(argv)
    try:
        import zenml

        if zenml.__version__ != a.to_version:
            raise RuntimeError(f"this is ZenML {zenml.__version__}, not the upgrade's TO {a.to_version}")
        record = time_it(a, os.environ[a.password_env], Path(a.log) if a.log else None)
        if a.out:
            write_document(a.out, record)
    except Exception as e:
        traceback.print_exc()
        result_line(PREFIX, {"ok": False, "result": "error", "error": f"{type(e).__name__}: {str(e)[:300]}"})
        return 1
    log("migration-timing", f"{record['result']}: {record['seconds']}s on {record['size_mb']} MB ({record['alembic_before']} -> {record['alembic_after']})")
    result_line(PREFIX, record)
    return 0 if record["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
