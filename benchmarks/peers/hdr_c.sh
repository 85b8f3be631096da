#!/usr/bin/env bash
# Builds HdrHistogram_c 0.11.10 (a peer: never linked into the library) from the shared peers
# folder into OUT/hdr-FLAVOUR, once, and prints the path of its libhdr_histogram.so.
#   hdr_c.sh OUT as-shipped|nsi
# The peers folder: $ALPHACORE_PEERS, else ../shared/peers beside the repository (CI's read-only
# copy), else ../../shared/peers (a worktree one level further down).
set -euo pipefail
out=${1:?usage: hdr_c.sh OUT as-shipped|nsi}
flavour=${2:-as-shipped}
root=$(cd "$(dirname "$0")/../.." && pwd)
peers=${ALPHACORE_PEERS:-}
for p in "$root/../shared/peers" "$root/../../shared/peers"; do
    [ -z "$peers" ] && [ -f "$p/build-hdr-histogram-c.sh" ] && peers=$p
done
[ -n "$peers" ] || { echo "hdr_c.sh: no shared/peers folder (set ALPHACORE_PEERS)" >&2; exit 1; }
prefix=$(mkdir -p "$out" && cd "$out" && pwd)/hdr-$flavour
if [ ! -f "$prefix/lib/libhdr_histogram.so" ]; then
    bash "$peers/build-hdr-histogram-c.sh" "$prefix" "$flavour" >/dev/null
fi
echo "$prefix/lib/libhdr_histogram.so"
