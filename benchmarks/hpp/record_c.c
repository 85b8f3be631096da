/* The C half of bench_hpp: the header-inline record compiled as C (as a C caller gets it, with
 * the layout's flexible array member), one loop per call, timed by the caller. */
#include <alphacore.h>

__attribute__((noinline)) int bench_hpp_record_c(alphacore_hist *h, const int64_t *vals, int n) {
    int bad = 0;
    for (int i = 0; i < n; i++) bad |= alphacore_hist_record_inline(h, vals[i]);
    return bad;
}
