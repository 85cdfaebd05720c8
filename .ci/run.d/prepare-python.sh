#!/usr/bin/env bash
# Everything the registration tests and the rehearsal need from PyPI and Debian, built once per
# CI run (.ci/run starts it in the background): the venv of each rehearsal version (FROM, TO; TO's
# is also the registration server's), the registration client's venv, and MariaDB.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
t0=$SECONDS
# The rehearsal's versions: prod's pin -> staging's pin (FROM/TO in the environment override).
FROM="${FROM:-$(python3 rehearsal/pins.py prod)}" TO="${TO:-$(python3 rehearsal/pins.py staging)}"

if ! command -v mariadbd >/dev/null || ! command -v mariadb-dump >/dev/null; then
  echo "[prepare] installing MariaDB from Debian"
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq mariadb-server mariadb-client) >/dev/null &
  apt_pid=$!
fi
pin() { grep -oE '^zenml(\[[^]]*\])?==[0-9][0-9a-zA-Z.]*' "$1" | sed 's/.*==//'; }
client_version="$(pin components/registration/requirements-client.txt)"
# Two at a time: the installs wait on the network and the disk as much as on the CPU.
bash rehearsal/ensure-venv.sh "$TO" >/dev/null &
to_pid=$!
bash rehearsal/build-venv.sh ".cache/venvs/registration-client-zenml-$client_version" components/registration/requirements-client.txt
bash rehearsal/ensure-venv.sh "$FROM" >/dev/null
wait "$to_pid"
if [[ -n "${apt_pid:-}" ]]; then
  wait "$apt_pid" || { echo "FATAL: apt-get install mariadb-server failed: Debian packages cannot be had" >&2; exit 3; }
fi
echo "[prepare] venvs (zenml $FROM, $TO, client $client_version) and MariaDB ready in $((SECONDS - t0))s"
