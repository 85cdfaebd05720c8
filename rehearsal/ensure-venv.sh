#!/usr/bin/env bash
# Create (once) a virtualenv with a given ZenML version and its server extras.
# Usage: rehearsal/ensure-venv.sh <version> [<venvs dir>]
# Cached under .cache/venvs/zenml-<version>; a ".ok" marker is only written after a
# complete install, so an interrupted install is redone instead of half-used.
set -euo pipefail
ver="${1:?usage: ensure-venv.sh <zenml version> [venvs dir]}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venvs="${2:-${ZENML_VENVS_DIR:-$root/.cache/venvs}}"
venv="$venvs/zenml-$ver"
python="${PYTHON:-python3}"

if [[ -f "$venv/.ok" ]]; then
  echo "$venv"
  exit 0
fi
rm -rf "$venv"
mkdir -p "$venvs"
echo "[venv] creating $venv (zenml[server]==$ver)" >&2
"$python" -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip >&2 \
  || { echo "FATAL: cannot upgrade pip in $venv (is PyPI reachable?)" >&2; exit 3; }
# zenml[server] brings fastapi/uvicorn; pytest for the pipeline smoke suite.
if ! "$venv/bin/pip" install --quiet --disable-pip-version-check \
      "zenml[server]==$ver" "pytest==8.4.2" >&2; then
  echo "FATAL: pip could not install zenml[server]==$ver (PyPI unreachable or version missing)" >&2
  exit 3
fi
"$venv/bin/python" -c "import zenml, sys; assert zenml.__version__ == '$ver', zenml.__version__" >&2 \
  || { echo "FATAL: $venv does not import zenml $ver" >&2; exit 3; }
touch "$venv/.ok"
echo "$venv"
