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

# ---- build + test ---------------------------------------------------------------------------
results="$root/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"
log "building"
if ! dotnet build TrustPool.sln -c Release -nologo -v q; then
  log "build failed"
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
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
