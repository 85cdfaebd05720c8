"""Seeds what prod has beyond runs: users, a secret in the SQL secrets store, a model version.

Run with the FROM client, logged in as the admin (ZENML_STORE_USERNAME/PASSWORD). `check` mode
(any client) reads the secret back and prints what it found, so the rehearsal can compare.

Usage: seed_server.py seed <out.json> | seed_server.py check <seed.json>
"""

import json
import secrets
import sys
from pathlib import Path

from zenml.client import Client

USERS = ("data-scientist-a", "data-scientist-b")
SECRET = "rehearsal-db-credentials"
MODEL = "rehearsal-model"


def seed(out: str) -> int:
    client = Client()
    for name in USERS:
        client.create_user(name=name, password=secrets.token_urlsafe(16))
    value = secrets.token_urlsafe(24)
    client.create_secret(name=SECRET, values={"username": "etl", "password": value})
    client.create_model(name=MODEL, description="seeded before the upgrade")
    version = client.create_model_version(model_name_or_id=MODEL, name="v1", description="seeded")
    Path(out).write_text(json.dumps({"users": list(USERS), "secret": SECRET, "secret_password": value, "model": MODEL, "model_version_id": str(version.id)}))
    print(f"seeded {len(USERS)} users, secret {SECRET}, model {MODEL} version v1")
    return 0


def check(seed_file: str) -> int:
    want = json.loads(Path(seed_file).read_text())
    client = Client()
    secret = client.get_secret(want["secret"])
    got = secret.secret_values.get("password")
    users = sorted(u.name for u in client.list_users(size=100).items if u.name in want["users"])
    version = client.get_model_version(want["model"], "v1")
    print(json.dumps({"secret_matches": got == want["secret_password"], "users": users, "model_version_id": str(version.id)}))
    return 0


if __name__ == "__main__":
    mode, path = sys.argv[1:3]
    sys.exit(seed(path) if mode == "seed" else check(path))
