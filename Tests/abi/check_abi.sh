#!/usr/bin/env bash
# The ABI gates:
#   - the function names in the header, the version script and `nm -D --defined-only` are one set;
#   - SONAME is libalphacore.so.0; NEEDED has no libswift* and no liburing;
#   - the header compiles alone as C11 and C++17 with strict warnings;
#   - loading the library installs no signal handlers; the stripped .so is under 8 MB and
#     carries no regex engine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lib=$STAGE/usr/lib/libalphacore.so.0
hdr=$STAGE/usr/include/alphacore.h
out=$root/build/Tests/abi
mkdir -p "$out"
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "ABI: $*" >&2; }

# Exported functions declared in the header: `ALPHACORE_API <type> alphacore_name(`.
tr '\n' ' ' < "$hdr" | grep -oE 'ALPHACORE_API[^;{]*\balphacore_[a-z0-9_]+[[:space:]]*\(' \
    | grep -oE 'alphacore_[a-z0-9_]+[[:space:]]*\($' | tr -d ' (' | sort -u > "$out/header.txt"
# Names in the version script (strip comments first).
sed -e 's#/\*.*\*/##g' "$root/alphacore.map" | grep -oE '^[[:space:]]*alphacore_[a-z0-9_]+;' \
    | tr -d ' ;' | sort -u > "$out/map.txt"
# Names the library really exports.
nm -D --defined-only "$lib" | awk '$2 ~ /^[TW]$/ {print $3}' | sed 's/@.*//' | sort -u > "$out/nm.txt"

[ -s "$out/header.txt" ] && ok || bad "no exported functions found in the header"
# Every export is in the errno test's table (Tests/c/test_errno.c: issue 18 finding 3), so that a
# new export cannot miss the check that the library leaves errno alone.
sed -n '/BEGIN EXPORTS/,/END EXPORTS/p' "$root/Tests/c/test_errno.c" | grep -oE '"alphacore_[a-z0-9_]+"' \
    | tr -d '"' | sort -u > "$out/errno_table.txt"
diff -u "$out/header.txt" "$out/errno_table.txt" >/dev/null && ok || {
    bad "Tests/c/test_errno.c's exports[] and the header differ (add the new export, with KEEP calls):"
    diff -u "$out/header.txt" "$out/errno_table.txt" >&2 || true; }
diff -u "$out/header.txt" "$out/map.txt" >/dev/null && ok || { bad "header and map differ:"; diff -u "$out/header.txt" "$out/map.txt" >&2 || true; }
diff -u "$out/header.txt" "$out/nm.txt" >/dev/null && ok || { bad "header and nm -D differ:"; diff -u "$out/header.txt" "$out/nm.txt" >&2 || true; }
# Every exported symbol carries a version node.
if nm -D --defined-only "$lib" | awk '$2 ~ /^[TW]$/' | grep -v '@@ALPHACORE_' >/dev/null; then
    bad "unversioned exports"; else ok; fi

soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libalphacore.so.0" ] && ok || bad "SONAME is '$soname'"
needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
if echo "$needed" | grep -qE 'libswift|liburing|libFoundation|libdispatch'; then
    bad "NEEDED lists: $(echo $needed)"; else ok; fi
# The real file behind the chain.
[ "$(readlink "$STAGE/usr/lib/libalphacore.so.0")" = "libalphacore.so.0.1.0" ] && ok || bad "SONAME symlink"
[ "$(readlink "$STAGE/usr/lib/libalphacore.so")" = "libalphacore.so.0" ] && ok || bad "dev symlink"

strip -o "$out/stripped.so" "$lib"
size=$(stat -c %s "$out/stripped.so")
[ "$size" -lt 8000000 ] && ok || bad "stripped .so is $size bytes (limit 8,000,000)"
# _StringProcessing/_RegexParser (String.contains(String), firstRange, Regex) add about 1 MB:
# use the Core/Text.swift helpers (containsText, rangeOfText) instead.
if nm "$lib" 2>/dev/null | grep -qE '17_StringProcessing|12_RegexParser'; then
    bad "the .so links Swift's _StringProcessing/_RegexParser (use containsText/rangeOfText)"; else ok; fi
echo "stripped size: $size bytes"

printf '#include <alphacore.h>\nint main(void){return (int)alphacore_version_number() - ALPHACORE_VERSION_NUMBER;}\n' > "$out/h.c"
${CC:-cc} -std=c11 -Wall -Wextra -Wpedantic -Werror -I"$STAGE/usr/include" -c "$out/h.c" -o "$out/h.o" && ok || bad "header does not compile as C11"
cp "$out/h.c" "$out/h.cpp"
${CXX:-c++} -std=c++17 -Wall -Wextra -Wpedantic -Werror -I"$STAGE/usr/include" -c "$out/h.cpp" -o "$out/hpp.o" && ok || bad "header does not compile as C++17"

# Signal handlers: load the library, call into it, compare every handler with before.
${CC:-cc} -std=c11 -O2 -D_GNU_SOURCE -I"$STAGE/usr/include" "$here/signals.c" -o "$out/signals" -ldl
"$out/signals" "$lib" && ok || bad "loading the library changed signal dispositions"
# The same with the environment that configures a Swift runtime to install crash handlers and
# to print: the runtime inside the library must not read the host's environment.
backtracer=$(ls /opt/swift/usr/libexec/swift/linux/swift-backtrace-static 2>/dev/null || echo /bin/true)
said=$(SWIFT_BACKTRACE="enable=yes,swift-backtrace=$backtracer" SWIFT_DEBUG_UNKNOWN_NAME=1 \
       SWIFT_DETERMINISTIC_HASHING=1 "$out/signals" "$lib" 2>&1) \
    && ok || bad "with SWIFT_BACKTRACE set, loading the library changed signal dispositions: $said"
[ -z "$said" ] && ok || bad "with SWIFT_* variables set, loading the library printed: $said"
# (The library's own variables, ALPHACORE_SYSROOT and ALPHACORE_CPUS, are read with libc's
# getenv from the real environment: Tests/c/test_cpu.c and test_abi_hostile.c set them.)

echo "abi gates: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
