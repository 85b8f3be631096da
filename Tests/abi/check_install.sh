#!/usr/bin/env bash
# Packaging gates: `make install PREFIX DESTDIR` lays out the SONAME chain, header, pkg-config
# and CMake files and man pages; `make uninstall` removes exactly those; `pip install ./python`
# gives an `import alphacore` that works from anywhere with the library copied inside.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/build/Tests/install
rm -rf "$out"
mkdir -p "$out"
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "install: $*" >&2; }

dest=$out/dest
make -C "$root" --no-print-directory install PREFIX=/opt/ac DESTDIR="$dest" >/dev/null
for f in lib/libalphacore.so.0.1.0 include/alphacore.h lib/pkgconfig/alphacore.pc \
         lib/cmake/alphacore/alphacoreConfig.cmake lib/cmake/alphacore/alphacoreConfigVersion.cmake \
         share/man/man3/alphacore_strerror.3; do
    [ -f "$dest/opt/ac/$f" ] && ok || bad "missing $f"
done
[ "$(readlink "$dest/opt/ac/lib/libalphacore.so.0")" = libalphacore.so.0.1.0 ] && ok || bad "SONAME link"
[ "$(readlink "$dest/opt/ac/lib/libalphacore.so")" = libalphacore.so.0 ] && ok || bad "dev link"
grep -q '^prefix=/opt/ac$' "$dest/opt/ac/lib/pkgconfig/alphacore.pc" && ok || bad "pc prefix"
# pkg-config resolves through the DESTDIR as a sysroot.
flags=$(echo $(PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_PATH=$dest/opt/ac/lib/pkgconfig pkg-config --cflags --libs alphacore))
[ "$flags" = "-I$dest/opt/ac/include -L$dest/opt/ac/lib -lalphacore" ] && ok || bad "pkg-config gave '$flags'"
[ "$(PKG_CONFIG_PATH=$dest/opt/ac/lib/pkgconfig pkg-config --modversion alphacore)" = 0.1.0 ] && ok || bad "modversion"

make -C "$root" --no-print-directory uninstall PREFIX=/opt/ac DESTDIR="$dest" >/dev/null
left=$(find "$dest" -type f -o -type l | wc -l)
[ "$left" -eq 0 ] && ok || { bad "uninstall left $left files:"; find "$dest" -type f -o -type l >&2; }

# pip install ./python into a private target, with the library copied into the package.
make -C "$root" --no-print-directory python >/dev/null
python3 -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation \
    --target "$out/site" "$root/python" >/dev/null 2>&1 || python3 -m pip install -q \
    --disable-pip-version-check --no-deps --target "$out/site" "$root/python" >/dev/null
[ -f "$out/site/alphacore/libalphacore.so.0" ] && ok || bad "the wheel does not carry the library"
got=$(cd / && env -u ALPHACORE_LIBRARY -u LD_LIBRARY_PATH PYTHONPATH="$out/site" \
      python3 -c 'import alphacore; print(alphacore.version(), alphacore.library_path)')
[ "$got" = "0.1.0 $out/site/alphacore/libalphacore.so.0" ] && ok || bad "import from the installed package gave '$got'"

echo "install gates: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
