#!/usr/bin/env bash
# Tests the stack registration against a real ZenML server of the pinned version (from PyPI).
#
# Two venvs under .cache/venvs, each rebuilt when its requirements file changes:
#   zenml-<v>                      requirements.txt (with smoke/'s)  the server (SQLite) + pytest,
#                                                           shared with the rehearsal (ensure-venv.sh)
#   registration-client-zenml-<v>  requirements-client.txt  plain zenml, like zenmldocker/zenml:<v>;
#                                                           register_stack.py runs with this one
# A failed install (PyPI unreachable, a pin gone) fails the run with exit 3: never a skip.
# Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/components/registration"

pin() { grep -oE '^zenml(\[[^]]*\])?==[0-9][0-9a-zA-Z.]*' "$1" | sed 's/.*==//'; }
server_version="$(pin "$here/requirements.txt")"
client_version="$(pin "$here/requirements-client.txt")"
if [[ -z "$server_version" || "$server_version" != "$client_version" ]]; then
  echo "FATAL: requirements.txt (zenml ${server_version:-?}) and requirements-client.txt (zenml ${client_version:-?}) must pin the same zenml" >&2
  exit 3
fi

# The server side is the rehearsal's venv of this version (its requirements include ours), so a CI
# run builds it once for registration, rehearsal and smoke; the client venv is ours alone.
server_venv="$(bash "$root/rehearsal/ensure-venv.sh" "$server_version")"
client_venv="$root/.cache/venvs/registration-client-zenml-$client_version"
bash "$root/rehearsal/build-venv.sh" "$client_venv" "$here/requirements-client.txt"

export REGISTRATION_CLIENT_PYTHON="$client_venv/bin/python"
cd "$here/tests"
exec "$server_venv/bin/python" -m pytest -p no:cacheprovider --durations=0 "$@"
