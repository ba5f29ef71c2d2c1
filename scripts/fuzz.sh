#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of untrusted bytes with SharpFuzz and afl++ (docs/FUZZING.md).
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default: 60 seconds per target, every target
# Installs afl++ when missing (root), restores the local dotnet tools (sharpfuzz), builds fuzz/TrustPool.Fuzz in
# Release, instruments the TrustPool assemblies, seeds each target from ../shared/testdata (when present) plus
# fuzz/seeds and fuzz/corpus, and runs one afl-fuzz at a time under nice. Findings stay in the work directory
# ($FUZZ_WORK, default ~/.cache/trustpool-fuzz): WORK/out/TARGET/default/{crashes,hangs}. Not part of CI.
# FUZZ_MINIMIZE=1 also writes an afl-cmin minimized queue to WORK/min/TARGET.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-60}
shift || true
work=${FUZZ_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/trustpool-fuzz} # not under /tmp: afl-cmin refuses it
testdata="$root/../shared/testdata"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
log() { printf '[fuzz.sh] %s\n' "$*" >&2; }

targets=(tpms-attest tpmt-public tpmt-signature pcr-file tcg-eventlog ima-binary ima-ascii
  agent-request service-request baseline-json pool-json audit-export checkpoint)
[ $# -gt 0 ] && targets=("$@")

if ! command -v afl-fuzz >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { log "afl-fuzz is missing and this is not root: apt-get install afl++"; exit 1; }
  log "installing afl++"
  DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q afl++ >/dev/null
fi

dotnet tool restore >/dev/null
rm -rf "$work/bin"
mkdir -p "$work"
dotnet build fuzz/TrustPool.Fuzz -c Release -nologo -v q -o "$work/bin" >/dev/null
harness=("$(command -v dotnet)" "$work/bin/TrustPool.Fuzz.dll")
# Generated seeds first: instrumented assemblies only run under afl (they write to its shared memory).
rm -rf "$work/generated"
"${harness[@]}" --seeds "$work/generated"
for dll in "$work"/bin/TrustPool.*.dll; do
  case "$(basename "$dll")" in TrustPool.Fuzz.dll) continue ;; esac
  dotnet sharpfuzz "$dll" >/dev/null
done

# ---- seeds ----------------------------------------------------------------------------------------
# Patterns over ../shared/testdata per target (files up to 64 KiB, at most 24 per target).
pattern() {
  case "$1" in
    tpms-attest) echo '*tpms_attest*' ;;
    tpmt-public) echo '*tpmt_public*' ;;
    tpmt-signature) echo '*tpmt_signature*' ;;
    pcr-file) echo '*pcrs*.bin' ;;
    tcg-eventlog) echo '*event*' ;;
    ima-binary) echo '*ima*.bin' ;;
    ima-ascii) echo '*ascii*' ;;
    baseline-json | pool-json | service-request | agent-request) echo '*.json' ;;
    *) echo '' ;;
  esac
}
rm -rf "$work/seeds"
for t in "${targets[@]}"; do
  in="$work/seeds/$t"
  mkdir -p "$in"
  p=$(pattern "$t")
  if [ -n "$p" ] && [ -d "$testdata" ]; then
    find "$testdata" -type f -iname "$p" -size -64k -print0 | sort -z | head -z -n 24 |
      while IFS= read -r -d '' f; do cp "$f" "$in/$(echo "${f#"$testdata"/}" | tr / _)"; done
  fi
  for d in "fuzz/seeds/$t" "fuzz/corpus/$t" "$work/generated/$t"; do
    [ -d "$d" ] && cp "$d"/* "$in/" 2>/dev/null || true
  done
  [ -n "$(ls -A "$in")" ] || printf 'x' > "$in/empty"
done

# ---- campaign ---------------------------------------------------------------------------------------
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
stat() { awk -F' *: *' -v k="$2" '$1==k {print $2}' "$1"; }
printf '%-16s %12s %9s %7s %8s %6s\n' target execs exec/s paths crashes hangs
for t in "${targets[@]}"; do
  out="$work/out/$t"
  rm -rf "$out"; mkdir -p "$work/out"
  nice -n 19 afl-fuzz -i "$work/seeds/$t" -o "$out" -V "$seconds" -t 2000 -m none -- "${harness[@]}" "$t" \
    >"$work/afl-$t.log" 2>&1 || log "afl-fuzz $t exited $? (see $work/afl-$t.log)"
  s="$out/default/fuzzer_stats"
  if [ -f "$s" ]; then
    printf '%-16s %12s %9s %7s %8s %6s\n' "$t" "$(stat "$s" execs_done)" "$(stat "$s" execs_per_sec)" \
      "$(stat "$s" corpus_count)" "$(stat "$s" saved_crashes)" "$(stat "$s" saved_hangs)"
  else
    printf '%-16s no stats (see %s)\n' "$t" "$work/afl-$t.log"
  fi
  if [ "${FUZZ_MINIMIZE:-0}" = 1 ]; then
    rm -rf "$work/min/$t"
    nice -n 19 afl-cmin -i "$out/default/queue" -o "$work/min/$t" -t 5000 -m none -- "${harness[@]}" "$t" \
      >"$work/cmin-$t.log" 2>&1 || log "afl-cmin $t failed (see $work/cmin-$t.log)"
  fi
done
