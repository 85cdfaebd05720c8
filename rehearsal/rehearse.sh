#!/usr/bin/env bash
# Upgrade rehearsal, the installing part: MariaDB from Debian, node_modules, and for ZenML one venv
# per version. Everything else is rehearsal/driver.py (one Python function per step, one report).
#   bash rehearsal/rehearse.sh [zenml|mlflow]     (npm run rehearse, npm run rehearse:mlflow)
# ZenML: FROM = prod's pin, TO = staging's pin; FROM=/TO=/DB_PORT=/SERVER_PORT= in the environment
# override. MLflow builds its own venvs in a step (rehearsal/steps_mlflow.py: MLFLOW_FROM=...).
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
die() { echo "REHEARSAL FAILED: $*" >&2; exit 1; }
part="${1:-zenml}"

if ! command -v mariadbd >/dev/null || ! command -v mariadb-dump >/dev/null; then
  echo "[rehearse] installing MariaDB from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed: Debian packages cannot be had"
  apt-get install -y -qq mariadb-server mariadb-client >/dev/null || die "apt-get install mariadb-server failed"
fi
if [[ ! -x node_modules/.bin/tsx ]]; then
  echo "[rehearse] npm ci (node_modules missing)"
  npm ci --no-audit --no-fund >/dev/null || die "npm ci failed"
fi
if [[ "$part" == zenml ]]; then
  _env_dbp="${DB_PORT:-}" _env_sp="${SERVER_PORT:-}"
  # shellcheck source=versions.env
  source "$ROOT/rehearsal/versions.env"
  export DB_PORT="${_env_dbp:-$DB_PORT}" SERVER_PORT="${_env_sp:-$SERVER_PORT}"
  FROM="${FROM:-$(python3 "$ROOT/rehearsal/pins.py" prod)}" || die "cannot read prod's pin"
  TO="${TO:-$(python3 "$ROOT/rehearsal/pins.py" staging)}" || die "cannot read staging's pin"
  export FROM TO
  t0=$(date +%s)
  VENV_FROM=$(bash rehearsal/ensure-venv.sh "$FROM") || die "cannot build the venv for zenml $FROM (see above)"
  VENV_TO=$(bash rehearsal/ensure-venv.sh "$TO") || die "cannot build the venv for zenml $TO (see above)"
  export VENV_FROM VENV_TO VENV_SECONDS=$(( $(date +%s) - t0 ))
fi
exec python3 rehearsal/driver.py "$part"
