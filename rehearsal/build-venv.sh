#!/usr/bin/env bash
# Build (or reuse) one virtualenv from a requirements text. Used by ensure-venv.sh (rehearsal, smoke)
# and components/registration/run-tests.sh, so every venv of a CI run is built the same way and only once.
# Usage: rehearsal/build-venv.sh <venv dir> <requirements file>
#        rehearsal/build-venv.sh --uv      (prints the pinned uv's path, bootstrapping it: the image locks use it)
# Reused when its ".ok" marker (written last, after a complete install) equals the requirements;
# anything else rebuilds it. Installs with uv (pinned, bootstrapped once into ~/.cache, and using
# its download cache there), which installs the ZenML server in seconds where pip takes minutes;
# if uv cannot be had, pip does the same install. Exit 3 when neither can install the requirements.
set -euo pipefail
python="${PYTHON:-python3}"
UV_VERSION=0.13.8
tools="${ZENML_PLATFORM_TOOLS_CACHE:-$HOME/.cache/zenml-platform}/uv-$UV_VERSION"

# Venvs of different names build at once, and all share one uv: its bootstrap has its own lock and
# a marker written after the install, so no caller runs (or deletes) a uv another is still writing.
uv_bin() {
  mkdir -p "$(dirname "$tools")"
  exec 8>"$tools.lock"
  flock 8
  if [[ ! -f "$tools/.ok" ]]; then
    rm -rf "$tools"
    "$python" -m venv "$tools" >&2 && "$tools/bin/pip" install --quiet --disable-pip-version-check "uv==$UV_VERSION" >&2 \
      && touch "$tools/.ok" || { rm -rf "$tools"; return 1; }
  fi
  echo "$tools/bin/uv"
}
if [[ "${1:-}" == --uv ]]; then uv_bin; exit; fi

venv="${1:?usage: build-venv.sh <venv dir> <requirements file>}"
reqs_file="${2:?usage: build-venv.sh <venv dir> <requirements file>}"
mkdir -p "$(dirname "$venv")"
# One build at a time per venv: a second caller waits, then finds it current.
exec 9>"$venv.lock"
flock 9
if [[ -f "$venv/.ok" ]] && cmp -s "$reqs_file" "$venv/.ok"; then exit 0; fi

echo "[venv] building $venv from $reqs_file" >&2
rm -rf "$venv"
if uv="$(uv_bin)"; then
  # Bytecode: where Python may not write it (PYTHONDONTWRITEBYTECODE), every process that imports
  # zenml would compile it again, so all of it is compiled here. Otherwise each module's first
  # import writes it, which compiles only what runs: an MLflow venv's full compile is 45 s of CPU.
  compile=()
  [[ -n "${PYTHONDONTWRITEBYTECODE:-}" ]] && compile=(--compile-bytecode)
  # --seed: the venv keeps pip, for whoever installs into it by hand.
  "$uv" venv --quiet --seed --python "$python" "$venv" >&2 \
    && "$uv" pip install --quiet "${compile[@]}" --python "$venv/bin/python" -r "$reqs_file" >&2 \
    || { echo "FATAL: uv could not install $reqs_file into $venv (is PyPI reachable?)" >&2; exit 3; }
else
  echo "[venv] uv $UV_VERSION unavailable, installing with pip" >&2
  "$python" -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$reqs_file" >&2 \
    || { echo "FATAL: pip could not install $reqs_file into $venv (is PyPI reachable?)" >&2; exit 3; }
fi
cp "$reqs_file" "$venv/.ok"
