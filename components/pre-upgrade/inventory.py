"""The inventory an upgrade starts from: what the server holds, without one secret value.

Runs in the pre-upgrade inventory Job (components/pre-upgrade/pre-upgrade.ts) with the client of
the version the server runs now (FROM), before the drain, the snapshot and the migration. It lists
stacks and their components (configuration with secret-looking values masked), service connectors
(configuration without the secrets ZenML keeps apart, and the names of those), users and service
accounts, pipelines, named snapshots, run templates, schedules, secret names (never values), the
runs, and the alembic head of FROM's migrations. It is what an operator reads when something is
missing after the upgrade; the restore-test compares the restored database with its counts.

Usage: inventory.py --stack NAME --from-version X --to-version Y --out PATH|s3://BUCKET/KEY
The last stdout line is `PRE_UPGRADE_INVENTORY <counts and where the document is>`; exit 0, or 1
when the server cannot be read.
"""

from __future__ import annotations

import argparse
import re
import sys
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))
from preflight_io import all_pages, log, result_line, write_document  # noqa: E402

PREFIX = "PRE_UPGRADE_INVENTORY"
KIND = "zenml-platform/pre-upgrade-inventory"
# A configuration value under such a key is masked unless it is a secret reference ({{secret.key}}).
SECRET_LOOKING = re.compile(r"pass(word)?|secret|token|credential|private|key$|_key|api_key", re.I)
SECRET_REFERENCE = re.compile(r"^\{\{[^{}]+\}\}$")


def masked(config: Dict[str, Any]) -> Dict[str, Any]:
    """Configuration as stored, values of secret-looking keys replaced, references kept."""
    out: Dict[str, Any] = {}
    for key, value in (config or {}).items():
        keep = not SECRET_LOOKING.search(key) or (isinstance(value, str) and SECRET_REFERENCE.match(value))
        out[key] = value if keep else "[masked]"
    return out


def alembic_heads() -> List[str]:
    """The head revisions of this ZenML's migrations: what a database it migrated records."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    import zenml.zen_stores.migrations as migrations

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return sorted(ScriptDirectory.from_config(config).get_heads())


def name_of(model: Any) -> Any:
    return getattr(model, "name", None) if model is not None else None


def take(client: Any) -> Dict[str, Any]:
    stacks = all_pages(client.list_stacks, hydrate=True)
    components = all_pages(client.list_stack_components, hydrate=True)
    connectors = all_pages(client.list_service_connectors, hydrate=True)
    users = all_pages(client.list_users)
    service_accounts = all_pages(client.list_service_accounts)
    pipelines = all_pages(client.list_pipelines)
    snapshots = all_pages(client.list_snapshots, named_only=True, hydrate=True)
    templates = all_pages(client.list_run_templates, hidden=None, hydrate=True)
    schedules = all_pages(client.list_schedules, hydrate=True)
    secrets = all_pages(client.list_secrets)
    runs = client.list_pipeline_runs(size=1)
    return {
        "stacks": [{"name": s.name, "id": str(s.id), "components": {str(t): [c.name for c in cs] for t, cs in s.components.items()}} for s in stacks],
        "components": [{"name": c.name, "id": str(c.id), "type": str(c.type), "flavor": c.flavor_name, "configuration": masked(c.configuration), "connector": name_of(c.connector)} for c in components],
        # ZenML keeps a connector's secrets apart from its configuration; only their names are listed.
        "service_connectors": [
            {"name": c.name, "id": str(c.id), "type": str(c.type), "auth_method": c.auth_method, "resource_types": list(c.resource_types), "resource_id": c.resource_id,
             "configuration": masked(dict(c.configuration.non_secrets)), "secret_keys": sorted(c.configuration.secrets.keys())}
            for c in connectors
        ],
        "users": [{"name": u.name, "active": u.active} for u in users],
        "service_accounts": [{"name": a.name, "active": a.active} for a in service_accounts],
        "pipelines": [{"name": p.name, "id": str(p.id)} for p in pipelines],
        "snapshots": [{"name": s.name, "id": str(s.id), "pipeline": name_of(s.pipeline), "client_version": getattr(s, "client_version", None)} for s in snapshots],
        "run_templates": [{"name": t.name, "id": str(t.id), "hidden": getattr(t, "hidden", False)} for t in templates],
        "schedules": [{"name": s.name, "id": str(s.id), "cron_expression": s.cron_expression, "active": s.active, "pipeline_id": str(s.pipeline_id) if s.pipeline_id else None} for s in schedules],
        "secrets": [{"name": s.name, "private": getattr(s, "private", None)} for s in secrets],
        "runs_total": runs.total,
    }


def counts_of(items: Dict[str, Any]) -> Dict[str, int]:
    counts = {kind: len(value) for kind, value in items.items() if isinstance(value, list)}
    counts["runs"] = items["runs_total"]
    return counts


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--stack", required=True)
    p.add_argument("--from-version", required=True)
    p.add_argument("--to-version", required=True)
    p.add_argument("--out", required=True, help="a path, or s3://bucket/key")
    a = p.parse_args(argv)
    try:
        import zenml
        from zenml.client import Client

        client = Client()
        info = client.zen_store.get_store_info()
        if info.version != a.from_version:
            # The inventory is of the server the upgrade starts from; any other is the wrong one.
            raise RuntimeError(f"the server runs {info.version}, not {a.from_version}: this is not the upgrade's FROM server")
        items = take(client)
        doc = {
            "kind": KIND,
            "stack": a.stack,
            "from_version": a.from_version,
            "to_version": a.to_version,
            "taken_at": datetime.now(timezone.utc).isoformat(),
            "client_version": zenml.__version__,
            "server": {"version": info.version, "deployment_type": str(info.deployment_type), "database_type": str(info.database_type), "secrets_store_type": str(getattr(info, "secrets_store_type", ""))},
            "alembic_heads": alembic_heads(),
            "counts": counts_of(items),
            **items,
        }
        write_document(a.out, doc)
    except Exception as e:  # one line saying why, then the trace for the log
        traceback.print_exc()
        result_line(PREFIX, {"ok": False, "error": f"{type(e).__name__}: {str(e)[:300]}"})
        return 1
    log("inventory", f"{a.out}: {doc['counts']}")
    result_line(PREFIX, {"ok": True, "document": a.out, "counts": doc["counts"], "alembic_heads": doc["alembic_heads"], "from_version": a.from_version, "to_version": a.to_version})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
