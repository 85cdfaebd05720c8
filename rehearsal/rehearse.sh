#!/usr/bin/env bash
# Upgrade rehearsal: a real ZenML server FROM -> TO on a private MariaDB, the way the Helm
# chart upgrades it (backup, `zenml migrate-database` with the new version, new server),
# then the server smoke check (TypeScript) and the pipeline smoke suite (pytest) against it,
# negative checks, and a restore of the backup (rollback). See docs/SMOKE.md.
#
# Everything lives under .cache/ (ignored): venvs in .cache/venvs, this run in
# .cache/rehearsal/run, the summary in .cache/rehearsal/report.json.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
T0=$(date +%s.%N)

# Config: versions.env, overridable from the environment (FROM=... TO=... npm run rehearse).
_env_from="${FROM:-}" _env_to="${TO:-}" _env_dbp="${DB_PORT:-}" _env_sp="${SERVER_PORT:-}"
# shellcheck source=versions.env
source "$ROOT/rehearsal/versions.env"
FROM="${_env_from:-$FROM}" TO="${_env_to:-$TO}"
DB_PORT="${_env_dbp:-$DB_PORT}" SERVER_PORT="${_env_sp:-$SERVER_PORT}"

CACHE="$ROOT/.cache"
W="$CACHE/rehearsal/run"
REPORT="$CACHE/rehearsal/report.json"
URL="http://127.0.0.1:$SERVER_PORT"
SOCK="$W/db/mysql.sock"
PIDS=()

log() { printf '[rehearse %6.1fs] %s\n' "$(secs "$T0" "$(now)")" "$*"; }
die() { echo "REHEARSAL FAILED: $*" >&2; exit 1; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  if [[ -f "$W/db/mysqld.pid" ]]; then
    kill "$(cat "$W/db/mysqld.pid")" 2>/dev/null || true
  fi
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  [[ $rc -ne 0 ]] && echo "rehearsal exited with $rc; logs in $W" >&2
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- prerequisites
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_free "$DB_PORT" || die "port $DB_PORT (DB_PORT) is in use on 127.0.0.1"
port_free "$SERVER_PORT" || die "port $SERVER_PORT (SERVER_PORT) is in use on 127.0.0.1"
command -v curl >/dev/null || die "curl is required"
if ! command -v mariadbd >/dev/null || ! command -v mariadb-dump >/dev/null; then
  log "installing MariaDB from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || die "apt-get update failed: Debian packages cannot be had"
  apt-get install -y -qq mariadb-server mariadb-client >/dev/null \
    || die "apt-get install mariadb-server failed: Debian packages cannot be had"
fi
if [[ ! -x node_modules/.bin/tsx ]]; then
  log "npm ci (node_modules missing)"
  npm ci --no-audit --no-fund >/dev/null || die "npm ci failed"
fi

tv=$(now)
VENV_A=$(bash rehearsal/ensure-venv.sh "$FROM") || die "cannot build the venv for zenml $FROM (see above)"
VENV_B=$(bash rehearsal/ensure-venv.sh "$TO") || die "cannot build the venv for zenml $TO (see above)"
VENV_SECS=$(secs "$tv" "$(now)")
log "venvs ready in ${VENV_SECS}s: $VENV_A, $VENV_B"

rm -rf "$W" && mkdir -p "$W/db" "$W/artifacts"
chmod 700 "$W"
gen_secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(24))'; }
DB_PASSWORD=$(gen_secret)
ADMIN_PASSWORD=$(gen_secret)
JWT_KEY=$(gen_secret)

# ---------------------------------------------------------------- private MariaDB
log "starting a private MariaDB on 127.0.0.1:$DB_PORT"
mariadb-install-db --no-defaults --datadir="$W/db/data" --user="$(id -un)" \
  --auth-root-authentication-method=socket --skip-test-db >"$W/db-install.log" 2>&1 \
  || die "mariadb-install-db failed (see $W/db-install.log)"
mariadbd --no-defaults --datadir="$W/db/data" --socket="$SOCK" --port="$DB_PORT" \
  --bind-address=127.0.0.1 --user="$(id -un)" --pid-file="$W/db/mysqld.pid" \
  --log-error="$W/db/error.log" --skip-name-resolve &
PIDS+=($!)
sql() { mariadb --no-defaults -S "$SOCK" -uroot -N -B "$@"; }
for _ in $(seq 1 60); do sql -e 'select 1' >/dev/null 2>&1 && break; sleep 0.5; done
sql -e 'select 1' >/dev/null 2>&1 || die "MariaDB did not start (see $W/db/error.log)"
DB_VERSION=$(sql -e 'select version()')
sql -e "CREATE DATABASE zenml; CREATE USER 'zenml'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
        GRANT ALL ON zenml.* TO 'zenml'@'127.0.0.1'; GRANT ALL ON zenml_restore.* TO 'zenml'@'127.0.0.1';"

