#!/usr/bin/env bash
# The Python half of CI, started by .ci/run in the background before `npm ci`, so that it runs
# beside the install and the Node checks instead of after them. First every venv and MariaDB (each once,
# prepare-python.sh), then all five suites at once: registration, the ZenML rehearsal, the MLflow
# rehearsal, the post-upgrade and the pre-upgrade tests, so that no core idles while another suite still has work
# (in two sub-lanes the last ~70 s ran one suite on one core). The run is CPU-bound, most of it
# ZenML and MLflow processes importing and migrating; each suite's CPU is printed at the end.
# Every suite writes its own log under .cache/lanes/; this prints them in a fixed order at the end
# and exits non-zero when any suite failed, naming it. The built images' locked sets (tools/images/
# run-tests.sh: a fresh venv per lock, no server) need none of that, so they start first, beside
# the preparation, which waits on the network and apt more than on the CPU.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
T0=$SECONDS
# The venvs under .cache are this run's own: their modules' bytecode is written on first import
# (only what runs is compiled, rehearsal/build-venv.sh) and reused by every later process.
unset PYTHONDONTWRITEBYTECODE
logs=.cache/lanes
mkdir -p "$logs" .cache/pytest

# Each suite's CPU (user + sys of everything it waited for) next to its wall time: the lane is
# CPU-bound, so that is the figure to watch when a suite gets slower.
suite() {
  local name=$1
  shift
  local start=$SECONDS rc=0 user sys TIMEFORMAT='%U %S'
  { time "$@" >"$logs/$name.log" 2>&1 || rc=$?; } 2>"$logs/$name.cpu"
  read -r user sys <"$logs/$name.cpu" || true
  echo "$rc $((SECONDS - start)) $(awk -v u="${user:-0}" -v s="${sys:-0}" 'BEGIN { printf "%.0f", u + s }')" >"$logs/$name.status"
}
suite images bash tools/images/run-tests.sh --junitxml="$PWD/.cache/images-junit.xml" --basetemp="$PWD/.cache/pytest/images" &

echo "[lane] preparing venvs and MariaDB"
if ! bash .ci/run.d/prepare-python.sh >"$logs/prepare.log" 2>&1; then
  cat "$logs/prepare.log"
  echo "FAILED: preparing the Python venvs or MariaDB (log above)" >&2
  exit 1
fi
cat "$logs/prepare.log"
# The suites run npm scripts: wait for .ci/run's npm ci (it kills this lane if the install fails).
# Run on its own (no .ci/run around it), the lane uses the node_modules that are there.
if [[ -n "${CI_WAIT_FOR_NODE_MODULES:-}" ]]; then
  until [[ -e .cache/node-modules.ready ]]; do sleep 0.5; done
  echo "[lane] node_modules ready at $((SECONDS - T0))s"
fi
echo "[lane] suites start at $((SECONDS - T0))s"

# Each pytest session its own temporary root (--basetemp): sessions at once must not prune each other's.
suite registration bash components/registration/run-tests.sh --junitxml="$PWD/.cache/registration-junit.xml" --basetemp="$PWD/.cache/pytest/registration" &
suite rehearse bash .ci/run.d/rehearse.sh &
suite rehearse-mlflow bash .ci/run.d/rehearse-mlflow.sh &
suite post-upgrade bash components/post-upgrade/run-tests.sh --junitxml="$PWD/.cache/post-upgrade-junit.xml" --basetemp="$PWD/.cache/pytest/post-upgrade" &
suite pre-upgrade bash components/pre-upgrade/run-tests.sh --junitxml="$PWD/.cache/pre-upgrade-junit.xml" --basetemp="$PWD/.cache/pytest/pre-upgrade" &
wait

failed=()
for name in images registration post-upgrade pre-upgrade rehearse rehearse-mlflow; do
  read -r rc took cpu <"$logs/$name.status" 2>/dev/null || { rc=1 took=? cpu=?; }
  echo "== $name: exit $rc in ${took}s (CPU ${cpu}s)"
  if [[ $name == rehearse-mlflow && $rc -eq 0 ]]; then tail -n 40 "$logs/$name.log"; else cat "$logs/$name.log"; fi
  [[ $rc -eq 0 ]] || failed+=("$name (log .cache/lanes/$name.log)")
done
echo "[lane] done in $((SECONDS - T0))s"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
