#!/usr/bin/env bash
# CI hook: the MLflow upgrade rehearsal (real MLflow FROM -> TO from PyPI on a private MariaDB:
# seed, stop, back up, migrate, start, read back with old and new clients, restore). Needs root
# (or mariadb-server already installed) and PyPI + Debian reachable; it fails loudly otherwise.
# The same driver as the ZenML rehearsal, its mlflow part (rehearsal/steps_mlflow.py).
# Report: .cache/rehearsal/mlflow-report.json. Ports default to 33307/18238 (CI).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
npm run --silent rehearse:mlflow
