#!/usr/bin/env bash
# zizmor (GitHub Actions security audit, from PyPI) over .github/, offline, default persona.
# The venv lives under .cache/venvs and is rebuilt when the pinned version changes, so
# `npm ci && npm test` works on a fresh machine. Extra arguments go to zizmor.
# Exit: zizmor's own (0 = no findings), 3 = it could not be installed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ZIZMOR_VERSION=1.32.0
venv="$root/.cache/venvs/zizmor-$ZIZMOR_VERSION"
if [[ ! -x "$venv/bin/zizmor" || ! -f "$venv/.ok" ]]; then
  echo "[zizmor] installing zizmor==$ZIZMOR_VERSION into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check "zizmor==$ZIZMOR_VERSION" >&2; then
    echo "FATAL: could not install zizmor==$ZIZMOR_VERSION from PyPI into $venv" >&2
    exit 3
  fi
  touch "$venv/.ok" # last: an interrupted install rebuilds next time
fi
cd "$root"
# Arguments replace the default target (.github), e.g. a file to audit instead.
if [[ $# -eq 0 ]]; then set -- .github; fi
exec "$venv/bin/zizmor" --offline --no-progress "$@"
