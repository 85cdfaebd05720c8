#!/usr/bin/env bash
# Tests the pre-upgrade scripts (inventory, drain, restore-test check) against a real ZenML server
# of prod's pin: the version an upgrade starts from, which is the client these Jobs run. The venv
# is the rehearsal's (rehearsal/ensure-venv.sh). Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
from="${FROM:-$(python3 "$root/rehearsal/pins.py" prod)}"
venv="$(bash "$root/rehearsal/ensure-venv.sh" "$from")"
cd "$root/components/pre-upgrade/tests"
exec "$venv/bin/python" -m pytest -p no:cacheprovider --durations=5 "$@"
