// bench_hpp: the C++ layer's record (alphacore::Histogram::record) against the header-inline C
// record compiled as C (record_c.c), same values, same histogram configuration, alternating in
// one run, best of ROUNDS each (thread CPU time). The goal: C++ within 1.02x of C.
// Run with `make bench BENCH=hist` (after bench_hist) or `make bench BENCH=hpp`.
#include <alphacore.hpp>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <vector>

extern "C" int bench_hpp_record_c(alphacore_hist *h, const int64_t *vals, int n);

namespace {

constexpr int N = 10'000'000;
constexpr int ROUNDS = 9;
constexpr int64_t HIGHEST = 3'600'000'000'000LL;
volatile int sink;

double now_s() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

__attribute__((noinline)) int record_cpp(alphacore::Histogram &h, const int64_t *vals, int n) {
    int bad = 0;
    for (int i = 0; i < n; i++) bad |= h.record(vals[i]);
    return bad;
}

}  // namespace

int main() {
    std::vector<int64_t> vals(N);
    uint64_t x = 0x9e3779b97f4a7c15ull;   // log-uniform 20 ns .. 10 ms, as bench_hist
    for (auto &v : vals) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double u = static_cast<double>(x >> 11) / 9007199254740992.0;
        v = static_cast<int64_t>(std::exp(std::log(20.0) + u * (std::log(1e7) - std::log(20.0))));
    }
    alphacore::error err;
    alphacore::Histogram cpp(1, HIGHEST, 3, err), c(1, HIGHEST, 3, err);
    if (err) {
        std::fprintf(stderr, "bench_hpp: %s\n", err.message().c_str());
        return 1;
    }
    double best_cpp = 1e9, best_c = 1e9;
    for (int r = 0; r < ROUNDS; r++) {
        c.clear(err);
        double t0 = now_s();
        sink = bench_hpp_record_c(c.get(), vals.data(), N);
        double t1 = now_s();
        cpp.clear(err);
        double t2 = now_s();
        sink = record_cpp(cpp, vals.data(), N);
        double t3 = now_s();
        best_c = std::min(best_c, (t1 - t0) * 1e9 / N);
        best_cpp = std::min(best_cpp, (t3 - t2) * 1e9 / N);
    }
    if (cpp.total_count() != N || c.total_count() != N || cpp.max() != c.max()) {
        std::fprintf(stderr, "bench_hpp: the two histograms differ\n");
        return 1;
    }
    std::printf("C++ layer benchmark: %d values log-uniform 20 ns .. 10 ms, best of %d rounds, alternating\n", N, ROUNDS);
    std::printf("%-34s %10.3f ns   %-26s %10.3f ns   ratio %.3f\n", "alphacore::Histogram::record", best_cpp,
                "record_inline compiled as C", best_c, best_cpp / best_c);
    return 0;
}