# ---------------------------------------------------------------- ZenML server helpers
db_url() { echo "mysql://zenml:$DB_PASSWORD@127.0.0.1:$DB_PORT/$1"; }

# Environment of a server / migration process, like the chart's: the server never migrates
# by itself (ZENML_DISABLE_DATABASE_MIGRATION), a migration job does.
server_env() { # <venv> <db> <config dir> cmd...   (execs: call it in a subshell)
  exec env -i PATH="$1/bin:/usr/bin:/bin" HOME="$W" LANG=C.UTF-8 \
    ZENML_CONFIG_PATH="$3" ZENML_LOCAL_STORES_PATH="$W/artifacts" \
    ZENML_ANALYTICS_OPT_IN=false ZENML_LOGGING_VERBOSITY=INFO \
    ZENML_STORE_URL="$(db_url "$2")" \
    ZENML_SERVER_DEPLOYMENT_TYPE=kubernetes \
    ZENML_SERVER_AUTO_ACTIVATE=1 ZENML_DEFAULT_USER_NAME=admin ZENML_DEFAULT_USER_PASSWORD="$ADMIN_PASSWORD" \
    ZENML_SERVER_JWT_SECRET_KEY="$JWT_KEY" ZENML_DISABLE_DATABASE_MIGRATION=true \
    "${@:4}"
}

migrate() { # <venv> <db> <log>
  ( server_env "$1" "$2" "$W/cfg-migrate-$(basename "$1")" env -u ZENML_DISABLE_DATABASE_MIGRATION \
    "$1/bin/zenml" migrate-database ) >"$3" 2>&1 || die "zenml migrate-database ($(basename "$1")) failed, see $3"
}

SERVER_PID=""
start_server() { # <venv> <db> <log>
  # The subshell execs into uvicorn, so $! is the server's own PID.
  ( server_env "$1" "$2" "$W/cfg-server-$(basename "$1")" \
    "$1/bin/uvicorn" zenml.zen_server.zen_server_api:app --host 127.0.0.1 --port "$SERVER_PORT" \
    --log-level warning ) >"$3" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
}

wait_healthy() { # <timeout s>
  local deadline=$(( $(date +%s) + $1 ))
  while (( $(date +%s) < deadline )); do
    curl -sf -m 2 "$URL/health" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
  port_free "$SERVER_PORT" || die "the server port $SERVER_PORT still answers after stopping the server"
}

# The default stack's local artifact store resolves to the *client's* local stores path, so
# the old and new clients share one, like a shared S3 bucket in the real environments.
client_env() { # <venv> <config dir> cmd...
  env -i PATH="$1/bin:/usr/bin:/bin" HOME="$W" LANG=C.UTF-8 \
    ZENML_CONFIG_PATH="$2" ZENML_ANALYTICS_OPT_IN=false ZENML_LOGGING_VERBOSITY=WARN \
    ZENML_LOCAL_STORES_PATH="$W/artifacts" \
    ZENML_STORE_URL="$URL" ZENML_STORE_API_KEY="$(cat "$W/api-key")" \
    "${@:3}"
}

smoke() { # args... -> runs the TS smoke check, returns its exit code
  ZENML_API_KEY="$(cat "$W/api-key")" npm run --silent smoke -- --url "$URL" "$@"
}

CHECKS=()
check() { # <name> <pass|fail> <detail>
  CHECKS+=("$1|$2|$3")
  log "check $1: $2 ($3)"
}

# ---------------------------------------------------------------- A: install + seed
log "zenml $FROM: migrate-database (the chart's pre-install hook)"
migrate "$VENV_A" zenml "$W/migrate-$FROM.log"
log "zenml $FROM: starting the server on $URL"
start_server "$VENV_A" zenml "$W/server-$FROM.log"
wait_healthy 120 || die "server $FROM did not become healthy (see $W/server-$FROM.log)"

ZENML_ADMIN_PASSWORD="$ADMIN_PASSWORD" "$VENV_A/bin/python" rehearsal/bootstrap_sa.py \
  "$URL" admin smoke-ci "$W/api-key" || die "cannot create the service account / API key"

log "zenml $FROM: seed run"
client_env "$VENV_A" "$W/client-$FROM" python smoke/seed.py "$W/seed.json" >"$W/seed.log" 2>&1 \
  || { tail -n 30 "$W/seed.log" >&2; die "seed run failed (see $W/seed.log)"; }
tail -n 1 "$W/seed.log"
SEED_RUN_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$W/seed.json")

