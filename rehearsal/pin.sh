#!/usr/bin/env bash
# Prints the zenmlVersion a stack file pins: rehearsal/pin.sh <staging|prod>. The rehearsal's FROM
# is prod's pin and its TO staging's, read from the stack files so there is no second copy to drift.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
file="$root/Pulumi.${1:?usage: pin.sh <stack>}.yaml"
v="$(sed -nE 's/^ *zenml-platform:zenmlVersion: *"?([0-9][0-9A-Za-z.]*)"?.*/\1/p' "$file" 2>/dev/null || true)"
[[ -n "$v" ]] || { echo "FATAL: no zenml-platform:zenmlVersion in $file" >&2; exit 3; }
echo "$v"
