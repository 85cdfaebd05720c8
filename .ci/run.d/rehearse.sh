#!/usr/bin/env bash
# CI hook: the ZenML upgrade rehearsal (real FROM -> TO server on a private MariaDB, smoke
# suites, negative checks, restore). Called by .ci/run after the unit tests. Needs root (or
# mariadb-server already installed) and PyPI + Debian reachable; it fails loudly otherwise.
# Cold (no cached venvs) it takes about 3 minutes on 2 cores, warm about 1.5.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
npm run --silent rehearse
