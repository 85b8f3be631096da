#!/usr/bin/env bash
# `make fuzz`: libFuzzer over alphacore_hist_decode (Tests/fuzz/fuzz_hist_decode.c) for a
# bounded time (FUZZ_SECONDS, default 60), against a coverage-instrumented build of the library
# (swift build -sanitize=fuzzer, its own scratch folder). New interesting inputs are added to
# Tests/fuzz/corpus (the kept corpus; commit the useful ones). Needs the Swift toolchain's
# clang (-fsanitize=fuzzer).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/build/fuzz
scratch=${FUZZ_SCRATCH:-$root/.build-fuzz}
seconds=${FUZZ_SECONDS:-60}
clang=${FUZZ_CC:-$(dirname "$(readlink -f "$(command -v swift)")")/clang}
mkdir -p "$out" "$here/corpus"
(cd "$root" && swift build -c release --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer \
    -Xswiftc -static-stdlib --product AlphaCoreC -Xlinker -soname=libalphacore.so.0 \
    -Xlinker --version-script="$root/alphacore.map")
mkdir -p "$out/lib"
cp "$scratch/release/libAlphaCoreC.so" "$out/lib/libalphacore.so.0"
ln -sf libalphacore.so.0 "$out/lib/libalphacore.so"
"$clang" -g -O1 -fsanitize=fuzzer,address,undefined -Wl,--export-dynamic -I"$root/include" \
    "$here/fuzz_hist_decode.c" -o "$out/fuzz_hist_decode" -L"$out/lib" -lalphacore -lz
mkdir -p "$out/new"
LD_LIBRARY_PATH="$out/lib" "$out/fuzz_hist_decode" -max_total_time="$seconds" -rss_limit_mb=1024 \
    -max_len=65536 -timeout=10 -print_final_stats=1 "$out/new" "$here/corpus" 2>&1 | tail -25
# Keep what the run found, minimised into the committed corpus.
LD_LIBRARY_PATH="$out/lib" "$out/fuzz_hist_decode" -merge=1 "$here/corpus" "$out/new" 2>&1 | tail -2
echo "fuzz: done ($seconds s); corpus: $(ls "$here/corpus" | wc -l) files"
