#!/usr/bin/env bash
# Idle RSS of the agent as its own process (issue 4: <= 60 MB): the shipped Native AOT `trustpool-agent` or the JIT
# `trustpool agent`. Builds/publishes (nice'd), starts the agent on a software TPM in a temp dir, reads VmRSS ~10 s after
# start, serves QUOTES quotes over one keep-alive connection (curl), idles 10 s and reads VmRSS again.
#
#   MODE=aot scripts/measure-agent-rss.sh        # scripts/publish-agent.sh: Native AOT trustpool-agent, as shipped
#   scripts/measure-agent-rss.sh                 # `trustpool agent`: framework-dependent Release publish of the CLI (JIT)
#   EXTRA="-p:PublishReadyToRun=true" scripts/...  # extra publish/build properties, e.g. ReadyToRun
#   MODE=build scripts/measure-agent-rss.sh      # plain `dotnet build -c Release` (JIT only) for comparison
#   SKIP_BUILD=1 OUT=/tmp/x scripts/...          # reuse an output directory
#   env DOTNET_GCgen0size=... scripts/...        # any DOTNET_* variable is passed to the agent
#   BENCH=5 TRUSTPOOL_CLI=/tmp/cli/trustpool.dll scripts/...  # then `trustpool bench agent --url` for 5 s, RSS again
#   RUNS=3 QUOTES=200 IDLE=10 PORT=19543
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${MODE:-publish}
OUT=${OUT:-/tmp/trustpool-rss-$MODE}
QUOTES=${QUOTES:-200}
IDLE=${IDLE:-10}
RUNS=${RUNS:-1}
PORT=${PORT:-19543}

if [[ -z "${SKIP_BUILD:-}" ]]; then
  if [[ $MODE == aot ]]; then
    scripts/publish-agent.sh "$OUT" -v q ${EXTRA:-} >&2
  elif [[ $MODE == publish ]]; then
    nice -n 10 dotnet publish src/TrustPool.Cli -c Release -r linux-x64 --self-contained false -o "$OUT" -nologo -v q ${EXTRA:-} >&2
  else
    nice -n 10 dotnet build src/TrustPool.Cli -c Release -o "$OUT" -nologo -v q ${EXTRA:-} >&2
  fi
fi

kb() { awk -v k="$1:" '$1==k {print $2}' "$2"; }
snap() { # label pid
  local s=/proc/$2/status r=/proc/$2/smaps_rollup
  printf '%-12s VmRSS %6.1f MB  (anon %5.1f MB, file %5.1f MB, shmem %4.1f MB)  VmHWM %6.1f MB\n' "$1" \
    "$(echo "$(kb VmRSS $s)/1024" | bc -l)" "$(echo "$(kb RssAnon $s)/1024" | bc -l)" \
    "$(echo "$(kb RssFile $s)/1024" | bc -l)" "$(echo "$(kb RssShmem $s)/1024" | bc -l)" \
    "$(echo "$(kb VmHWM $s)/1024" | bc -l)"
  [[ -n "${VERBOSE:-}" ]] && cat "$r" >&2 || true
}

BODY='{"nonce":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","selection":{"sha256":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23]}}'
for run in $(seq "$RUNS"); do
  dir=$(mktemp -d /tmp/trustpool-rss-run.XXXXXX)
  if [[ $MODE == aot ]]; then agent=("$OUT/trustpool-agent"); else agent=(dotnet "$OUT/trustpool.dll" agent); fi
  nice -n 10 "${agent[@]}" --tpm "software:$dir/tpm.state" --urls "https://127.0.0.1:$PORT" \
    --insecure-no-client-auth --data "$dir/data" >"$dir/stdout" 2>"$dir/stderr" &
  pid=$!
  trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
  for _ in $(seq 300); do grep -q "agent listening" "$dir/stdout" 2>/dev/null && break; sleep 0.1; done
  grep -q "agent listening" "$dir/stdout" || { cat "$dir/stderr" >&2; exit 1; }
  sleep "$IDLE"
  snap "idle-before" $pid
  urls=(); for _ in $(seq "$QUOTES"); do urls+=("https://127.0.0.1:$PORT/v1/quote"); done
  ok=$(curl -sk -H 'content-type: application/json' -d "$BODY" -w '\nHTTP %{http_code}\n' "${urls[@]}" | grep -c '^HTTP 200$' || true)
  sleep "$IDLE"
  snap "idle-after" $pid
  echo "run $run: $ok/$QUOTES quotes answered 200"
  if [[ -n "${BENCH:-}" ]]; then # BENCH=SECONDS: `trustpool bench agent --url` against this agent (needs TRUSTPOOL_CLI=path/trustpool.dll)
    nice -n 10 dotnet "${TRUSTPOOL_CLI:?set TRUSTPOOL_CLI to a built trustpool.dll}" bench agent --url "https://127.0.0.1:$PORT" --seconds "$BENCH"
    snap "after-bench" $pid
  fi
  kill $pid; wait $pid 2>/dev/null || true
  rm -rf "$dir"; trap - EXIT
done
