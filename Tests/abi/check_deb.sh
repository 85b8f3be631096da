#!/usr/bin/env bash
# Debian package gates (install block, issue 16): `make deb` builds libalphacore0,
# libalphacore-dev and alphacore-tools; their Depends were computed (libc6 and libnuma1 appear
# with versions); they unpack into a scratch root where the C consumer (pkg-config) and the C++
# consumers (CMake find_package, alphacore.hpp) build and run against them, and the packaged
# command runs; lintian reports no errors. Skips (with the reason) where dpkg-deb is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/build/Tests/deb
rm -rf "$out"
mkdir -p "$out"
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "deb: $*" >&2; }
for tool in dpkg-deb dpkg-shlibdeps; do
    command -v "$tool" >/dev/null || { echo "deb gates: SKIP ($tool is not installed; .ci/run installs dpkg-dev)"; exit 0; }
done
version=$(sed -n 's/^VERSION_\(MAJOR\|MINOR\|PATCH\) *:= *//p' "$root/Makefile" | paste -sd.)
arch=$(dpkg --print-architecture)
rm -rf "$root/dist/deb"
make -C "$root" --no-print-directory deb >/dev/null
debs=()
for p in libalphacore0 libalphacore-dev alphacore-tools; do
    f=$root/dist/deb/${p}_${version}_${arch}.deb
    [ -f "$f" ] && { ok; debs+=("$f"); } || bad "no $f"
done
dep=$(dpkg-deb -f "$root/dist/deb/libalphacore0_${version}_${arch}.deb" Depends)
echo "$dep" | grep -q 'libc6 (>= ' && echo "$dep" | grep -q 'libnuma1' && ok || bad "libalphacore0 Depends not computed: '$dep'"
dpkg-deb -f "$root/dist/deb/libalphacore-dev_${version}_${arch}.deb" Depends | grep -q "libalphacore0 (= $version)" \
    && ok || bad "libalphacore-dev does not depend on its runtime"
dpkg-deb -I "$root/dist/deb/libalphacore0_${version}_${arch}.deb" symbols | grep -q ' alphacore_hist_record@ALPHACORE_0.1 ' \
    && ok || bad "no symbols file"

sr=$out/root
for f in "${debs[@]}"; do dpkg-deb -x "$f" "$sr"; done
[ "$(readlink "$sr/usr/lib/libalphacore.so")" = libalphacore.so.0 ] && ok || bad "dev link"
export LD_LIBRARY_PATH=$sr/usr/lib
cflags=$(PKG_CONFIG_SYSROOT_DIR=$sr PKG_CONFIG_PATH=$sr/usr/lib/pkgconfig pkg-config --cflags alphacore)
libs=$(PKG_CONFIG_SYSROOT_DIR=$sr PKG_CONFIG_PATH=$sr/usr/lib/pkgconfig pkg-config --libs alphacore)
${CC:-cc} -std=c11 -Wall -Wextra -Werror -O2 -D_GNU_SOURCE $cflags "$root/examples/c/pin_collector.c" -o "$out/c_consumer" \
    $libs -lpthread && ok || bad "the C consumer does not build against the packages"
"$out/c_consumer" >"$out/c_consumer.txt" 2>&1 && ok || bad "the C consumer failed: $(tail -3 "$out/c_consumer.txt")"
cmake -S "$root/Tests/cpp" -B "$out/cpp" -DCMAKE_PREFIX_PATH="$sr/usr" -DCMAKE_CXX_COMPILER="${CXX:-c++}" >/dev/null \
    && cmake --build "$out/cpp" >/dev/null && ok || bad "the C++ consumers do not build against the packages"
"$out/cpp/consumer" >/dev/null && "$out/cpp/hpp_test" >/dev/null && "$out/cpp/hpp_test_noexc" >/dev/null \
    && ok || bad "the C++ consumers failed against the packages"
"$sr/usr/bin/alphacore" topology >/dev/null && ok || bad "the packaged command does not run"
man -l "$sr/usr/share/man/man1/alphacore-doctor.1.gz" 2>/dev/null | grep -q doctor && ok || bad "packaged man1 page"

if command -v lintian >/dev/null; then
    lintian --tag-display-limit 0 "${debs[@]}" >"$out/lintian.txt" 2>&1 || true
    if grep -q '^E: ' "$out/lintian.txt"; then bad "lintian errors:"; grep '^E: ' "$out/lintian.txt" >&2; else ok; fi
    echo "deb: lintian: $(grep -c '^W: ' "$out/lintian.txt" || true) warnings, 0 errors (build/Tests/deb/lintian.txt)"
else
    echo "deb: SKIP lintian (not installed; .ci/run installs it)"
fi
echo "deb gates: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
