/* Clock benchmark: alphacore_now_ns() against a direct clock_gettime(CLOCK_MONOTONIC), and
 * alphacore_cycles() against an inline rdtsc, in one run, through the installed .so.
 * Prints each figure and the ratio (ours / peer). Each figure is the best of several rounds,
 * alternating ours and the peer, so that noise on this shared machine hits both alike. */
#include <alphacore.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define N 20000000u
#define ROUNDS 7

static volatile uint64_t sink;

static uint64_t now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t direct_gettime(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef uint64_t (*clock_fn)(void);

static double ns_per_call(clock_fn f) {
    uint64_t acc = 0, t0 = now();
    for (unsigned i = 0; i < N; i++) acc += f();
    uint64_t t1 = now();
    sink = acc;
    return (double)(t1 - t0) / N;
}

static double ns_per_inline_rdtsc(void) {
    uint64_t acc = 0, t0 = now();
    for (unsigned i = 0; i < N; i++) acc += alphacore_rdtsc();
    uint64_t t1 = now();
    sink = acc;
    return (double)(t1 - t0) / N;
}

static void report(const char *ours_name, double ours, const char *peer_name, double peer) {
    printf("%-22s %7.2f ns   %-28s %7.2f ns   ratio %.3f\n", ours_name, ours, peer_name, peer, ours / peer);
}

int main(void) {
    double best[4] = {1e9, 1e9, 1e9, 1e9};
    for (int r = 0; r < ROUNDS; r++) {
        double v[4] = {ns_per_call(alphacore_now_ns), ns_per_call(direct_gettime),
                       ns_per_call(alphacore_cycles), ns_per_inline_rdtsc()};
        for (int i = 0; i < 4; i++) if (v[i] < best[i]) best[i] = v[i];
    }
    printf("clock benchmark (%u calls x %d rounds, best round)\n", N, ROUNDS);
    report("alphacore_now_ns", best[0], "clock_gettime(MONOTONIC)", best[1]);
    report("alphacore_cycles", best[2], "inline rdtsc", best[3]);
    return 0;
}
