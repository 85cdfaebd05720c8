"""Bring MLflow's databases to the schema of the installed MLflow: the migration Job's only step.

Reads MLFLOW_BACKEND_STORE_URI and MLFLOW_AUTH_DATABASE_URI. An existing tracking schema is
migrated with `mlflow db upgrade`, as MLflow's upgrade guide says; `mlflow db upgrade` cannot
start from an empty database, so a first deploy creates the schema the way the server itself
would (with the proxied-artifact root `mlflow-artifacts:/` the server uses). The basic-auth
store is migrated after it, with the same code as `python -m mlflow.server.auth db upgrade`.
Any failure exits non-zero and the new server does not start.

MySQL and MariaDB want foreign-key names unique per database, and MLflow's basic-auth
migrations reuse one (`fk_user_id`, mlflow/mlflow#9642, open since 2.7), so the auth store
cannot be created on MySQL as shipped. While migrating, a foreign key whose name is already
taken in the database gets a table-qualified name instead; nothing else changes.
"""
import os
import subprocess
import sys
import time

import mlflow
import sqlalchemy


def upgrade_auth_store(url: str) -> None:
    from alembic.operations import Operations
    from mlflow.server.auth.db import utils as auth_db

    engine = sqlalchemy.create_engine(url)
    taken: set[str] = set()
    if engine.dialect.name == "mysql":
        with engine.connect() as conn:
            rows = conn.execute(sqlalchemy.text("SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()"))
            taken = {r[0] for r in rows}
    original = Operations.create_table

    def create_table(self, table_name, *columns, **kw):
        for item in columns:
            if engine.dialect.name == "mysql" and isinstance(item, sqlalchemy.ForeignKeyConstraint) and item.name:
                if item.name in taken:
                    renamed = f"fk_{table_name}_{'_'.join(item.column_keys)}"[:64]
                    print(f"  {table_name}: foreign key {item.name} is taken, naming it {renamed}", flush=True)
                    item.name = renamed
                taken.add(item.name)
        return original(self, table_name, *columns, **kw)

    Operations.create_table = create_table
    try:
        auth_db.migrate(engine, "head")
    finally:
        Operations.create_table = original
        engine.dispose()


def main() -> int:
    tracking = os.environ["MLFLOW_BACKEND_STORE_URI"]
    auth = os.environ["MLFLOW_AUTH_DATABASE_URI"]
    t0 = time.monotonic()
    engine = sqlalchemy.create_engine(tracking)
    tables = sqlalchemy.inspect(engine).get_table_names()
    engine.dispose()
    if not tables:
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        print(f"mlflow {mlflow.__version__}: empty tracking database, creating the schema", flush=True)
        SqlAlchemyStore(tracking, "mlflow-artifacts:/")
    else:
        print(f"mlflow {mlflow.__version__}: mlflow db upgrade ({len(tables)} tables)", flush=True)
        subprocess.run([sys.executable, "-m", "mlflow", "db", "upgrade", tracking], check=True)
    print("basic-auth store: db upgrade", flush=True)
    upgrade_auth_store(auth)
    print(f"migrated in {time.monotonic() - t0:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
