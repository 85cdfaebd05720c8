#!/usr/bin/env bash
# zizmor (GitHub Actions security audit, from PyPI) over .github/, offline, default persona.
# Arguments replace the default target (.github), e.g. a file to audit instead.
# Exit: zizmor's own (0 = no findings), 3 = it could not be installed.
set -euo pipefail
if [[ $# -eq 0 ]]; then set -- .github; fi
exec bash "$(dirname "${BASH_SOURCE[0]}")/../pypi-tool.sh" zizmor==1.32.0 zizmor --offline --no-progress "$@"
