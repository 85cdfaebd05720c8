"""Create MLflow's own MySQL user and databases on the environment's RDS instance.

Run by the bootstrap Job with the master user; idempotent, and it resets the user's password to
the generated one, so re-running after a credential rotation converges. Settings come from the
environment: DB_HOST, DB_PORT, DB_MASTER_USER, DB_MASTER_PASSWORD, MLFLOW_DB_USER,
MLFLOW_DB_PASSWORD, MLFLOW_DATABASES (comma-separated), DB_SSL_CA (CA bundle path, optional).
"""
import os
import re
import sys

import pymysql

NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def main() -> int:
    env = os.environ
    user = env["MLFLOW_DB_USER"]
    databases = [d for d in env["MLFLOW_DATABASES"].split(",") if d]
    for name in [user, *databases]:
        if not NAME.match(name):
            print(f"refusing identifier {name!r}: letters, digits and _ only", file=sys.stderr)
            return 2
    # Verified TLS with the region's RDS CAs (DB_SSL_CA) when given; the instance requires TLS.
    ca = env.get("DB_SSL_CA")
    conn = pymysql.connect(
        host=env["DB_HOST"], port=int(env.get("DB_PORT", "3306")), user=env["DB_MASTER_USER"],
        password=env["DB_MASTER_PASSWORD"], ssl={"ca": ca} if ca else {"check_hostname": False}, autocommit=True,
    )
    with conn.cursor() as cur:
        for db in databases:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS `{db}` CHARACTER SET utf8mb4")
        cur.execute("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s", (user, env["MLFLOW_DB_PASSWORD"]))
        cur.execute("ALTER USER %s@'%%' IDENTIFIED BY %s", (user, env["MLFLOW_DB_PASSWORD"]))
        for db in databases:
            cur.execute(f"GRANT ALL PRIVILEGES ON `{db}`.* TO %s@'%%'", (user,))
    conn.close()
    print(f"user {user} owns databases {', '.join(databases)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
