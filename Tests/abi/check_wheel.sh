#!/usr/bin/env bash
# Wheel gates (install block, issue 16):
#  - `make wheel` builds dist/alphacore-<version>-py3-none-<platform>.whl with the library inside;
#  - it installs into a fresh virtual environment (no index, no compiler: `cc` is not on the PATH
#    of that run) and examples/python/quickstart.py runs from outside the repository with it;
#  - `pip install ./python` without the library and without a Swift toolchain on PATH stops with
#    one clear line, not a traceback.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/build/Tests/wheel
rm -rf "$out"
mkdir -p "$out"
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "wheel: $*" >&2; }
py=$(python3 -c 'import sys; print(sys.executable)')
version=$(sed -n 's/^VERSION_\(MAJOR\|MINOR\|PATCH\) *:= *//p' "$root/Makefile" | paste -sd.)

make -C "$root" --no-print-directory wheel >/dev/null
whl=$(ls "$root"/dist/alphacore-"$version"-py3-none-linux_*.whl)
[ -f "$whl" ] && ok || bad "no wheel for $version"
listing=$("$py" -m zipfile -l "$whl")
grep -q 'alphacore/libalphacore.so.0 ' <<<"$listing" && ok || bad "the wheel does not carry libalphacore.so.0"

# A fresh venv; the run that installs and imports sees only the venv's bin on PATH (no cc).
"$py" -m venv "$out/venv"
tools=$out/venv/bin
if PATH=$tools command -v cc >/dev/null 2>&1; then bad "cc is on the venv run's PATH"; else ok; fi
(cd "$out" && env -i HOME="$out" PATH="$tools" "$tools/python" -m pip install -q --disable-pip-version-check \
    --no-index --no-deps "$whl") && ok || bad "pip install of the wheel failed"
cp "$root/examples/python/quickstart.py" "$out/quickstart.py"
got=$(cd "$out" && env -i HOME="$out" PATH="$tools" "$tools/python" quickstart.py 2>&1) && ok || bad "quickstart failed: $got"
echo "$got" | grep -q "^libalphacore $version from $out/venv/lib/python3[.0-9]*/site-packages/alphacore/libalphacore.so.0$" \
    && ok || bad "quickstart did not load the wheel's library: $got"
echo "$got" | grep -q '^sum(range(100000)) took [0-9]* ns$' && ok || bad "quickstart output: $got"

# pip install ./python from a fresh clone's layout, no library built, no swift on PATH.
clone=$out/clone
mkdir -p "$clone"
cp "$root/Makefile" "$root/Package.swift" "$clone/"
cp -r "$root/python" "$clone/python"
rm -rf "$clone/python/alphacore/libalphacore.so"* "$clone/python/build" "$clone/python/"*.egg-info
set +e
msg=$(cd "$out" && env -i HOME="$out" PATH=/usr/bin:/bin "$py" -m pip install --disable-pip-version-check \
      --no-deps --no-build-isolation --target "$out/t" "$clone/python" 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] && ok || bad "pip install without swift succeeded?"
echo "$msg" | grep -q "alphacore: libalphacore.so.0 is not built and no Swift toolchain (swift) is on PATH" \
    && ok || bad "no clear message without swift: $msg"
echo "$msg" | grep -q "Traceback" && bad "a traceback without swift: $msg" || ok

echo "wheel gates: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
