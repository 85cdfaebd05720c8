"""Creates a service account and an API key on a ZenML server, via its REST API.

Stdlib only (runs under any venv). Logs in as the default admin user, creates the service
account, and writes the API key to a file (mode 600) -- never to stdout.

Usage: bootstrap_sa.py <server url> <admin user> <service account name> <key file>
       (admin password from env ZENML_ADMIN_PASSWORD)
"""

import json
import os
import sys
import urllib.parse
import urllib.request


def call(url, data=None, token=None, form=False):
    headers = {"accept": "application/json"}
    body = None
    if data is not None:
        if form:
            body = urllib.parse.urlencode(data).encode()
            headers["content-type"] = "application/x-www-form-urlencoded"
        else:
            body = json.dumps(data).encode()
            headers["content-type"] = "application/json"
    if token:
        headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body, headers=headers, method="POST" if body else "GET")
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return json.loads(res.read())
    except urllib.error.HTTPError as e:
        raise SystemExit(f"bootstrap: {req.method} {urllib.parse.urlparse(url).path} -> HTTP {e.code}: {e.read()[:300]!r}")


def main() -> None:
    base, user, sa_name, key_file = sys.argv[1:5]
    token = call(f"{base}/api/v1/login", {"username": user, "password": os.environ["ZENML_ADMIN_PASSWORD"]}, form=True)["access_token"]
    sa = call(f"{base}/api/v1/service_accounts", {"name": sa_name, "active": True, "description": "upgrade rehearsal smoke"}, token)
    key = call(f"{base}/api/v1/service_accounts/{sa['id']}/api_keys", {"name": "smoke"}, token)
    value = (key.get("body") or {}).get("key") or key.get("key")
    if not value:
        raise SystemExit("bootstrap: the API key response carries no key")
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value)
    print(f"bootstrap: service account {sa_name} ({sa['id']}) with an API key")


if __name__ == "__main__":
    main()
