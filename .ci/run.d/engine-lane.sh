#!/usr/bin/env bash
# The engine lane, started by .ci/run in the background beside the Python lane: `npm run test:engine`,
# the program under Pulumi's own engine (docs/ENGINE.md). The Pulumi CLI is the one on PATH at the
# SDK's version, else ~/.cache/zenml-platform/pulumi-cli/<version>/pulumi (outside the checkout, so it
# stays between runs on a machine); a machine with neither builds it there once from the Go module
# proxy (~15 min, tools/engine/build-cli.sh). Writes .cache/engine-report.json for the closing count.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# The suite runs TypeScript through node_modules: wait for .ci/run's npm ci (on its own, use what is there).
if [[ -n "${CI_WAIT_FOR_NODE_MODULES:-}" ]]; then
  until [[ -e .cache/node-modules.ready ]]; do sleep 0.5; done
fi
start=$SECONDS
TIMEFORMAT='[engine] CPU: %U s user, %S s sys'
time npm run --silent test:engine -- --report "$PWD/.cache/engine-report.json"
echo "[engine] wall: $((SECONDS - start)) s"
