#!/usr/bin/env bash
# Tests post_upgrade.py against a real ZenML server of staging's pin (the new version), with
# items seeded by a client of prod's pin (the version before the upgrade). Both venvs come from
# rehearsal/ensure-venv.sh, shared with the rehearsal. Also runs rehearsal/tests (the driver).
# Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
new="${TO:-$(python3 "$root/rehearsal/pins.py" staging)}" old="${FROM:-$(python3 "$root/rehearsal/pins.py" prod)}"
new_venv="$(bash "$root/rehearsal/ensure-venv.sh" "$new")"
old_venv="$(bash "$root/rehearsal/ensure-venv.sh" "$old")"
export POST_UPGRADE_OLD_PYTHON="$old_venv/bin/python"
cd "$root"
# rehearsal/tests: the rehearsal driver's own behaviour (no servers), in the same venv.
exec "$new_venv/bin/python" -m pytest -p no:cacheprovider --durations=5 rehearsal/tests components/post-upgrade/tests "$@"
