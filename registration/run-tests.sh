#!/usr/bin/env bash
# Tests the stack registration against a real ZenML server of the pinned version (from PyPI).
#
# Two venvs under .cache/venvs, each rebuilt when its requirements file changes:
#   registration-server-zenml-<v>  requirements.txt         the server (SQLite) + pytest
#   registration-client-zenml-<v>  requirements-client.txt  plain zenml, like zenmldocker/zenml:<v>;
#                                                           register_stack.py runs with this one
# A failed install (PyPI unreachable, a pin gone) fails the run with exit 3: never a skip.
# Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
here="$root/registration"

pin() { grep -oE '^zenml(\[[^]]*\])?==[0-9][0-9a-zA-Z.]*' "$1" | sed 's/.*==//'; }
server_version="$(pin "$here/requirements.txt")"
client_version="$(pin "$here/requirements-client.txt")"
if [[ -z "$server_version" || "$server_version" != "$client_version" ]]; then
  echo "FATAL: requirements.txt (zenml ${server_version:-?}) and requirements-client.txt (zenml ${client_version:-?}) must pin the same zenml" >&2
  exit 3
fi

ensure_venv() { # <venv dir> <requirements file>
  local venv="$1" reqs="$2"
  if [[ -f "$venv/.ok" ]] && cmp -s "$reqs" "$venv/.ok"; then return 0; fi
  echo "[registration] building $venv from $(basename "$reqs")" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$reqs" >&2; then
    echo "FATAL: could not install registration/$(basename "$reqs") into $venv (is PyPI reachable?)" >&2
    exit 3
  fi
  cp "$reqs" "$venv/.ok" # written last: an interrupted install rebuilds next time
}

server_venv="$root/.cache/venvs/registration-server-zenml-$server_version"
client_venv="$root/.cache/venvs/registration-client-zenml-$client_version"
ensure_venv "$server_venv" "$here/requirements.txt"
ensure_venv "$client_venv" "$here/requirements-client.txt"

export REGISTRATION_CLIENT_PYTHON="$client_venv/bin/python"
cd "$here/tests"
exec "$server_venv/bin/python" -m pytest -p no:cacheprovider --durations=0 "$@"
