#!/usr/bin/env bash
# The full test run: installs what the tests need when missing, starts the services on loopback,
# runs every test project with TRUSTPOOL_REQUIRE_INTEGRATION=1 and prints the total as its last line:
#   N passed, N failed, N skipped
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export TRUSTPOOL_REQUIRE_INTEGRATION=1
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '[test.sh] %s\n' "$*" >&2; }

# ---- packages -------------------------------------------------------------------------------
need=()
command -v swtpm >/dev/null 2>&1 || need+=(swtpm)
command -v swtpm_setup >/dev/null 2>&1 || need+=(swtpm-tools)
command -v tpm2_quote >/dev/null 2>&1 || need+=(tpm2-tools)
command -v evmctl >/dev/null 2>&1 || need+=(ima-evm-utils)
command -v rsyslogd >/dev/null 2>&1 || [ -x /usr/sbin/rsyslogd ] || need+=(rsyslog)
/usr/bin/python3 -c "import placement.wsgi" >/dev/null 2>&1 || need+=(python3-placement)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    log "installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null 2>&1 || log "apt-get update failed"
    apt-get install -y -q "${need[@]}" >/dev/null 2>&1 || log "apt-get install ${need[*]} failed"
  else
    log "not root: cannot install ${need[*]}; integration tests will fail"
  fi
fi

# ---- PostgreSQL (storage tests) ---------------------------------------------------------------
# Starts the distribution's cluster on loopback if it is not running, creates role and database
# trustpool (idempotent) and stops the cluster again at exit if this script started it.
pg_started=""
pg_stop() {
  if [ -n "$pg_started" ]; then
    log "stopping PostgreSQL $pg_started"
    pg_ctlcluster "$pg_started" main stop >/dev/null 2>&1 || log "pg_ctlcluster $pg_started main stop failed"
    pg_started=""
  fi
}
placement_pid=""
rsyslog_pid_file=""
cleanup() {
  pg_stop
  if [ -n "$rsyslog_pid_file" ] && [ -f "$rsyslog_pid_file" ]; then
    log "stopping rsyslog"
    kill "$(cat "$rsyslog_pid_file")" >/dev/null 2>&1 || true
    rsyslog_pid_file=""
  fi
  if [ -n "$placement_pid" ]; then
    log "stopping OpenStack Placement"
    kill "$placement_pid" >/dev/null 2>&1 || true
    placement_pid=""
  fi
}
trap cleanup EXIT
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    log "installing: postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null 2>&1 || log "apt-get update failed"
    apt-get install -y -q postgresql >/dev/null 2>&1 || log "apt-get install postgresql failed"
  else
    log "not root: cannot install postgresql; PostgreSQL tests will fail"
  fi
fi
pg_version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
if [ -n "$pg_version" ] && command -v pg_ctlcluster >/dev/null 2>&1; then
  if ! pg_ctlcluster "$pg_version" main status >/dev/null 2>&1; then
    log "starting PostgreSQL $pg_version"
    if pg_ctlcluster "$pg_version" main start; then
      pg_started=$pg_version
    else
      log "pg_ctlcluster $pg_version main start failed"
    fi
  fi
  pg_sql() { su postgres -c "psql -q -tAc \"$1\"" 2>/dev/null; }
  if [ "$(pg_sql "SELECT 1 FROM pg_roles WHERE rolname = 'trustpool'")" != 1 ]; then
    pg_sql "CREATE USER trustpool WITH PASSWORD 'trustpool' SUPERUSER;" || log "creating role trustpool failed"
  fi
  if [ "$(pg_sql "SELECT 1 FROM pg_database WHERE datname = 'trustpool'")" != 1 ]; then
    su postgres -c "createdb -O trustpool trustpool" || log "creating database trustpool failed"
  fi
  export TRUSTPOOL_TEST_POSTGRES="Host=127.0.0.1;Username=trustpool;Password=trustpool;Database=trustpool"
else
  log "PostgreSQL is not installed; PostgreSQL tests will fail"
fi

