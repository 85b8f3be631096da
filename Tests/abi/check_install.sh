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

# The command, its man pages and completions (install block, issue 16): DESTDIR with spaces and
# a PREFIX that does not exist yet; then a plain PREFIX install that runs and shows its pages.
spaced="$out/dest with spaces"
make -C "$root" --no-print-directory install PREFIX="/opt/new prefix" DESTDIR="$spaced" >/dev/null
p="$spaced/opt/new prefix"
for f in bin/alphacore include/alphacore.hpp lib/libalphacore.so.0.1.0 share/man/man1/alphacore.1 \
         share/man/man1/alphacore-doctor.1 share/bash-completion/completions/alphacore \
         share/zsh/site-functions/_alphacore share/fish/vendor_completions.d/alphacore.fish; do
    [ -f "$p/$f" ] && ok || bad "DESTDIR with spaces: missing $f"
done
grep -q '^prefix=/opt/new prefix$' "$p/lib/pkgconfig/alphacore.pc" && ok || bad "pc prefix with a space"
file "$p/bin/alphacore" | grep -q ', stripped' && ok || bad "bin/alphacore is not stripped"
# One man page per subcommand the parser knows (so a new subcommand without a page fails here).
for sub in $("$p/bin/alphacore" --help | awk '/^SUBCOMMANDS:/{s=1;next} s&&/^  [a-z]/{print $1}'); do
    [ "$sub" = help ] && continue
    [ -f "$p/share/man/man1/alphacore-$sub.1" ] && ok || bad "no man page for subcommand $sub"
done
bash -n "$p/share/bash-completion/completions/alphacore" && ok || bad "bash completion does not parse"
make -C "$root" --no-print-directory uninstall PREFIX="/opt/new prefix" DESTDIR="$spaced" >/dev/null
left=$(find "$spaced" -type f -o -type l | wc -l)
[ "$left" -eq 0 ] && ok || { bad "uninstall (spaces) left $left files:"; find "$spaced" -type f -o -type l >&2; }

scratch="$out/scratch prefix"
make -C "$root" --no-print-directory install PREFIX="$scratch" >/dev/null
"$scratch/bin/alphacore" doctor >"$out/doctor.txt" 2>&1; rc=$?
{ [ "$rc" -le 1 ] && grep -q ' checks: ' "$out/doctor.txt"; } && ok || bad "installed alphacore doctor: rc $rc"
if command -v man >/dev/null; then
    MANPAGER=cat MANWIDTH=80 man -M "$scratch/share/man" alphacore-doctor 2>/dev/null | grep -q 'alphacore-doctor' \
        && ok || bad "man -M <prefix>/share/man alphacore-doctor shows no page"
else
    echo "install: SKIP man -M (no man command here); the page is checked with groff below"
fi
groff -man -Tutf8 -ww -z "$scratch/share/man/man1/"*.1 2>"$out/groff.txt" && [ ! -s "$out/groff.txt" ] \
    && ok || { bad "man1 pages have groff warnings:"; cat "$out/groff.txt" >&2; }
make -C "$root" --no-print-directory uninstall PREFIX="$scratch" >/dev/null
left=$(find "$scratch" -type f -o -type l | wc -l)
[ "$left" -eq 0 ] && ok || { bad "uninstall left $left files:"; find "$scratch" -type f -o -type l >&2; }

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
