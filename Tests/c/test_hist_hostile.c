/* Hostile-input findings on histograms (issue 18, findings 1 and 7a), each a case that failed
 * on the code before the fix:
 *   1. a full total: after record_n(h, 1, INT64_MAX), record and record_atomic returned 0 and
 *      the total wrapped to INT64_MIN (read as an error code). The rule now: the bulk calls
 *      (record_n, record_batch, record_corrected, add, decode) refuse to take the total above
 *      ALPHACORE_HIST_MAX_TOTAL (2^62), so the single-value records (exported, inline, atomic)
 *      have 2^62 records of headroom and never wrap, with no check on their path.
 *   7a. HdrHistogram's sizing rule for alphacore_hist_create, as the header states it. */
#include <alphacore.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

static void full_total(void) {
    alphacore_hist *h = NULL, *src = NULL;
    CHECK(alphacore_hist_create(1, 1000000, 3, &h) == 0);
    CHECK(alphacore_hist_record_n(h, 1, INT64_MAX) == -EOVERFLOW);     /* the finding's first call */
    CHECK(strstr(alphacore_last_detail(), "2^62") != NULL);
    CHECK(alphacore_hist_total_count(h) == 0);
    CHECK(alphacore_hist_record_n(h, 1, ALPHACORE_HIST_MAX_TOTAL + 1) == -EOVERFLOW);
    CHECK(alphacore_hist_record_n(h, 1, ALPHACORE_HIST_MAX_TOTAL) == 0);
    /* The single-value records after it: the total grows, it never turns negative. */
    for (int i = 0; i < 1000; i++) {
        CHECK(alphacore_hist_record(h, 5) == 0);
        CHECK(alphacore_hist_record_inline(h, 6) == 0);
        CHECK(alphacore_hist_record_atomic(h, 7) == 0);
    }
    CHECK(alphacore_hist_total_count(h) == ALPHACORE_HIST_MAX_TOTAL + 3000);
    CHECK(alphacore_hist_total_count(h) > 0);
    CHECK(alphacore_hist_count_at_value(h, 5) == 1000 && alphacore_hist_count_at_value(h, 7) == 1000);
    /* Every bulk path refuses past the bound and changes nothing. */
    int64_t two[2] = {3, 4};
    CHECK(alphacore_hist_record_n(h, 9, 1) == -EOVERFLOW);
    CHECK(alphacore_hist_record_batch(h, two, 2) == -EOVERFLOW);
    CHECK(alphacore_hist_record_corrected(h, 1000, 100) == -EOVERFLOW);
    CHECK(alphacore_hist_create(1, 1000000, 3, &src) == 0);
    CHECK(alphacore_hist_record(src, 8) == 0);
    CHECK(alphacore_hist_add(h, src) == -EOVERFLOW);
    CHECK(alphacore_hist_total_count(h) == ALPHACORE_HIST_MAX_TOTAL + 3000);
    CHECK(alphacore_hist_count_at_value(h, 8) == 0 && alphacore_hist_count_at_value(h, 9) == 0);
    alphacore_hist_destroy(src);
    /* A slot at INT64_MAX (decoding refuses it, so it is set here through the
     * published layout): the atomic record refuses rather than wrap that count. */
    alphacore_hist_layout_v1 *l = (alphacore_hist_layout_v1 *)(void *)h;
    CHECK(alphacore_hist_reset(h) == 0);
    l->counts[1] = INT64_MAX;
    CHECK(alphacore_hist_record_atomic(h, 1) == -EOVERFLOW);
    CHECK(l->counts[1] == INT64_MAX);
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

/* ---- V0/V1 payloads (uncompressed, as Java reads them) with lies: issue 13's bad input ---- */
static void be(unsigned char *p, uint64_t v, int n) { for (int i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * (n - 1 - i))); }

