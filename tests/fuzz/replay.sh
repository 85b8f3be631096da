#!/usr/bin/env bash
# Part of `make test`: replays the kept fuzz corpus (tests/fuzz/corpus) through the fuzz
# target built as a plain program against the staged library. The fuzzing itself (minutes,
# an instrumented library build) is `make fuzz`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../../build/tests/fuzz
mkdir -p "$out"
${CC:-cc} -std=c11 -Wall -Wextra -Werror -O1 -DFUZZ_REPLAY $(pkg-config --cflags alphacore) \
    "$here/fuzz_hist_decode.c" -o "$out/fuzz_replay" $(pkg-config --libs alphacore) -lz
find "$here/corpus" -type f -print0 | xargs -0 "$out/fuzz_replay"
