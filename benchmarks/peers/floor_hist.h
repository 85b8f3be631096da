/* The floor of the histogram benchmark: HdrHistogram's bucket arithmetic in plain C over a
 * header with the counts after it (the same layout as ours and HdrHistogram_c's), for 1 ..
 * 3.6e12 at 3 digits. bench_hist.c inlines floor_record into its loop; peers/hist_call_twin.c
 * compiles the very same code as a function in a shared library. */
#ifndef ALPHACORE_BENCH_FLOOR_HIST_H
#define ALPHACORE_BENCH_FLOOR_HIST_H
#include <stdint.h>
#include <stdlib.h>

typedef struct {
    int64_t highest, mask, total, min, max;
    int32_t unit, half_mag, lz_base, pad;
    int64_t counts[];
} floor_hist;

static inline floor_hist *floor_hist_new(void) {
    floor_hist *h = calloc(1, sizeof *h + 33792 * sizeof(int64_t));
    if (!h) return NULL;
    h->highest = 3600000000000LL;
    h->unit = 0;
    h->half_mag = 10;                       /* 2048 sub-buckets */
    h->mask = (int64_t)2047 << h->unit;
    h->lz_base = 64 - h->unit - (h->half_mag + 1);
    h->min = INT64_MAX;
    return h;
}

/* The record, for any struct with these fields (counts an array member or a pointer). */
#define FLOOR_DEFINE_RECORD(name, type)                                                   \
    static inline __attribute__((always_inline)) int name(type *h, int64_t v) {           \
        if ((uint64_t)v > (uint64_t)h->highest) return -34;                               \
        int32_t bucket = h->lz_base - __builtin_clzll((uint64_t)(v | h->mask));           \
        int64_t sub = v >> (bucket + h->unit);                                            \
        h->counts[((int64_t)bucket << h->half_mag) + sub]++;                              \
        h->total++;                                                                       \
        if (v != 0 && v < h->min) h->min = v;                                             \
        if (v > h->max) h->max = v;                                                       \
        return 0;                                                                         \
    }
FLOOR_DEFINE_RECORD(floor_record, floor_hist)
#endif
