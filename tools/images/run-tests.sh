#!/usr/bin/env bash
# The built images' locked sets, proven without Docker (components/*/image/tests): each lock installs
# into a fresh venv through uv and runs what its image runs. Minutes and hundreds of MB, so in the
# CI's Python lane, not in vitest. pytest comes from a small venv of its own. Extra arguments go to pytest.
# LOCKED_IMAGE_FACTS=<file> collects each lock's install seconds and site-packages size (JSON lines).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.cache/venvs/images-pytest"
reqs="$root/.cache/venvs/images-pytest.requirements.txt"
mkdir -p "$root/.cache/venvs"
# The same pytest as the other suites (components/registration/requirements.txt).
grep -E '^pytest==' "$root/components/registration/requirements.txt" >"$reqs.$$"
if cmp -s "$reqs.$$" "$reqs"; then rm -f "$reqs.$$"; else mv -f "$reqs.$$" "$reqs"; fi
bash "$root/rehearsal/build-venv.sh" "$venv" "$reqs"
cd "$root"
exec "$venv/bin/python" -m pytest -p no:cacheprovider --durations=0 components/post-upgrade/image/tests components/mlflow/image/tests "$@"
