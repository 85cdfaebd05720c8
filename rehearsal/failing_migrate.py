"""`zenml migrate-database` whose last step fails: the injected failing migration.

Runs the real migrations of this venv's ZenML, then raises, as a broken migration script would
after the ones before it were applied. The store's configured backup strategy (the chart's
`database`) must then restore the database; the rehearsal checks that nothing was lost.
Run with the TO venv's python and the migration job's environment.
"""

import sys

from zenml.zen_stores.migrations.alembic import Alembic

real_upgrade = Alembic.upgrade


def failing_upgrade(self, revision: str = "heads") -> None:
    real_upgrade(self, revision)
    raise RuntimeError("injected failure after the last migration (upgrade rehearsal)")


Alembic.upgrade = failing_upgrade

from zenml.cli.cli import cli  # noqa: E402

sys.exit(cli(["migrate-database"], standalone_mode=True))
