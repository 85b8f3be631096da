#!/usr/bin/env bash
# Builds the optional benchmark peers outside the main package (bench_hist.c loads them with
# dlopen when present): hdrhistogram-swift 0.2.0 -> benchmarks/peers/lib/libHdrSwiftPeer.so.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/lib"
(cd "$here/hdrswift-peer" && swift build -c release --scratch-path "$here/.build-hdrswift" \
    -Xswiftc -static-stdlib --product HdrSwiftPeer)
cp "$here/.build-hdrswift/release/libHdrSwiftPeer.so" "$here/lib/"
echo "built $here/lib/libHdrSwiftPeer.so"
