#!/usr/bin/env bash
# Interop matrix (issue 13): libalphacore's encodings and interval logs decoded by HdrHistogram_c
# 0.11.10 (built from the shared peers folder into build/peers, linked into the test program
# only), by Python hdrh and by Java HdrHistogram; theirs decoded by libalphacore, with identical
# counts, min, max and percentiles. Needs STAGE (see the Makefile).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${OUT:-$root/build/Tests/interop}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
lib=$(bash "$root/benchmarks/peers/hdr_c.sh" "$root/build/peers" as-shipped)
prefix=$(dirname "$(dirname "$lib")")
${CC:-cc} -std=gnu11 -O1 -Wall -Wextra -Werror -I"$prefix/include" $(pkg-config --cflags alphacore) \
    "$here/interop_hdr_c.c" -o "$out/interop_hdr_c" $(pkg-config --libs alphacore) \
    -L"$prefix/lib" -Wl,-rpath,"$prefix/lib" -lhdr_histogram -lz -lm
"$out/interop_hdr_c" write "$work"

if python3 -c 'import hdrh' 2>/dev/null; then
    python3 "$here/interop_hdrh.py" "$work"
    "$out/interop_hdr_c" check "$work" hdrh
else
    echo "SKIPPED: Python hdrh is not installed (pip install hdrhistogram): its half of the matrix is not run"
fi

jar=/usr/share/java/hdrhistogram.jar
if command -v java >/dev/null && [ -f "$jar" ]; then
    java -cp "$jar" "$here/Interop.java" "$work"
    "$out/interop_hdr_c" check "$work" java
else
    echo "SKIPPED: java or $jar is missing (apt-get install default-jre-headless libhdrhistogram-java)"
fi
echo "interop matrix: passed"
