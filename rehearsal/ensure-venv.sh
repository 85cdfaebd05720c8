#!/usr/bin/env bash
# Create (once) a virtualenv with a given ZenML version and its server extras and the AWS connector libraries (like the official server image).
# Usage: rehearsal/ensure-venv.sh <version> [<venvs dir>]
# Installs smoke/requirements.txt with its zenml pin replaced by zenml[server,connectors-aws]==<version>.
# Cached under .cache/venvs/zenml-<version>; the ".ok" marker holds the installed
# requirements and is only written after a complete install, so an interrupted install or a
# changed requirements file rebuilds the venv instead of using a stale one.
set -euo pipefail
ver="${1:?usage: ensure-venv.sh <zenml version> [venvs dir]}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venvs="${2:-${ZENML_VENVS_DIR:-$root/.cache/venvs}}"
venv="$venvs/zenml-$ver"
python="${PYTHON:-python3}"

grep -qE '^zenml==' "$root/smoke/requirements.txt" \
  || { echo "FATAL: smoke/requirements.txt has no zenml== pin to substitute" >&2; exit 3; }
reqs="$(sed -E "s/^zenml==.*/zenml[server,connectors-aws]==$ver/" "$root/smoke/requirements.txt")"

if [[ -f "$venv/.ok" ]] && [[ "$(cat "$venv/.ok")" == "$reqs" ]]; then
  echo "$venv"
  exit 0
fi
rm -rf "$venv"
mkdir -p "$venvs"
echo "[venv] creating $venv (zenml[server,connectors-aws]==$ver)" >&2
"$python" -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip >&2 \
  || { echo "FATAL: cannot upgrade pip in $venv (is PyPI reachable?)" >&2; exit 3; }
# zenml[server] brings fastapi/uvicorn (the server); pytest runs the pipeline smoke suite.
printf '%s\n' "$reqs" >"$venv/requirements.txt"
if ! "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$venv/requirements.txt" >&2; then
  echo "FATAL: pip could not install zenml[server,connectors-aws]==$ver (PyPI unreachable or version missing)" >&2
  exit 3
fi
"$venv/bin/python" -c "import zenml, sys; assert zenml.__version__ == '$ver', zenml.__version__" >&2 \
  || { echo "FATAL: $venv does not import zenml $ver" >&2; exit 3; }
printf '%s' "$reqs" >"$venv/.ok"
echo "$venv"
