#!/usr/bin/env bash
# CI hook: the ZenML upgrade rehearsal (real FROM -> TO server on a private MariaDB, seeded like
# prod, a failing migration restored by the chart's backup, post-upgrade script, smoke
# suites, negative checks, restore). Called by .ci/run after the unit tests. Needs root (or
# mariadb-server already installed) and PyPI + Debian reachable; it fails loudly otherwise.
# Steps and report: docs/SMOKE.md. Warm venvs: about 3.5 minutes on 2 quiet cores; cold adds ~3.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
npm run --silent rehearse
