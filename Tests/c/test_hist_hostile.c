/* Hostile-input findings on histograms (issue 18, findings 1 and 7a), each a case that failed
 * on the code before the fix:
 *   1. a full total: after record_n(h, 1, INT64_MAX), record, the inline record and the atomic
 *      record must not wrap the total into INT64_MIN (which reads as an error code): the
 *      single-writer records refuse with -EOVERFLOW and change nothing; after atomic records
 *      the total is the counts' sum, saturated at INT64_MAX.
 *   7a. HdrHistogram's sizing rule for alphacore_hist_create, as the header states it. */
#include <alphacore.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

static void full_total_single_writer(void) {
    alphacore_hist *h = NULL;
    CHECK(alphacore_hist_create(1, 1000000, 3, &h) == 0);
    CHECK(alphacore_hist_record_n(h, 1, INT64_MAX) == 0);
    CHECK(alphacore_hist_total_count(h) == INT64_MAX);
    CHECK(alphacore_hist_record(h, 5) == -EOVERFLOW);
    CHECK(strstr(alphacore_last_detail(), "INT64_MAX") != NULL);
    CHECK(alphacore_hist_record_inline(h, 5) == -EOVERFLOW);
    CHECK(alphacore_hist_total_count(h) == INT64_MAX);
    CHECK(alphacore_hist_count_at_value(h, 5) == 0);
    CHECK(alphacore_hist_max(h) == 1);                         /* nothing else changed */
    /* Out of range still says so, whatever the total. */
    CHECK(alphacore_hist_record(h, -1) == -ERANGE);
    CHECK(alphacore_hist_record_inline(h, 2000000) == -ERANGE);
    /* After a reset the same calls record again. */
    CHECK(alphacore_hist_reset(h) == 0);
    CHECK(alphacore_hist_record(h, 5) == 0);
    CHECK(alphacore_hist_record_inline(h, 5) == 0);
    CHECK(alphacore_hist_total_count(h) == 2);
    alphacore_hist_destroy(h);
}

static void full_total_atomic(void) {
    alphacore_hist *h = NULL;
    CHECK(alphacore_hist_create(1, 1000000, 3, &h) == 0);
    CHECK(alphacore_hist_record_n(h, 1, INT64_MAX) == 0);
    /* Another slot: the total saturates instead of wrapping. */
    CHECK(alphacore_hist_record_atomic(h, 5) == 0);
    CHECK(alphacore_hist_total_count(h) == INT64_MAX);
    CHECK(alphacore_hist_count_at_value(h, 5) == 1);
    /* The same slot: its count cannot pass INT64_MAX; refused, nothing changes. */
    CHECK(alphacore_hist_record_atomic(h, 1) == -EOVERFLOW);
    CHECK(alphacore_hist_count_at_value(h, 1) == INT64_MAX);
    /* Single-writer calls after atomic ones see the summed (saturated) total. */
    CHECK(alphacore_hist_record_n(h, 7, 1) == -EOVERFLOW);
    CHECK(alphacore_hist_record(h, 7) == -EOVERFLOW);
    alphacore_hist_destroy(h);

    /* The ordinary case: atomic records, then the exact total and the single-writer calls. */
    CHECK(alphacore_hist_create(1, 1000000, 3, &h) == 0);
    for (int i = 1; i <= 1000; i++) CHECK(alphacore_hist_record_atomic(h, i) == 0);
    CHECK(alphacore_hist_total_count(h) == 1000);
    CHECK(alphacore_hist_record(h, 10) == 0);
    CHECK(alphacore_hist_record_n(h, 10, 5) == 0);
    int64_t batch[3] = {1, 2, 3};
    CHECK(alphacore_hist_record_batch(h, batch, 3) == 0);
    CHECK(alphacore_hist_total_count(h) == 1009);
    CHECK(alphacore_hist_min(h) == 1 && alphacore_hist_max(h) == 1000);
    alphacore_hist_destroy(h);
}

static void sizing_rule(void) {
    alphacore_hist *h = (alphacore_hist *)&h;
    CHECK(alphacore_hist_create(INT64_MAX / 2, INT64_MAX, 5, &h) == -EINVAL);
    CHECK(h == NULL);
    CHECK(strstr(alphacore_last_detail(), "62 bits") != NULL);
    /* The header's bound: unit_magnitude + (4, 7, 10, 14, 17 for 1..5 digits) <= 61. */
    static const int half_mag[6] = {0, 4, 7, 10, 14, 17};
    for (int d = 1; d <= 5; d++) {
        int64_t fits = (int64_t)1 << (61 - half_mag[d]);       /* unit magnitude 61 - half_mag */
        CHECK(alphacore_hist_create(fits, INT64_MAX, d, &h) == 0);
        alphacore_hist_destroy(h);
        CHECK(alphacore_hist_create(fits * 2, INT64_MAX, d, &h) == -EINVAL);
    }
}

int main(void) {
    full_total_single_writer();
    full_total_atomic();
    sizing_rule();
    return check_summary("hist_hostile");
}
