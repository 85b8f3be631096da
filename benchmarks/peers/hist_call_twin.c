/* The floor's record (floor_hist.h) compiled as a C function in its own shared library: what
 * any record costs when it is called across a library boundary, whatever language the library
 * is in. bench_hist prints it beside our exported alphacore_hist_record, so that the price of
 * the call itself is measured rather than assumed. Built by benchmarks/run.sh into build/bench. */
#include "floor_hist.h"

floor_hist *twin_create(void) { return floor_hist_new(); }

int twin_record(floor_hist *h, int64_t v) {
    if (h == NULL) return -22;              /* the same NULL check as ours */
    return floor_record(h, v);
}
