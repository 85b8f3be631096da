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
# alphacore.hpp (install block, issue 16): the hpp tests and examples/cpp/engine.cpp, each as
# C++17 and C++20 with -Wall -Wextra -Werror, the tests also with -fno-exceptions.
examples=$here/../../examples/cpp
for std in 17 20; do
    cmake -S "$here" -B "$out/hpp$std" -DCMAKE_PREFIX_PATH="$STAGE/usr" -DCMAKE_CXX_STANDARD=$std \
        -DCMAKE_CXX_COMPILER="${CXX:-c++}" >/dev/null
    cmake --build "$out/hpp$std" >/dev/null
    LD_LIBRARY_PATH="$STAGE/usr/lib" "$out/hpp$std/hpp_test"
    LD_LIBRARY_PATH="$STAGE/usr/lib" "$out/hpp$std/hpp_test_noexc"
    cmake -S "$examples" -B "$out/engine$std" -DCMAKE_PREFIX_PATH="$STAGE/usr" -DCMAKE_CXX_STANDARD=$std \
        -DCMAKE_CXX_COMPILER="${CXX:-c++}" >/dev/null
    cmake --build "$out/engine$std" >/dev/null
    LD_LIBRARY_PATH="$STAGE/usr/lib" "$out/engine$std/engine" >"$out/engine$std.txt"
    grep -q "20000 ticks" "$out/engine$std.txt" || { echo "cpp: engine (C++$std) did not read every tick" >&2; exit 1; }
done
cmake -S "$examples" -B "$out/engine-noexc" -DCMAKE_PREFIX_PATH="$STAGE/usr" -DCMAKE_CXX_FLAGS=-fno-exceptions \
    -DCMAKE_CXX_COMPILER="${CXX:-c++}" >/dev/null
cmake --build "$out/engine-noexc" >/dev/null
echo "cpp: 3 passed, 0 failed; hpp tests and the engine as C++17 and C++20 (and -fno-exceptions) passed"
