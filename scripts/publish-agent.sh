#!/usr/bin/env bash
# Publishes `trustpool-agent` (src/TrustPool.AgentHost) as a Native AOT, self-contained linux-x64 executable.
#
#   scripts/publish-agent.sh [OUTDIR]          # default OUTDIR: artifacts/trustpool-agent
#   RID=linux-arm64 scripts/publish-agent.sh   # another runtime identifier (needs a matching cross toolchain)
#   CXX_LINKER=clang scripts/publish-agent.sh  # linker driver for ILCompiler: gcc (default, found here) or clang
#
# Native AOT links with a C toolchain: the ILCompiler package (restored from the NuGet feed, the version the SDK
# picks: 10.0.12 for SDK 10.0.401) calls `clang` or `gcc` as linker driver. With .NET 10 it links its own static
# zlib and brotli (libz.a in the runtime pack), so `zlib1g-dev` is not needed (only with -p:UseSystemZlib=true).
# When neither compiler is found and we are root, gcc is installed with apt-get. `dotnet build` needs none of this.
# Output: OUTDIR/trustpool-agent (one file, ~12 MB) plus trustpool-agent.dbg (debug symbols, not needed to run).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-artifacts/trustpool-agent}
RID=${RID:-linux-x64}

linker=${CXX_LINKER:-}
if [[ -z $linker ]]; then
  if command -v clang >/dev/null; then linker=clang
  elif command -v gcc >/dev/null; then linker=gcc
  fi
fi
if [[ -z $linker ]]; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "publish-agent: installing gcc (Native AOT link step)" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev >&2
    linker=gcc
  else
    echo "publish-agent: Native AOT needs clang or gcc as linker; install one (apt-get install gcc)" >&2
    exit 1
  fi
fi

nice -n 10 dotnet publish src/TrustPool.AgentHost -c Release -r "$RID" -p:PublishAot=true \
  -p:CppCompilerAndLinker="$linker" -o "$OUT" -nologo "${@:2}"
ls -l "$OUT/trustpool-agent"
