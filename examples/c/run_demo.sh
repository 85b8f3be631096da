#!/usr/bin/env bash
# Builds examples/c/demo.c against the staged install with pkg-config and runs it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../../build/examples
mkdir -p "$out"
${CC:-cc} -std=c11 -Wall -Wextra -O2 -D_GNU_SOURCE $(pkg-config --cflags alphacore) "$here/demo.c" \
    -o "$out/demo" $(pkg-config --libs alphacore) -lpthread
"$out/demo" "$@"
