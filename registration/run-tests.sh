#!/usr/bin/env bash
# Tests the stack registration against a real ZenML server of the pinned version (from PyPI).
# The venv is cached under .cache/venvs; a PyPI failure fails the run, never skips it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
reqs="$root/registration/requirements.txt"
venv="$root/.cache/venvs/registration-$(grep -oE '^zenml\[[^]]*\]==[0-9.]+' "$reqs" | sed 's/.*==/zenml-/')"

if [[ ! -f "$venv/.ok" ]] || ! cmp -s "$reqs" "$venv/.ok"; then
  echo "[registration] creating $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$reqs" >&2; then
    echo "FATAL: could not install registration/requirements.txt (is PyPI reachable?)" >&2
    exit 3
  fi
  cp "$reqs" "$venv/.ok"
fi
cd "$root/registration/tests"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
