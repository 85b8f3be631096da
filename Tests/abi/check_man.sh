#!/usr/bin/env bash
# Lints every man page with groff, and checks every exported function has a page (its own or
# an alias .so page naming it).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
fail=0
pass=0
cd "$root/man"
for page in man3/*.3; do
    warnings=$(groff -man -ww -z "$page" 2>&1 || true)
    if [ -n "$warnings" ]; then echo "$page: $warnings" >&2; fail=$((fail + 1)); else pass=$((pass + 1)); fi
done
tr '\n' ' ' < "$root/include/alphacore.h" | grep -oE 'ALPHACORE_API[^;{]*\balphacore_[a-z0-9_]+[[:space:]]*\(' \
    | grep -oE 'alphacore_[a-z0-9_]+[[:space:]]*\($' | tr -d ' (' | sort -u | while read -r fn; do
    if [ ! -f "$root/man/man3/$fn.3" ]; then echo "no man page for $fn" >&2; echo x; fi
done > /tmp/alphacore-missing-man.$$ 
missing=$(wc -l < /tmp/alphacore-missing-man.$$); rm -f /tmp/alphacore-missing-man.$$
[ "$missing" -eq 0 ] && pass=$((pass + 1)) || fail=$((fail + 1))
echo "man pages: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
