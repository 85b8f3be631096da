#!/usr/bin/env bash
# Configures, builds and runs the C++17 CMake consumer against the staged install, then checks
# the CMake package is relocatable: the same consumer against a copy of the prefix elsewhere.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/../../build/Tests/cpp}
rm -rf "$out"
mkdir -p "$out"
run_consumer() {
    local prefix=$1 dir=$2
    cmake -S "$here" -B "$dir" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_COMPILER="${CXX:-c++}" >/dev/null
    cmake --build "$dir" >/dev/null
    LD_LIBRARY_PATH="$prefix/lib" "$dir/consumer"
}
run_consumer "$STAGE/usr" "$out/build"
# Relocated prefix.
cp -a "$STAGE/usr" "$out/moved-prefix"
run_consumer "$out/moved-prefix" "$out/build-moved"
# The imported target must point inside the moved prefix (CMake's build RPATH names it).
if ! readelf -d "$out/build-moved/consumer" | grep -q "moved-prefix/lib"; then
    echo "cpp: the relocated CMake package still points at the original prefix" >&2
    exit 1
fi
echo "cpp: 3 passed, 0 failed"