if smoke --expect-version "$FROM" --retries 2 --backoff-ms 500 >"$W/smoke-$FROM.txt" 2>&1; then
  check "smoke-before-upgrade" pass "TS smoke green on $FROM"
else
  cat "$W/smoke-$FROM.txt" >&2; check "smoke-before-upgrade" fail "TS smoke red on $FROM"
fi

# ---------------------------------------------------------------- upgrade A -> B
# A /health poller measures the API downtime: last healthy answer of A to first of B.
( while :; do
    if curl -sf -m 1 "$URL/health" >/dev/null 2>&1; then echo "$(date +%s.%N) up"; else echo "$(date +%s.%N) down"; fi
    sleep 0.1
  done ) >"$W/health-poll.log" 2>/dev/null &
POLLER=$!
PIDS+=("$POLLER")
sleep 1

tu=$(now)
log "upgrade: stopping $FROM"
stop_server
t1=$(now)
log "upgrade: logical backup (mariadb-dump, the stand-in for the RDS snapshot)"
mariadb-dump --no-defaults -S "$W/db/mysql.sock" -uroot --single-transaction --routines --triggers \
  --databases zenml >"$W/backup-before-$TO.sql" || die "backup failed"
t2=$(now)
log "upgrade: zenml $TO migrate-database (the chart's pre-upgrade hook)"
migrate "$VENV_B" zenml "$W/migrate-$TO.log"
t3=$(now)
log "upgrade: starting $TO"
start_server "$VENV_B" zenml "$W/server-$TO.log"
wait_healthy 180 || die "server $TO did not become healthy (see $W/server-$TO.log)"
t4=$(now)
sleep 1
kill "$POLLER" 2>/dev/null || true
wait "$POLLER" 2>/dev/null || true
BACKUP_SECS=$(secs "$t1" "$t2") MIGRATE_SECS=$(secs "$t2" "$t3") START_SECS=$(secs "$t3" "$t4")
# Downtime = the largest gap between two consecutive healthy samples.
DOWNTIME=$(python3 - "$W/health-poll.log" <<'EOF'
import sys
ups = [float(l.split()[0]) for l in open(sys.argv[1]) if l.strip().endswith(" up")]
gaps = [b - a for a, b in zip(ups, ups[1:])]
print(f"{max(gaps):.1f}" if gaps else "nan")
EOF
)
ALEMBIC_B=$(sql -e 'select version_num from zenml.alembic_version')
log "upgrade done: API down ${DOWNTIME}s (backup ${BACKUP_SECS}s, migration ${MIGRATE_SECS}s, start ${START_SECS}s); alembic_version=$ALEMBIC_B"
[[ "$DOWNTIME" != nan ]] || check "downtime-measured" fail "the health poller saw no gap"

# ---------------------------------------------------------------- smoke suites against B
log "TS smoke against $TO"
if smoke --expect-version "$TO" --expect-stack default | tee "$W/smoke-$TO.txt"; then
  check "ts-smoke" pass "all steps green on $TO"
else
  check "ts-smoke" fail "see $W/smoke-$TO.txt"
fi
smoke --expect-version "$TO" --json >"$W/smoke-$TO.json" 2>/dev/null || true

log "pytest pipeline smoke suite against $TO (client $TO)"
if client_env "$VENV_B" "$W/client-$TO" env ZENML_SMOKE_SEED_FILE="$W/seed.json" \
     ZENML_SMOKE_EXPECT_VERSION="$TO" ZENML_SMOKE_STACK=default \
     python -m pytest -p no:cacheprovider -q smoke >"$W/pytest-$TO.txt" 2>&1; then
  check "pytest-smoke" pass "$(tail -n 1 "$W/pytest-$TO.txt")"
else
  tail -n 40 "$W/pytest-$TO.txt" >&2
  check "pytest-smoke" fail "$(tail -n 1 "$W/pytest-$TO.txt")"
fi

# ---------------------------------------------------------------- negative checks
neg() { # <name> <expected reason regex> smoke args...
  local name=$1 want=$2 rc=0 out
  shift 2
  out=$(smoke "$@" 2>&1) || rc=$?
  printf '%s\n' "$out" >"$W/neg-$name.txt"
  if (( rc == 0 )); then
    check "$name" fail "smoke passed but must fail"
  elif ! grep -qE "$want" <<<"$out"; then
    check "$name" fail "exit $rc but no reason matching /$want/"
  elif grep -qF "$(cat "$W/api-key")" <<<"$out"; then
    check "$name" fail "the API key was printed"
  else
    check "$name" pass "exit $rc: $(grep -E "$want" <<<"$out" | head -n 1 | sed 's/^ *//')"
  fi
}
neg "negative-wrong-version" "FAILED at info: version is $TO, expected $FROM" \
  --expect-version "$FROM" --retries 1 --backoff-ms 200
