#!/usr/bin/env bash
# Create (once) a virtualenv with a given ZenML version, its server extras and the smoke clients.
# Usage: rehearsal/ensure-venv.sh <version> [<venvs dir>]    (prints the venv's path)
# Requirements: smoke/requirements.txt and components/registration/requirements.txt together, each zenml pin
# replaced by zenml[server,connectors-aws]==<version>. So the one venv per version serves the
# rehearsal, the pipeline smoke suite and the registration tests' server (which run-tests.sh takes
# from here), and a CI run builds it once. Cached under .cache/venvs/zenml-<version>, rebuilt when
# either requirements file changes (rehearsal/build-venv.sh).
set -euo pipefail
ver="${1:?usage: ensure-venv.sh <zenml version> [venvs dir]}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venvs="${2:-${ZENML_VENVS_DIR:-$root/.cache/venvs}}"
venv="$venvs/zenml-$ver"

for f in smoke/requirements.txt components/registration/requirements.txt; do
  grep -qE '^zenml(\[[^]]*\])?==' "$root/$f" \
    || { echo "FATAL: $f has no zenml== pin to substitute" >&2; exit 3; }
done
mkdir -p "$venvs"
reqs="$venvs/zenml-$ver.requirements.txt"
# zenml[server] brings fastapi/uvicorn (the server), connectors-aws what the server image has for
# the AWS service connector, pytest runs the suites. Comments dropped, duplicates kept once.
# Written aside and renamed only when it changed: suites that start together read this file to
# decide whether the venv is current, and a half-written one made them rebuild it under each other.
cat "$root/smoke/requirements.txt" "$root/components/registration/requirements.txt" \
  | sed -E -e 's/[[:space:]]*#.*$//' -e "s/^zenml(\[[^]]*\])?==.*/zenml[server,connectors-aws]==$ver/" \
  | awk 'NF && !seen[$0]++' >"$reqs.$$"
if cmp -s "$reqs.$$" "$reqs"; then rm -f "$reqs.$$"; else mv -f "$reqs.$$" "$reqs"; fi

bash "$root/rehearsal/build-venv.sh" "$venv" "$reqs"
"$venv/bin/python" -c "import importlib.metadata as m, sys; v = m.version('zenml'); sys.exit(v != '$ver' and 'zenml ' + v)" >&2 \
  || { rm -f "$venv/.ok"; echo "FATAL: $venv does not hold zenml $ver" >&2; exit 3; }
echo "$venv"
