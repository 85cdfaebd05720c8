#!/usr/bin/env bash
# Runs a command-line tool published on PyPI at an exact pin, from its own venv under .cache/venvs
# (rebuilt when the pin changes), so `npm ci && npm test` works on a fresh machine.
# Usage: tools/pypi-tool.sh <package>==<version> <executable> [args...]
# Exit: the tool's own, 3 = it could not be installed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirement="$1" executable="$2"
shift 2
venv="$root/.cache/venvs/${requirement/==/-}"
if [[ ! -x "$venv/bin/$executable" || ! -f "$venv/.ok" ]]; then
  echo "[$executable] installing $requirement into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check "$requirement" >&2; then
    echo "FATAL: could not install $requirement from PyPI into $venv" >&2
    exit 3
  fi
  touch "$venv/.ok" # last: an interrupted install rebuilds next time
fi
cd "$root"
exec "$venv/bin/$executable" "$@"