static int decode_raw(const unsigned char *raw, size_t n) {
    static const char *abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char text[4096];
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (i + 1 < n ? (uint32_t)raw[i + 1] << 8 : 0) | (i + 2 < n ? raw[i + 2] : 0);
        text[o++] = abc[v >> 18]; text[o++] = abc[v >> 12 & 63];
        text[o++] = i + 1 < n ? abc[v >> 6 & 63] : '=';
        text[o++] = i + 2 < n ? abc[v & 63] : '=';
    }
    alphacore_hist *h = (alphacore_hist *)&h;
    int rc = alphacore_hist_decode(text, o, &h);
    if (rc == 0) {
        alphacore_hist_destroy(h);
    } else {
        CHECK(h == NULL);
    }
    return rc;
}

/* A V1 header (40 bytes) for 1 .. 1e6 at 3 digits, then words. */
static size_t v1(unsigned char *p, int ws, uint32_t payload_len) {
    memset(p, 0, 40);
    be(p, 0x1c849301u | (uint32_t)ws << 4, 4);
    be(p + 4, payload_len, 4);
    be(p + 12, 3, 4);
    be(p + 16, 1, 8);
    be(p + 24, 1000000, 8);
    be(p + 32, 0x3ff0000000000000ull, 8);   /* 1.0 */
    return 40;
}

static void old_versions_hostile(void) {
    unsigned char p[1024];
    size_t n = v1(p, 8, 16);
    be(p + n, 5, 8); be(p + n + 8, 7, 8);
    CHECK(decode_raw(p, n + 16) == 0);                          /* the honest one decodes */
    CHECK(decode_raw(p, n + 15) < 0);                           /* cut inside a word */
    n = v1(p, 8, 64);                                           /* lying length: claims 64 bytes */
    be(p + n, 5, 8);
    CHECK(decode_raw(p, n + 8) == -ALPHACORE_EFORMAT);
    n = v1(p, 8, 12);                                           /* not a multiple of the word */
    CHECK(decode_raw(p, n + 16) == -ALPHACORE_EFORMAT);
    n = v1(p, 8, 0x7fffffffu);                                  /* more than the slots can take */
    CHECK(decode_raw(p, n + 8) == -ALPHACORE_EFORMAT);
    static const int bad_ws[] = {0, 1, 3, 5, 6, 7, 9, 15};
    for (size_t i = 0; i < sizeof bad_ws / sizeof bad_ws[0]; i++) {
        n = v1(p, bad_ws[i], 8);
        be(p + n, 1, 8);
        CHECK(decode_raw(p, n + 8) == -ALPHACORE_EFORMAT);
        CHECK(strstr(alphacore_last_detail(), "word size") != NULL);
    }
    n = v1(p, 8, 16);                                           /* counts past 2^62 */
    be(p + n, (uint64_t)1 << 61, 8); be(p + n + 8, ((uint64_t)1 << 61) + 1, 8);
    CHECK(decode_raw(p, n + 16) == -EOVERFLOW);
    n = v1(p, 8, 8);                                            /* a negative 8-byte count */
    be(p + n, UINT64_MAX, 8);
    CHECK(decode_raw(p, n + 8) == -EOVERFLOW);
    /* V0: header of 32 bytes, words to the end; more words than slots is malformed. */
    memset(p, 0, 32);
    be(p, 0x1c849308u | 2u << 4, 4);
    be(p + 4, 1, 4);                                            /* 1 digit: 64 slots? fewer than 500 */
    be(p + 8, 1, 8);
    be(p + 16, 100, 8);
    CHECK(decode_raw(p, 32 + 2 * 4) == 0);
    CHECK(decode_raw(p, 32 + 2 * 480) == -ALPHACORE_EFORMAT);
    CHECK(decode_raw(p, 32 + 3) == -ALPHACORE_EFORMAT);         /* a half word at the end */
    be(p + 4, 9, 4);                                            /* 9 digits: impossible */
    CHECK(decode_raw(p, 32 + 2) < 0);
}

int main(void) {
    full_total();
    old_versions_hostile();
    sizing_rule();
    return check_summary("hist_hostile");
}