ZENML_API_KEY_SAVED=$(cat "$W/api-key")
echo "ZENML-not-a-key" >"$W/api-key"
neg "negative-bad-key" "FAILED at login: HTTP 401" --expect-version "$TO" --retries 1 --backoff-ms 200
printf '%s' "$ZENML_API_KEY_SAVED" >"$W/api-key"
unset ZENML_API_KEY_SAVED
log "stopping $TO for the server-down check"
stop_server
neg "negative-server-down" "FAILED at health: connection refused" --expect-version "$TO" --retries 2 --backoff-ms 200

# ---------------------------------------------------------------- restore = rollback
log "restore: backup into a fresh database zenml_restore, then $FROM on it"
sed -e 's/^CREATE DATABASE .*`zenml`.*/CREATE DATABASE `zenml_restore`;/' -e 's/^USE `zenml`;/USE `zenml_restore`;/' \
  "$W/backup-before-$TO.sql" | sql || die "restore failed"
ALEMBIC_RESTORED=$(sql -e 'select version_num from zenml_restore.alembic_version')
SEED_HEX=${SEED_RUN_ID//-/}
RUNS_RESTORED=$(sql -e "select count(*) from zenml_restore.pipeline_run")
SEED_RESTORED=$(sql -e "select count(*) from zenml_restore.pipeline_run where id='$SEED_HEX'")
RUNS_B=$(sql -e "select count(*) from zenml.pipeline_run")
if [[ "$ALEMBIC_RESTORED" == "$FROM" && "$SEED_RESTORED" == 1 && "$RUNS_RESTORED" -lt "$RUNS_B" ]]; then
  check "restore-data" pass "alembic_version=$ALEMBIC_RESTORED, $RUNS_RESTORED run(s) incl. the seed run (upgraded DB has $RUNS_B)"
else
  check "restore-data" fail "alembic_version=$ALEMBIC_RESTORED (want $FROM), seed run rows=$SEED_RESTORED, runs $RUNS_RESTORED vs $RUNS_B"
fi
start_server "$VENV_A" zenml_restore "$W/server-$FROM-restored.log"
if wait_healthy 120 && smoke --expect-version "$FROM" --retries 2 --backoff-ms 500 >"$W/smoke-$FROM-restored.txt" 2>&1; then
  check "rollback-serves" pass "$FROM serves the restored database, TS smoke green"
else
  cat "$W/smoke-$FROM-restored.txt" >&2 || true
  check "rollback-serves" fail "$FROM on the restored database is not healthy (see $W/server-$FROM-restored.log)"
fi
stop_server

# ---------------------------------------------------------------- summary
TOTAL=$(secs "$T0" "$(now)")
printf '%s\n' "${CHECKS[@]}" >"$W/checks.txt"
python3 - "$REPORT" "$W/checks.txt" <<EOF
import json, sys
checks = [dict(zip(("name", "status", "detail"), l.rstrip("\n").split("|", 2))) for l in open(sys.argv[2]) if l.strip()]
report = {
    "from_version": "$FROM", "to_version": "$TO", "database": "MariaDB $DB_VERSION",
    "alembic_version_after": "$ALEMBIC_B",
    "downtime_seconds": float("$DOWNTIME"),
    "phases_seconds": {"backup": $BACKUP_SECS, "migration": $MIGRATE_SECS, "start_new_server": $START_SECS, "venvs": $VENV_SECS},
    "total_seconds": $TOTAL,
    "ok": all(c["status"] == "pass" for c in checks),
    "checks": checks,
    "logs": "$W",
}
json.dump(report, open(sys.argv[1], "w"), indent=2)
EOF
echo
echo "================ upgrade rehearsal: zenml $FROM -> $TO ================"
printf '%-26s %s\n' "database" "MariaDB $DB_VERSION (alembic_version after: $ALEMBIC_B)"
printf '%-26s %ss (backup %ss, migration %ss, start %ss)\n' "API downtime" "$DOWNTIME" "$BACKUP_SECS" "$MIGRATE_SECS" "$START_SECS"
printf '%-26s %ss (venvs %ss)\n' "total duration" "$TOTAL" "$VENV_SECS"
for c in "${CHECKS[@]}"; do IFS='|' read -r n s d <<<"$c"; printf '%-26s %-4s %s\n' "$n" "${s^^}" "$d"; done
echo "report: $REPORT"
for c in "${CHECKS[@]}"; do
  [[ "$c" == *"|fail|"* ]] && die "at least one check failed (see above)"
done
echo "REHEARSAL PASSED"
