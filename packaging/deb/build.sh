#!/usr/bin/env bash
# Builds the three Debian packages from a `make install PREFIX=/usr` tree (install block, issue 16):
#   libalphacore0     the runtime library, with shlibs and symbols files and an ldconfig trigger
#   libalphacore-dev  headers (C and C++), the .so link, pkg-config and CMake files, man3
#   alphacore-tools   the alphacore command, man1 pages, bash/zsh/fish completions
# Dependencies come from dpkg-shlibdeps on the ELF files, not from a hand-written list.
#   packaging/deb/build.sh <version> <out dir>     (run by `make deb`, after `make install`)
set -euo pipefail
version=$1
out=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
arch=$(dpkg --print-architecture)
work=$out/work
tree=$work/install
rm -rf "$work"
mkdir -p "$work" "$out"
make -C "$root" --no-print-directory install PREFIX=/usr DESTDIR="$tree" >/dev/null

maint="libalphacore maintainers <alphacore@example.org>"
date_r=$(date -R -d "@${SOURCE_DATE_EPOCH:-1767225600}")
soname=libalphacore.so.0
libfile=libalphacore.so.$version

# dpkg-shlibdeps reads debian/control of a source package: a minimal one, in the work folder.
mkdir -p "$work/debian"
cat >"$work/debian/control" <<CTRL
Source: libalphacore
Maintainer: $maint

Package: libalphacore0
Architecture: any
CTRL

# $1 package dir, $2 package name: copyright, changelog (gzip -9n), and documentation folder.
docs() {
    local d=$1/usr/share/doc/$2
    mkdir -p "$d"
    cat >"$d/copyright" <<COPY
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: libalphacore
Source: https://example.org/libalphacore

Files: *
Copyright: 2026 libalphacore authors
License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy of this
 software and associated documentation files (the "Software"), to deal in the Software
 without restriction, including without limitation the rights to use, copy, modify, merge,
 publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
 to whom the Software is furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in all copies or
 substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED.
COPY
    printf '%s (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- %s  %s\n' \
        "$2" "$version" "$version" "$maint" "$date_r" | gzip -9n >"$d/changelog.gz"   # a native package (no Debian revision)
}

# $1 package dir, $2 name, $3 section, $4 depends, $5 short description, $6 long description
control() {
    local size
    size=$(du -k -s --exclude=DEBIAN "$1" | cut -f1)
    mkdir -p "$1/DEBIAN"
    {
        echo "Package: $2"
        echo "Version: $version"
        echo "Architecture: $arch"
        echo "Maintainer: $maint"
        echo "Installed-Size: $size"
        [ -n "$4" ] && echo "Depends: $4"
        echo "Section: $3"
        echo "Priority: optional"
        echo "Homepage: https://example.org/libalphacore"
        echo "Description: $5"
        echo "$6" | fold -s -w 78 | sed 's/^/ /; s/ *$//'
    } >"$1/DEBIAN/control"
    (cd "$1" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum >DEBIAN/md5sums)
}

# $1 ELF files: the Depends dpkg-shlibdeps computes for them.
shlibdeps() {
    (cd "$work" && dpkg-shlibdeps -O "$@" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
}

# ---- libalphacore0 -------------------------------------------------------------------------
lib=$work/libalphacore0
mkdir -p "$lib/usr/lib"
cp -a "$tree/usr/lib/$libfile" "$tree/usr/lib/$soname" "$lib/usr/lib/"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$lib/usr/lib/$libfile"
chmod 0644 "$lib/usr/lib/$libfile"
docs "$lib" libalphacore0
lib_deps=$(shlibdeps "$lib/usr/lib/$libfile")
control "$lib" libalphacore0 libs "$lib_deps" "latency toolkit for trading systems (runtime library)" \
    "libalphacore gives latency-critical code CPU placement, huge-page memory, batched socket reads through io_uring and HDR latency histograms behind a C ABI. This package holds the shared library."
echo "libalphacore 0 libalphacore0 (>= $version)" >"$lib/DEBIAN/shlibs"
{
    echo "$soname libalphacore0 #MINVER#"
    nm -D --defined-only "$lib/usr/lib/$libfile" | awk '$2 ~ /^[TDBR]$/ {print $3}' | grep '@@\?ALPHACORE_' | sort -u |
        sed 's/@@*/@/' | awk -v v="$version" '{print " " $0 " " v}'
    nm -D --defined-only "$lib/usr/lib/$libfile" | awk '$3 ~ /^ALPHACORE_[0-9.]*$/ {print " " $3 "@" $3 " '"$version"'"}' | sort -u
} >"$lib/DEBIAN/symbols"
echo "activate-noawait ldconfig" >"$lib/DEBIAN/triggers"
chmod 0644 "$lib/DEBIAN/shlibs" "$lib/DEBIAN/symbols" "$lib/DEBIAN/triggers"

# ---- libalphacore-dev ----------------------------------------------------------------------
dev=$work/libalphacore-dev
mkdir -p "$dev/usr/lib" "$dev/usr/share/man"
cp -a "$tree/usr/include" "$dev/usr/"
cp -a "$tree/usr/lib/libalphacore.so" "$tree/usr/lib/pkgconfig" "$tree/usr/lib/cmake" "$dev/usr/lib/"
cp -a "$tree/usr/share/man/man3" "$dev/usr/share/man/"
gzip -9n "$dev/usr/share/man/man3/"*.3
docs "$dev" libalphacore-dev
control "$dev" libalphacore-dev libdevel "libalphacore0 (= $version)" \
    "latency toolkit for trading systems (development files)" \
    "Headers for C (alphacore.h) and C++17 (alphacore.hpp), the pkg-config file, the CMake package (find_package(alphacore)) and the man pages of every function."

# ---- alphacore-tools -----------------------------------------------------------------------
tools=$work/alphacore-tools
mkdir -p "$tools/usr/bin" "$tools/usr/share/man"
cp -a "$tree/usr/bin/alphacore" "$tools/usr/bin/"
cp -a "$tree/usr/share/man/man1" "$tools/usr/share/man/"
gzip -9n "$tools/usr/share/man/man1/"*.1
mkdir -p "$tools/usr/share/bash-completion/completions" "$tools/usr/share/zsh/vendor-completions" \
         "$tools/usr/share/fish/vendor_completions.d"
sed "1{/^#!/d}" "$tree/usr/share/bash-completion/completions/alphacore" >"$tools/usr/share/bash-completion/completions/alphacore"   # sourced, not run
cp "$tree/usr/share/zsh/site-functions/_alphacore" "$tools/usr/share/zsh/vendor-completions/"
cp "$tree/usr/share/fish/vendor_completions.d/alphacore.fish" "$tools/usr/share/fish/vendor_completions.d/"
docs "$tools" alphacore-tools
control "$tools" alphacore-tools utils "$(shlibdeps "$tools/usr/bin/alphacore")" \
    "latency toolkit for trading systems (command-line tools)" \
    "The alphacore command: a read-only host readiness audit for latency-critical engines (alphacore doctor), the machine's topology, histogram tools and a loopback load test."

for p in "$lib" "$dev" "$tools"; do
    find "$p" -type d -exec chmod 0755 {} +
    dpkg-deb --root-owner-group -Zxz --build "$p" "$out/" >/dev/null
done
ls "$out"/*_"$version"_"$arch".deb
