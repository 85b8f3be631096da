#!/usr/bin/env bash
# Builds and runs the benchmark programs against the staged install (see the Makefile's bench
# target). BENCH=name runs one (bench_name.c).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../build/bench
mkdir -p "$out"
# Small C peers (benchmarks/peers/*.c) become shared libraries the benchmarks link with.
for peer in "$here"/peers/*.c; do
    [ -e "$peer" ] || continue
    ${CC:-cc} -std=gnu11 -O2 -march=native -shared -fPIC "$peer" -o "$out/lib$(basename "$peer" .c).so"
done
# channel block (issue 14): the boost peer (spsc_queue in boost::interprocess shared memory) is
# C++ behind a C API (peers/boost_spsc.cpp -> libboost_spsc.so); needs libboost-dev.
if [ -z "${BENCH:-}" ] || [ "$BENCH" = channel ]; then
    ${CXX:-c++} -std=c++17 -O2 -march=native -shared -fPIC "$here/peers/boost_spsc.cpp" \
        -o "$out/libboost_spsc.so" -lrt -lpthread
fi
# HdrHistogram_c, both builds, for bench_hist (dlopen'ed; never linked into the library).
if [ -z "${BENCH:-}" ] || [ "${BENCH:-}" = hist ]; then
    export HDR_C_SHIPPED=${HDR_C_SHIPPED:-$(bash "$here/peers/hdr_c.sh" "$out/../peers" as-shipped)}
    export HDR_C_NSI=${HDR_C_NSI:-$(bash "$here/peers/hdr_c.sh" "$out/../peers" nsi)}
fi
for src in "$here"/bench_*.c; do
    name=$(basename "$src" .c)
    if [ -n "${BENCH:-}" ] && [ "$name" != "bench_$BENCH" ]; then continue; fi
    extra=""
    [ -f "$here/$name.flags" ] && extra=$(cat "$here/$name.flags")
    ${CC:-cc} -std=gnu11 -O2 -march=native $(pkg-config --cflags alphacore) "$src" -o "$out/$name" \
        $(pkg-config --libs alphacore) -lpthread -L"$out" -Wl,-rpath,"$out" $extra
    echo "== $name"
    "$out/$name"
done
# install block (issue 16): the C++ layer's record against the header-inline C record
# (benchmarks/hpp: C++ with its C half compiled as C). Runs with BENCH=hist, BENCH=hpp or all.
if [ -z "${BENCH:-}" ] || [ "$BENCH" = hist ] || [ "$BENCH" = hpp ]; then
    ${CC:-cc} -std=gnu11 -O2 -march=native $(pkg-config --cflags alphacore) -c "$here/hpp/record_c.c" -o "$out/record_c.o"
    ${CXX:-c++} -std=c++17 -O2 -march=native -Wall -Wextra -Werror $(pkg-config --cflags alphacore) \
        "$here/hpp/bench_hpp.cpp" "$out/record_c.o" -o "$out/bench_hpp" $(pkg-config --libs alphacore)
    echo "== bench_hpp"
    "$out/bench_hpp"
fi
# Metrics (issue 11): our registry beside prometheus-cpp (C++) and prometheus_client (Python).
if [ -z "${BENCH:-}" ] || [ "$BENCH" = metrics ]; then
    ${CXX:-c++} -std=c++17 -O2 -march=native -Wall -Wextra -Werror $(pkg-config --cflags alphacore) \
        "$here/metrics/bench_metrics.cpp" -o "$out/bench_metrics" $(pkg-config --libs alphacore) -lprometheus-cpp-core -lpthread
    echo "== bench_metrics"
    "$out/bench_metrics"
    echo "== bench_metrics.py"
    PYTHONPATH="$here/../python" ALPHACORE_LIBRARY="$STAGE/usr/lib/libalphacore.so.0" \
        ${PYTHON:-python3} "$here/metrics/bench_metrics.py"
fi
