/* The floor's record compiled as a C function in its own shared library: what any record
 * costs when it is called across a library boundary, whatever language the library is in.
 * bench_hist prints it beside our exported alphacore_hist_record, so that the price of the call
 * itself is measured rather than assumed. Built by benchmarks/run.sh into build/bench. */
#include <stdint.h>
#include <stdlib.h>

typedef struct {
    int64_t highest, mask, total, min, max;
    int32_t unit, half_mag, lz_base, pad;
    int64_t counts[];
} twin_hist;

twin_hist *twin_create(void) {
    twin_hist *h = calloc(1, sizeof *h + 33792 * sizeof(int64_t));
    if (!h) return NULL;
    h->highest = 3600000000000LL;
    h->half_mag = 10;                       /* 2048 sub-buckets, unit 0 */
    h->mask = 2047;
    h->lz_base = 64 - 0 - (10 + 1);
    h->min = INT64_MAX;
    return h;
}

int twin_record(twin_hist *h, int64_t v) {
    if (h == NULL) return -22;
    if ((uint64_t)v > (uint64_t)h->highest) return -34;
    int32_t bucket = h->lz_base - __builtin_clzll((uint64_t)(v | h->mask));
    int64_t sub = v >> (bucket + h->unit);
    h->counts[((int64_t)bucket << h->half_mag) + sub]++;
    h->total++;
    if (v != 0 && v < h->min) h->min = v;
    if (v > h->max) h->max = v;
    return 0;
}
