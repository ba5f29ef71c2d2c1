#!/usr/bin/env bash
# Whole-process comparison (issue 3): `trustpool eventlog replay --json` vs `tpm2_eventlog` on the same
# generated 50,000-event log. Publishes the CLI ReadyToRun, checks both print identical PCRs, and prints
# the median of N runs of each and the ratio. Usage: scripts/bench-eventlog.sh [RUNS] [EVENTS] [BANKS]
set -euo pipefail

RUNS="${1:-20}"
EVENTS="${2:-50000}"
BANKS="${3:-sha1,sha256}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d /tmp/trustpool-bench-eventlog.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

need() { command -v "$1" >/dev/null 2>&1; }
if ! need tpm2_eventlog || ! need hyperfine; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q tpm2-tools hyperfine >/dev/null
fi

echo "== publishing trustpool (Release, linux-x64, ReadyToRun)" >&2
dotnet publish "$ROOT/src/TrustPool.Cli" -c Release -r linux-x64 --self-contained false \
    -p:PublishReadyToRun=true -o "$WORK/pub" >"$WORK/publish.log" 2>&1 || { cat "$WORK/publish.log" >&2; exit 1; }
TP="$WORK/pub/trustpool"
LOG="$WORK/events.bin"

echo "== generating $EVENTS events ($BANKS)" >&2
"$TP" eventlog generate --events "$EVENTS" --banks "$BANKS" --seed 1 --out "$LOG"

echo "== checking both tools print the same PCRs" >&2
"$TP" eventlog replay --json "$LOG" >"$WORK/ours.json"
tpm2_eventlog "$LOG" >"$WORK/theirs.yaml" 2>"$WORK/theirs.err"
python3 - "$WORK/ours.json" "$WORK/theirs.yaml" <<'PY'
import json, re, sys
ours = {b: {int(k): v for k, v in p.items()} for b, p in json.load(open(sys.argv[1]))["pcrs"].items()}
theirs, bank, in_pcrs = {}, None, False
for line in open(sys.argv[2]):
    line = line.rstrip("\n")
    if line == "pcrs:":
        in_pcrs = True
        continue
    if not in_pcrs:
        continue
    m = re.match(r"^  (\w+):\s*$", line)
    if m:
        bank = m.group(1); theirs[bank] = {}
        continue
    m = re.match(r"^\s+(\d+)\s*:\s*0x([0-9a-fA-F]+)", line)
    if m and bank:
        theirs[bank][int(m.group(1))] = m.group(2).lower()
if ours != theirs or not ours:
    print("PCR MISMATCH\nours:  %s\ntheirs: %s" % (ours, theirs), file=sys.stderr)
    sys.exit(1)
print("identical PCRs: %d values in banks %s" % (sum(len(v) for v in ours.values()), ",".join(sorted(ours))), file=sys.stderr)
PY

echo "== timing ($RUNS runs each, 3 warm-up)" >&2
hyperfine -N -w 3 -r "$RUNS" --export-json "$WORK/hf.json" \
    "tpm2_eventlog $LOG" "$TP eventlog replay --json $LOG" >&2
python3 - "$WORK/hf.json" "$EVENTS" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
theirs, ours = r[0]["median"], r[1]["median"]
print("events:              %s" % sys.argv[2])
print("tpm2_eventlog median: %.1f ms" % (theirs * 1000))
print("trustpool median:     %.1f ms" % (ours * 1000))
print("ratio:                %.2fx faster" % (theirs / ours))
PY
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1); load: $(cut -d' ' -f1-3 /proc/loadavg)"
