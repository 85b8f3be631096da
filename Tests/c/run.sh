#!/usr/bin/env bash
# Builds every Tests/c/test_*.c against the installed header and library (pkg-config over the
# staging prefix) with strict C11 flags, and runs each. Needs STAGE (see the Makefile).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/../../build/Tests/c}
mkdir -p "$out"
cflags="-std=c11 -Wall -Wextra -Wpedantic -Werror -O2 -D_GNU_SOURCE $(pkg-config --cflags alphacore)"
libs="$(pkg-config --libs alphacore) -lpthread"
failed=0
total=0
for src in "$here"/test_*.c; do
    name=$(basename "$src" .c)
    extra=""   # Tests/c/test_x.flags: extra link flags for one test (e.g. -lseccomp)
    [ -f "$here/$name.flags" ] && extra=$(cat "$here/$name.flags")
    # C_REUSE=1 (make test-repeat after its first run): run the programs already built.
    [ -n "${C_REUSE:-}" ] && [ -x "$out/$name" ] || ${CC:-cc} $cflags -I"$here" "$src" -o "$out/$name" $libs $extra
    total=$((total + 1))
    if ! "$out/$name"; then
        echo "FAILED: $name" >&2
        failed=$((failed + 1))
    fi
done
echo "C test programs: $((total - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