# ---- OpenStack Placement (trait sync tests) --------------------------------------------------
# Debian's python3-placement, noauth2, SQLite, on a free loopback port; stopped at exit.
if /usr/bin/python3 -c "import placement.wsgi" >/dev/null 2>&1; then
  placement_dir=$(mktemp -d /tmp/trustpool-placement.XXXXXX)
  placement_port=$(/usr/bin/python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
  /usr/bin/python3 scripts/placement-server.py "$placement_port" "$placement_dir" >"$placement_dir/placement.log" 2>&1 &
  placement_pid=$!
  placement_up() { /usr/bin/python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "http://127.0.0.1:$placement_port/" >/dev/null 2>&1; }
  for _ in $(seq 1 120); do
    placement_up && break
    sleep 0.5
  done
  if placement_up; then
    log "OpenStack Placement on http://127.0.0.1:$placement_port"
    export TRUSTPOOL_TEST_PLACEMENT="http://127.0.0.1:$placement_port"
  else
    log "OpenStack Placement did not start; see $placement_dir/placement.log"
  fi
else
  log "python3-placement is not installed; Placement tests will fail"
fi

# ---- rsyslog (SIEM export tests) -------------------------------------------------------------
# Debian's rsyslogd with its own configuration (not the system one): TCP on a free loopback port, every message
# verbatim into received.log. The SIEM test stops and restarts it mid-run through its pid file; stopped at exit.
rsyslogd_bin=$(command -v rsyslogd 2>/dev/null || { [ -x /usr/sbin/rsyslogd ] && echo /usr/sbin/rsyslogd; } || true)
if [ -n "$rsyslogd_bin" ]; then
  rsyslog_dir=$(mktemp -d /tmp/trustpool-rsyslog.XXXXXX)
  rsyslog_port=$(/usr/bin/python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
  cat >"$rsyslog_dir/rsyslog.conf" <<EOF
global(workDirectory="$rsyslog_dir")
module(load="imtcp")
input(type="imtcp" port="$rsyslog_port" address="127.0.0.1" ruleset="tp")
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="tp") { action(type="omfile" file="$rsyslog_dir/received.log" template="raw") }
EOF
  rsyslog_pid_file="$rsyslog_dir/rsyslogd.pid"
  "$rsyslogd_bin" -f "$rsyslog_dir/rsyslog.conf" -i "$rsyslog_pid_file" >"$rsyslog_dir/rsyslogd.log" 2>&1 || true
  rsyslog_up() { /usr/bin/python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1).close()" "$rsyslog_port" >/dev/null 2>&1; }
  for _ in $(seq 1 50); do
    rsyslog_up && break
    sleep 0.2
  done
  if rsyslog_up; then
    log "rsyslog on tcp://127.0.0.1:$rsyslog_port writing $rsyslog_dir/received.log"
    export TRUSTPOOL_TEST_RSYSLOG="$rsyslog_port:$rsyslog_dir"
  else
    log "rsyslogd did not start; see $rsyslog_dir/rsyslogd.log"
  fi
else
  log "rsyslog is not installed; SIEM tests will fail"
fi

# ---- build + test ---------------------------------------------------------------------------
results="$root/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"
# The local tools (.config/dotnet-tools.json: Kiota, for the generated-client test) come from NuGet once, then the cache.
log "restoring dotnet tools"
dotnet tool restore >/dev/null || log "dotnet tool restore failed; GeneratedClientTests will fail"
log "building"
if ! dotnet build TrustPool.sln -c Release -nologo -v q; then
  log "build failed"
  cleanup
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

status=0
for proj in tests/*.Tests/*.csproj; do
  name=$(basename "$proj" .csproj)
  log "testing $name"
  dotnet test "$proj" -c Release --no-build -nologo \
    --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
    --logger "console;verbosity=minimal" || status=1
done

# ---- total ----------------------------------------------------------------------------------
passed=0; failed=0; skipped=0; found=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  found=$((found + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  p=$(get passed); f=$(get failed); e=$(get error); t=$(get total); x=$(get executed)
  p=${p:-0}; f=${f:-0}; e=${e:-0}; t=${t:-0}; x=${x:-0}
  passed=$((passed + p)); failed=$((failed + f + e)); skipped=$((skipped + t - x))
done
expected=$(ls -d tests/*.Tests | wc -l)
if [ "$found" -lt "$expected" ]; then
  log "only $found of $expected test projects produced results"
  failed=$((failed + expected - found))
fi
[ "$failed" -gt 0 ] && status=1
# Stop the services now, so the total below stays the very last line (the EXIT trap then has nothing left to do).
cleanup
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
