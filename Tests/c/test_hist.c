/* Histograms through the installed header and library: configuration rules, recording and
 * its range checks, queries against a brute-force reference, merging, the V2 encoding and
 * hostile inputs, the percentile table, the recorder under concurrent writers, the interval
 * log. */
#include <alphacore.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define HOUR_NS 3600000000000LL

/* Reference bucket arithmetic for lowest 1, 3 digits (unit_magnitude 0, 2048 sub-buckets),
 * written independently of the library. */
static int64_t ref_lowest_equiv(int64_t v) {
    if (v < 2048) return v;
    int msb = 63 - __builtin_clzll((unsigned long long)v);
    int shift = msb - 10;          /* bucket width 2^shift */
    return (v >> shift) << shift;
}
static int64_t ref_highest_equiv(int64_t v) {
    if (v < 2048) return v;
    int msb = 63 - __builtin_clzll((unsigned long long)v);
    int shift = msb - 10;
    return ((v >> shift) << shift) + ((int64_t)1 << shift) - 1;
}
static int64_t ref_median_equiv(int64_t v) {
    if (v < 2048) return v;
    int msb = 63 - __builtin_clzll((unsigned long long)v);
    int shift = msb - 10;
    return ((v >> shift) << shift) + (((int64_t)1 << shift) >> 1);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
    return rng_state;
}
/* log-uniform in [20, 10,000,000] */
static int64_t log_uniform(void) {
    double u = (double)(rng() >> 11) / 9007199254740992.0;
    return (int64_t)exp(log(20.0) + u * (log(1e7) - log(20.0)));
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_config(void) {
    alphacore_hist *h = NULL;
    CHECK_EQ_INT(alphacore_hist_create(0, 1000, 3, &h), -EINVAL);
    CHECK_EQ_INT(alphacore_hist_create(-5, 1000, 3, &h), -EINVAL);
    CHECK_EQ_INT(alphacore_hist_create(1, 1000, 0, &h), -EINVAL);
    CHECK_EQ_INT(alphacore_hist_create(1, 1000, 6, &h), -EINVAL);
    CHECK_EQ_INT(alphacore_hist_create(10, 19, 3, &h), -EINVAL);
    CHECK_EQ_INT(alphacore_hist_create(INT64_MAX / 2 + 1, INT64_MAX, 3, &h), -EINVAL);  /* 2*lowest overflows */
    CHECK_EQ_INT(alphacore_hist_create((int64_t)1 << 60, INT64_MAX, 5, &h), -EINVAL); /* > 62 bits */
    CHECK(h == NULL);
    CHECK_EQ_INT(alphacore_hist_create(1, 1000, 3, NULL), -EINVAL);
    CHECK(strstr(alphacore_last_detail(), "out") != NULL);
    /* HdrHistogram accepts the full int64 range; so do we, and the top value records. */
    CHECK_EQ_INT(alphacore_hist_create(1, INT64_MAX, 3, &h), 0);
    CHECK_EQ_INT(alphacore_hist_record(h, INT64_MAX), 0);
    CHECK_EQ_INT(alphacore_hist_max(h), INT64_MAX);
    CHECK_EQ_INT(alphacore_hist_value_at_percentile(h, 100.0), INT64_MAX);
    alphacore_hist_destroy(h);
    alphacore_hist_destroy(NULL);

    CHECK_EQ_INT(alphacore_hist_create(1, HOUR_NS, 3, &h), 0);
    CHECK_EQ_INT(alphacore_hist_footprint(h), 270440);  /* HdrHistogram_c's hdr_get_memory_size */
    alphacore_hist_destroy(h);
    CHECK_EQ_INT(alphacore_hist_footprint(NULL), -EINVAL);
}

static void test_record_range(void) {
    alphacore_hist *h = NULL;
    CHECK_EQ_INT(alphacore_hist_create(1, 1000000, 3, &h), 0);
    CHECK_EQ_INT(alphacore_hist_record(h, -1), -ERANGE);
    CHECK_EQ_INT(alphacore_hist_record(h, INT64_MIN), -ERANGE);
    CHECK_EQ_INT(alphacore_hist_record(h, 1000001), -ERANGE);
    CHECK_EQ_INT(alphacore_hist_record(h, INT64_MAX), -ERANGE);
    CHECK(strstr(alphacore_last_detail(), "outside") != NULL);
    CHECK_EQ_INT(alphacore_hist_record_atomic(h, -1), -ERANGE);
    CHECK_EQ_INT(alphacore_hist_record_n(h, 2000000, 3), -ERANGE);
    CHECK_EQ_INT(alphacore_hist_record_n(h, 5, -1), -EINVAL);
    CHECK_EQ_INT(alphacore_hist_record_corrected(h, -7, 10), -ERANGE);
    CHECK_EQ_INT(alphacore_hist_total_count(h), 0);
    CHECK_EQ_INT(alphacore_hist_max(h), 0);
    CHECK_EQ_INT(alphacore_hist_min(h), 0);
    CHECK_EQ_INT(alphacore_hist_record(NULL, 5), -EINVAL);
    CHECK_EQ_INT(alphacore_hist_total_count(NULL), -EINVAL);

    /* zero is a value (HdrHistogram's slot 0); min stays 0 while it is there */
    CHECK_EQ_INT(alphacore_hist_record(h, 0), 0);
    CHECK_EQ_INT(alphacore_hist_record(h, 1000000), 0);
    CHECK_EQ_INT(alphacore_hist_min(h), 0);
    CHECK_EQ_INT(alphacore_hist_max(h), ref_highest_equiv(1000000));
    CHECK_EQ_INT(alphacore_hist_count_at_value(h, 0), 1);
    CHECK_EQ_INT(alphacore_hist_count_at_value(h, 1000000), 1);
    CHECK_EQ_INT(alphacore_hist_count_at_value(h, ref_lowest_equiv(1000000)), 1);
    CHECK_EQ_INT(alphacore_hist_count_at_value(h, -1), -ERANGE);
    CHECK_EQ_INT(alphacore_hist_record_n(h, 77, 5), 0);
    CHECK_EQ_INT(alphacore_hist_record_n(h, 77, 0), 0);
    CHECK_EQ_INT(alphacore_hist_count_at_value(h, 77), 5);
    CHECK_EQ_INT(alphacore_hist_total_count(h), 7);
    CHECK_EQ_INT(alphacore_hist_record_n(h, 77, INT64_MAX), -EOVERFLOW);
    CHECK_EQ_INT(alphacore_hist_total_count(h), 7);
    CHECK_EQ_INT(alphacore_hist_reset(h), 0);
    CHECK_EQ_INT(alphacore_hist_total_count(h), 0);
    CHECK_EQ_INT(alphacore_hist_count_at_value(h, 77), 0);

    /* coordinated omission: 1000 with interval 100 also records 900, 800, ..., 100 */
    CHECK_EQ_INT(alphacore_hist_record_corrected(h, 1000, 100), 0);
    CHECK_EQ_INT(alphacore_hist_total_count(h), 10);
    CHECK_EQ_INT(alphacore_hist_count_at_value(h, 100), 1);
    CHECK_EQ_INT(alphacore_hist_count_at_value(h, 50), 0);
    CHECK_EQ_INT(alphacore_hist_record_corrected(h, 1050, 100), 0);  /* 1050, 950, ..., 150 */
    CHECK_EQ_INT(alphacore_hist_total_count(h), 20);
    CHECK_EQ_INT(alphacore_hist_count_at_value(h, 150), 1);
    CHECK_EQ_INT(alphacore_hist_record_corrected(h, 30, 100), 0);
    CHECK_EQ_INT(alphacore_hist_record_corrected(h, 500, 0), 0);
    CHECK_EQ_INT(alphacore_hist_total_count(h), 22);

    /* batch: all or nothing */
    alphacore_hist_reset(h);
    int64_t good[5] = {1, 2, 3, 4, 1000000};
    int64_t bad[5] = {1, 2, -3, 4, 5};
    CHECK_EQ_INT(alphacore_hist_record_batch(h, bad, 5), -ERANGE);
    CHECK(strstr(alphacore_last_detail(), "values[2]") != NULL);
    CHECK_EQ_INT(alphacore_hist_total_count(h), 0);
    CHECK_EQ_INT(alphacore_hist_record_batch(h, good, 5), 0);
    CHECK_EQ_INT(alphacore_hist_total_count(h), 5);
    CHECK_EQ_INT(alphacore_hist_min(h), 1);
    CHECK_EQ_INT(alphacore_hist_max(h), ref_highest_equiv(1000000));
    CHECK_EQ_INT(alphacore_hist_record_batch(h, NULL, 0), 0);
    CHECK_EQ_INT(alphacore_hist_record_batch(h, NULL, 3), -EINVAL);
    alphacore_hist_destroy(h);
}

#define N_REF 200000
static int64_t ref_values[N_REF];

static void test_queries_against_reference(void) {
    alphacore_hist *h = NULL;
    CHECK_EQ_INT(alphacore_hist_create(1, HOUR_NS, 3, &h), 0);
    for (int i = 0; i < N_REF; i++) {
        ref_values[i] = log_uniform();
        if (alphacore_hist_record(h, ref_values[i]) != 0) { CHECK(0); break; }
    }
    qsort(ref_values, N_REF, sizeof ref_values[0], cmp_i64);
    CHECK_EQ_INT(alphacore_hist_total_count(h), N_REF);
    CHECK_EQ_INT(alphacore_hist_min(h), ref_lowest_equiv(ref_values[0]));
    CHECK_EQ_INT(alphacore_hist_max(h), ref_highest_equiv(ref_values[N_REF - 1]));

    double ps[] = {0.0, 0.001, 1.0, 10.0, 25.0, 50.0, 50.0001, 75.0, 90.0, 99.0, 99.9, 99.99, 99.999, 100.0};
    size_t np = sizeof ps / sizeof ps[0];
    int64_t many[sizeof ps / sizeof ps[0]];
    int mismatches = 0;
    for (size_t k = 0; k < np; k++) {
        int64_t target = (int64_t)((ps[k] / 100.0) * N_REF + 0.5);
        if (target < 1) target = 1;
        int64_t v = ref_values[target - 1];
        int64_t expect = ps[k] == 0.0 ? ref_lowest_equiv(v) : ref_highest_equiv(v);
        int64_t got = alphacore_hist_value_at_percentile(h, ps[k]);
        if (got != expect) {
            mismatches++;
            fprintf(stderr, "p%g: got %lld expected %lld\n", ps[k], (long long)got, (long long)expect);
        }
    }
    CHECK_EQ_INT(mismatches, 0);
    /* many in one pass, in shuffled order, equal the single answers */
    double shuffled[sizeof ps / sizeof ps[0]];
    for (size_t k = 0; k < np; k++) shuffled[k] = ps[(k * 5 + 3) % np];
    CHECK_EQ_INT(alphacore_hist_value_at_percentiles(h, shuffled, many, np), 0);
    mismatches = 0;
    for (size_t k = 0; k < np; k++)
        if (many[k] != alphacore_hist_value_at_percentile(h, shuffled[k])) mismatches++;
    CHECK_EQ_INT(mismatches, 0);
    /* random percentiles too */
    mismatches = 0;
    for (int k = 0; k < 2000; k++) {
        double p = (double)(rng() % 1000001) / 10000.0;
        int64_t target = (int64_t)((p / 100.0) * N_REF + 0.5);
        if (target < 1) target = 1;
        int64_t v = ref_values[target - 1];
        int64_t expect = p == 0.0 ? ref_lowest_equiv(v) : ref_highest_equiv(v);
        if (alphacore_hist_value_at_percentile(h, p) != expect) mismatches++;
    }
    CHECK_EQ_INT(mismatches, 0);

    CHECK_EQ_INT(alphacore_hist_value_at_percentile(h, NAN), -EINVAL);
    CHECK_EQ_INT(alphacore_hist_value_at_percentile(h, -0.5), -EINVAL);
    CHECK_EQ_INT(alphacore_hist_value_at_percentile(h, 100.5), -EINVAL);
    CHECK_EQ_INT(alphacore_hist_value_at_percentile(h, INFINITY), -EINVAL);
    double badp[2] = {50.0, NAN};
    CHECK_EQ_INT(alphacore_hist_value_at_percentiles(h, badp, many, 2), -EINVAL);
    CHECK_EQ_INT(alphacore_hist_value_at_percentiles(h, NULL, many, 2), -EINVAL);
    CHECK_EQ_INT(alphacore_hist_value_at_percentiles(h, ps, NULL, 2), -EINVAL);

    /* mean and stddev over median equivalent values */
    double sum = 0, dev = 0;
    for (int i = 0; i < N_REF; i++) sum += (double)ref_median_equiv(ref_values[i]);
    double mean = sum / N_REF;
    for (int i = 0; i < N_REF; i++) {
        double d = (double)ref_median_equiv(ref_values[i]) - mean;
        dev += d * d;
    }
    double sd = sqrt(dev / N_REF);
    double m = 0, s = 0;
    CHECK_EQ_INT(alphacore_hist_mean_stddev(h, &m, &s), 0);
    CHECK(fabs(m - mean) <= 1e-9 * mean);
    CHECK(fabs(s - sd) <= 1e-9 * sd);
    CHECK(fabs(alphacore_hist_mean(h) - mean) <= 1e-9 * mean);
    CHECK(fabs(alphacore_hist_stddev(h) - sd) <= 1e-9 * sd);
    CHECK(isnan(alphacore_hist_mean(NULL)));
    alphacore_hist_destroy(h);

    /* all values equal: stddev exactly 0 */
    CHECK_EQ_INT(alphacore_hist_create(1, HOUR_NS, 3, &h), 0);
    alphacore_hist_record_n(h, 123456789, 1000000);
    CHECK(alphacore_hist_stddev(h) == 0.0);
    CHECK(alphacore_hist_mean(h) == (double)ref_median_equiv(123456789));
    alphacore_hist_reset(h);
    CHECK(alphacore_hist_mean(h) == 0.0);
    CHECK_EQ_INT(alphacore_hist_value_at_percentile(h, 99.0), 0);
    alphacore_hist_destroy(h);
}

static void test_add_copy(void) {
    alphacore_hist *a = NULL, *b = NULL, *c = NULL, *small = NULL;
    alphacore_hist_create(1, HOUR_NS, 3, &a);
    alphacore_hist_create(1, HOUR_NS, 3, &b);
    alphacore_hist_create(1, 100000, 2, &small);
    for (int i = 0; i < 1000; i++) { alphacore_hist_record(a, 10 + i); alphacore_hist_record(b, 5000000 + i); }
    CHECK_EQ_INT(alphacore_hist_add(a, b), 0);
    CHECK_EQ_INT(alphacore_hist_total_count(a), 2000);
    CHECK_EQ_INT(alphacore_hist_min(a), 10);
    CHECK_EQ_INT(alphacore_hist_max(a), ref_highest_equiv(5000999));
    /* into a different configuration: b's values are above small's range */
    CHECK_EQ_INT(alphacore_hist_add(small, a), 1000);
    CHECK_EQ_INT(alphacore_hist_total_count(small), 1000);
    CHECK_EQ_INT(alphacore_hist_min(small), 10);
    /* and back: everything fits */
    CHECK_EQ_INT(alphacore_hist_add(b, small), 0);
    CHECK_EQ_INT(alphacore_hist_total_count(b), 2000);
    CHECK_EQ_INT(alphacore_hist_add(NULL, b), -EINVAL);
    CHECK_EQ_INT(alphacore_hist_add(b, NULL), -EINVAL);
    CHECK_EQ_INT(alphacore_hist_copy(a, &c), 0);
    CHECK_EQ_INT(alphacore_hist_total_count(c), 2000);
    CHECK_EQ_INT(alphacore_hist_value_at_percentile(c, 50.0), alphacore_hist_value_at_percentile(a, 50.0));
    alphacore_hist_reset(a);
    CHECK_EQ_INT(alphacore_hist_total_count(c), 2000);
    CHECK_EQ_INT(alphacore_hist_copy(NULL, &c), -EINVAL);
    alphacore_hist_destroy(a); alphacore_hist_destroy(b); alphacore_hist_destroy(c); alphacore_hist_destroy(small);
}

static char *encode_alloc(const alphacore_hist *h) {
    int64_t n = alphacore_hist_encode(h, NULL, 0);
    if (n <= 0) return NULL;
    char *buf = malloc((size_t)n + 1);
    if (!buf) return NULL;
    if (alphacore_hist_encode(h, buf, (size_t)n + 1) != n) { free(buf); return NULL; }
    return buf;
}

static void test_encoding(void) {
    alphacore_hist *h = NULL, *d = NULL;
    alphacore_hist_create(1, HOUR_NS, 3, &h);
    /* the empty histogram encodes exactly as HdrHistogram_c's hdr_log_encode (one empty slot:
     * hdrh's zero-byte payload is refused by HdrHistogram_c's decoder); hdrh's form still decodes */
    char *e = encode_alloc(h);
    CHECK_STREQ(e, "HISTFAAAACF4nJNpmSzMwMDAyAABzFAayGd2M9ixgMH+A1QAAFKnBE0=");
    CHECK(alphacore_hist_decode("HISTFAAAAB14nJNpmSzMgADMUJoRyHQz2LGAwf4DRAAATjkESw==", 52, &d) == 0);
    CHECK(d && alphacore_hist_total_count(d) == 0);
    alphacore_hist_destroy(d);
    d = NULL;
    free(e);
    /* and this one too (hdrh: 0,1,3,5,7,1000,2^40 once, 2 x300) */
    int64_t vals[] = {0, 1, 3, 5, 7, 1000, (int64_t)1 << 40};
    for (int i = 0; i < 7; i++) alphacore_hist_record(h, vals[i]);
    alphacore_hist_record_n(h, 2, 300);
    e = encode_alloc(h);
    CHECK_STREQ(e, "HISTFAAAADB4nJNpmSzMwMAgwAABzFCaEch0M9ixgMH+A0SAiekGCxMjEO7nZ1r7gJkJAK2EB6U=");
    /* snprintf semantics */
    char small[10];
    int64_t need = alphacore_hist_encode(h, small, sizeof small);
    CHECK_EQ_INT(need, (int64_t)strlen(e));
    CHECK_EQ_INT(strlen(small), 9);
    CHECK_EQ_INT(alphacore_hist_encode(h, NULL, 5), -EINVAL);
    /* round trip */
    CHECK_EQ_INT(alphacore_hist_decode(e, strlen(e), &d), 0);
    CHECK_EQ_INT(alphacore_hist_total_count(d), 307);
    CHECK_EQ_INT(alphacore_hist_count_at_value(d, 2), 300);
    CHECK_EQ_INT(alphacore_hist_count_at_value(d, 0), 1);
    CHECK_EQ_INT(alphacore_hist_max(d), alphacore_hist_max(h));
    CHECK_EQ_INT(alphacore_hist_footprint(d), 270440);
    char *e2 = encode_alloc(d);
    CHECK_STREQ(e2, e);
    free(e2);
    alphacore_hist_destroy(d);
    d = NULL;

    /* hostile and broken inputs: a negative errno, no histogram */
    const char *bad[] = {
        "", "   ", "HIST", "HISTFAAAAB14nJNpmSzMgADMUJoRyHQz2LGAwf4DRAAATjkESw=",   /* bad length */
        "HISTFAAAAB14nJNpmSzMgADMUJoRyHQz2LGAwf4DRAAATjkES===",                  /* bad padding */
        "HISTFAAAAB14nJNpmSzMgADMUJoRyHQz2LGAwf4DRAAATjkFSw==",                  /* corrupt adler */
        "HISTFAAAAC14nJNpmSzMgADMUJoRyHQz2LGAwf4DRAAATjkESw==",                  /* lying length */
        "HIST*AAAAB14nJNpmSzMgADMUJoRyHQz2LGAwf4DRAAATjkESw==",                  /* bad character */
        "AAAAAAAAAAAA",                                                          /* wrong cookie */
        "HISTEAAAAB14nJNpmSzMgADMUJoRyHQz2LGAwf4DRAAATjkESw==",                  /* uncompressed cookie */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = alphacore_hist_decode(bad[i], strlen(bad[i]), &d);
        if (rc >= 0) fprintf(stderr, "decode accepted bad input %zu\n", i);
        CHECK(rc < 0);
        CHECK(d == NULL);
    }
    /* truncations of a valid encoding all fail cleanly */
    size_t len = strlen(e);
    int accepted = 0;
    for (size_t cut = 0; cut < len; cut++) {
        if (alphacore_hist_decode(e, cut, &d) == 0) { accepted++; alphacore_hist_destroy(d); d = NULL; }
    }
    CHECK_EQ_INT(accepted, 0);
    /* every single-character corruption: no crash; anything accepted is a valid histogram */
    char *mut = strdup(e);
    for (size_t i = 0; i < len; i++) {
        char saved = mut[i];
        mut[i] = saved == 'A' ? 'B' : 'A';
        if (alphacore_hist_decode(mut, len, &d) == 0) {
            CHECK(alphacore_hist_total_count(d) >= 0);
            alphacore_hist_destroy(d);
            d = NULL;
        }
        mut[i] = saved;
    }
    free(mut);
    CHECK_EQ_INT(alphacore_hist_decode(NULL, 3, &d), -EINVAL);
    CHECK_EQ_INT(alphacore_hist_decode(e, len, NULL), -EINVAL);
    free(e);
    alphacore_hist_destroy(h);
}

/* Every zlib level decodes to the same counts; -1 is the default encoding itself. */
static void test_encode_levels(void) {
    alphacore_hist *h = NULL, *d = NULL;
    alphacore_hist_create(1, HOUR_NS, 3, &h);
    for (int i = 0; i < 200000; i++) alphacore_hist_record(h, log_uniform());
    alphacore_hist_record(h, 0);
    char *def = encode_alloc(h);
    CHECK(def != NULL);
    size_t cap = strlen(def) * 2 + 64;
    char *buf = malloc(cap);
    CHECK_EQ_INT(alphacore_hist_encode_level(h, -1, buf, cap), (int64_t)strlen(def));
    CHECK_STREQ(buf, def);
    size_t fast_len = 0;
    for (int level = 0; level <= 9; level++) {
        int64_t n = alphacore_hist_encode_level(h, level, buf, cap);
        CHECK(n > 0 && (size_t)n < cap);
        if (level == 1) fast_len = (size_t)n;
        CHECK_EQ_INT(alphacore_hist_decode(buf, (size_t)n, &d), 0);
        char *again = d ? encode_alloc(d) : NULL;     /* same counts => same default encoding */
        CHECK(again != NULL && strcmp(again, def) == 0);
        free(again);
        alphacore_hist_destroy(d);
        d = NULL;
    }
    CHECK(fast_len > 0);
    char small[8];
    CHECK_EQ_INT(alphacore_hist_encode_level(h, 1, small, sizeof small), (int64_t)fast_len);
    CHECK_EQ_INT(strlen(small), 7);
    CHECK_EQ_INT(alphacore_hist_encode_level(h, 1, NULL, 0), (int64_t)fast_len);
    CHECK_EQ_INT(alphacore_hist_encode_level(h, -2, buf, cap), -EINVAL);
    CHECK_EQ_INT(alphacore_hist_encode_level(h, 10, buf, cap), -EINVAL);
    CHECK_EQ_INT(alphacore_hist_encode_level(h, 1, NULL, 5), -EINVAL);
    CHECK_EQ_INT(alphacore_hist_encode_level(NULL, 1, buf, cap), -EINVAL);
    free(buf);
    free(def);
    alphacore_hist_destroy(h);
}

static void test_format(void) {
    alphacore_hist *h = NULL;
    alphacore_hist_create(1, HOUR_NS, 3, &h);
    for (int i = 1; i <= 10000; i++) alphacore_hist_record(h, i * 1000);
    int64_t n = alphacore_hist_format_percentiles(h, 5, 1000.0, NULL, 0);
    CHECK(n > 200);
    char *buf = malloc((size_t)n + 1);
    CHECK_EQ_INT(alphacore_hist_format_percentiles(h, 5, 1000.0, buf, (size_t)n + 1), n);
    CHECK_EQ_INT(strlen(buf), n);
    const char *head = "       Value     Percentile TotalCount 1/(1-Percentile)\n\n";
    CHECK(strncmp(buf, head, strlen(head)) == 0);
    CHECK(strstr(buf, "#[Max     =    10002.431, Total count    =        10000]") != NULL);
    CHECK(strstr(buf, "#[Buckets =           32, SubBuckets     =         2048]") != NULL);
    CHECK(strstr(buf, " 1.000000000000      10000\n") != NULL);
    free(buf);
    CHECK_EQ_INT(alphacore_hist_format_percentiles(h, 0, 1.0, NULL, 0), -EINVAL);
    CHECK_EQ_INT(alphacore_hist_format_percentiles(h, 5, 0.0, NULL, 0), -EINVAL);
    CHECK_EQ_INT(alphacore_hist_format_percentiles(h, 5, NAN, NULL, 0), -EINVAL);
    alphacore_hist_destroy(h);
}

/* Atomic recording: two threads, one histogram, no lost counts. */
#define ATOMIC_N 1000000
static void *atomic_writer(void *arg) {
    alphacore_hist *h = arg;
    for (int i = 0; i < ATOMIC_N; i++) alphacore_hist_record_atomic(h, 1000 + (i & 1023));
    return NULL;
}

static void test_atomic(void) {
    alphacore_hist *h = NULL;
    alphacore_hist_create(1, HOUR_NS, 3, &h);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, atomic_writer, h);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    CHECK_EQ_INT(alphacore_hist_total_count(h), 2 * ATOMIC_N);
    CHECK_EQ_INT(alphacore_hist_count_at_value(h, 1000), 2 * ((ATOMIC_N + 1023) / 1024));
    CHECK_EQ_INT(alphacore_hist_min(h), 1000);
    CHECK_EQ_INT(alphacore_hist_max(h), 2023);
    alphacore_hist_destroy(h);
}

/* Recorder: two writers, a sampler sampling while they write; every value in exactly one sample. */
#define REC_N 3000000
static volatile int writers_done;
static void *rec_writer(void *arg) {
    alphacore_recorder *r = arg;
    for (int i = 0; i < REC_N; i++)
        if (alphacore_recorder_record(r, 1 + (i % 5000)) != 0) return (void *)1;
    __atomic_fetch_add(&writers_done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void test_recorder(void) {
    alphacore_recorder *r = NULL;
    CHECK_EQ_INT(alphacore_recorder_create(0, 10, 3, &r), -EINVAL);
    CHECK_EQ_INT(alphacore_recorder_create(1, HOUR_NS, 3, &r), 0);
    alphacore_hist *interval = NULL, *sum = NULL, *other = NULL;
    alphacore_hist_create(1, HOUR_NS, 3, &interval);
    alphacore_hist_create(1, HOUR_NS, 3, &sum);
    alphacore_hist_create(1, 1000, 3, &other);
    CHECK_EQ_INT(alphacore_recorder_sample(r, other), -EINVAL);
    CHECK_EQ_INT(alphacore_recorder_record(r, -1), -ERANGE);
    CHECK_EQ_INT(alphacore_recorder_record(NULL, 1), -EINVAL);
    pthread_t t[2];
    writers_done = 0;
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, rec_writer, r);
    int samples = 0, nonempty = 0;
    while (__atomic_load_n(&writers_done, __ATOMIC_SEQ_CST) < 2) {
        CHECK_EQ_INT(alphacore_recorder_sample(r, interval), 0);
        if (alphacore_hist_total_count(interval) > 0) nonempty++;
        alphacore_hist_add(sum, interval);
        samples++;
    }
    void *rc[2];
    for (int i = 0; i < 2; i++) pthread_join(t[i], &rc[i]);
    CHECK(rc[0] == NULL && rc[1] == NULL);
    CHECK_EQ_INT(alphacore_recorder_sample(r, interval), 0);
    alphacore_hist_add(sum, interval);
    int64_t s0 = 0, s1 = 0;
    alphacore_hist_get_times(interval, &s0, &s1);
    CHECK(s0 > 0 && s1 >= s0);
    CHECK_EQ_INT(alphacore_hist_total_count(sum), 2LL * REC_N);
    int wrong = 0;
    for (int v = 1; v <= 5000; v++) {
        int64_t expect = 2LL * (REC_N / 5000);
        /* 3 digits: values above 2047 share buckets; count per bucket start only */
        if (v < 2048 && alphacore_hist_count_at_value(sum, v) != expect) wrong++;
    }
    CHECK_EQ_INT(wrong, 0);
    fprintf(stderr, "recorder: %d samples, %d non-empty while writing\n", samples, nonempty);
    /* a sample with nothing new is empty */
    CHECK_EQ_INT(alphacore_recorder_sample(r, interval), 0);
    CHECK_EQ_INT(alphacore_hist_total_count(interval), 0);
    int64_t batch[3] = {5, 6, 7}, badb[2] = {5, -1};
    CHECK_EQ_INT(alphacore_recorder_record_batch(r, badb, 2), -ERANGE);
    CHECK_EQ_INT(alphacore_recorder_record_batch(r, batch, 3), 0);
    CHECK_EQ_INT(alphacore_recorder_sample(r, interval), 0);
    CHECK_EQ_INT(alphacore_hist_total_count(interval), 3);
    CHECK_EQ_INT(alphacore_hist_min(interval), 5);
    CHECK_EQ_INT(alphacore_hist_max(interval), 7);
    alphacore_recorder_destroy(r);
    alphacore_recorder_destroy(NULL);
    alphacore_hist_destroy(interval); alphacore_hist_destroy(sum); alphacore_hist_destroy(other);
}

/* More writer threads than the recorder has own shards (64): the rest share the overflow
 * shard with atomic adds; nothing is lost. Recorders created and destroyed in turn on the same
 * thread do not reuse each other's cached shard. */
#define MANY 72
static void *many_writer(void *arg) {
    alphacore_recorder *r = arg;
    for (int i = 0; i < 5000; i++) alphacore_recorder_record(r, 100 + i % 7);
    return NULL;
}

static void test_recorder_many_threads(void) {
    alphacore_recorder *r = NULL;
    alphacore_hist *h = NULL;
    alphacore_recorder_create(1, HOUR_NS, 3, &r);
    alphacore_hist_create(1, HOUR_NS, 3, &h);
    pthread_t t[MANY];
    for (int i = 0; i < MANY; i++) pthread_create(&t[i], NULL, many_writer, r);
    for (int i = 0; i < MANY; i++) pthread_join(t[i], NULL);
    CHECK_EQ_INT(alphacore_recorder_sample(r, h), 0);
    CHECK_EQ_INT(alphacore_hist_total_count(h), MANY * 5000);
    CHECK_EQ_INT(alphacore_hist_min(h), 100);
    CHECK_EQ_INT(alphacore_hist_max(h), 106);
    alphacore_recorder_destroy(r);
    for (int k = 0; k < 3; k++) {
        CHECK_EQ_INT(alphacore_recorder_create(1, 1000000, 2, &r), 0);
        for (int i = 0; i <= k; i++) CHECK_EQ_INT(alphacore_recorder_record(r, 500), 0);
        alphacore_hist *small = NULL;
        alphacore_hist_create(1, 1000000, 2, &small);
        CHECK_EQ_INT(alphacore_recorder_sample(r, small), 0);
        CHECK_EQ_INT(alphacore_hist_total_count(small), k + 1);
        alphacore_hist_destroy(small);
        alphacore_recorder_destroy(r);
    }
    alphacore_hist_destroy(h);
}

static void test_log(void) {
    char text[8192];
    size_t used = 0;
    int64_t start = 1700000000000000000LL;
    int64_t n = alphacore_hist_log_header(start, 0, text, sizeof text);
    CHECK(n > 0 && (size_t)n < sizeof text);
    CHECK(strstr(text, "#[StartTime: 1700000000.000 (seconds since epoch), Tue Nov 14 22:13:20 UTC 2023]\n") != NULL);
    CHECK(strstr(text, "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n") != NULL);
    used = (size_t)n;
    alphacore_hist *h = NULL;
    alphacore_hist_create(1, HOUR_NS, 3, &h);
    for (int k = 0; k < 3; k++) {
        alphacore_hist_reset(h);
        for (int i = 0; i <= k; i++) alphacore_hist_record(h, 1000000 * (k + 1));
        alphacore_hist_set_times(h, start + k * 1000000000LL, start + (k + 1) * 1000000000LL);
        n = alphacore_hist_log_interval(h, k == 1 ? "B" : NULL, start, 1e6, text + used, sizeof text - used);
        CHECK(n > 0);
        used += (size_t)n;
    }
    CHECK(strstr(text, "Tag=B,1.000,1.000,2.001,HISTFAAA") != NULL);
    CHECK_EQ_INT(alphacore_hist_log_interval(h, "a,b", 0, 1e6, NULL, 0), -EINVAL);
    CHECK_EQ_INT(alphacore_hist_log_interval(h, NULL, 0, 0.0, NULL, 0), -EINVAL);

    alphacore_hist_log_reader *r = NULL;
    CHECK_EQ_INT(alphacore_hist_log_reader_create(text, used, &r), 0);
    alphacore_hist_log_entry e = ALPHACORE_HIST_LOG_ENTRY_INIT;
    alphacore_hist *got = NULL;
    for (int k = 0; k < 3; k++) {
        CHECK_EQ_INT(alphacore_hist_log_reader_next(r, &got, &e), 1);
        CHECK_EQ_INT(alphacore_hist_total_count(got), k + 1);
        CHECK_EQ_INT(alphacore_hist_count_at_value(got, 1000000 * (k + 1)), k + 1);
        CHECK(fabs(e.start_s - (1700000000.0 + k)) < 1e-3);
        CHECK(fabs(e.length_s - 1.0) < 1e-9);
        CHECK(fabs(e.max - (k + 1)) < 0.01);
        CHECK_STREQ(e.tag, k == 1 ? "B" : "");
        alphacore_hist_destroy(got);
    }
    CHECK_EQ_INT(alphacore_hist_log_reader_next(r, &got, &e), 0);
    alphacore_hist_log_reader_destroy(r);
    const char *broken = "#[StartTime: 5.0 (seconds since epoch), x]\n0.0,1.0,2.0,HISTnotbase64\n";
    CHECK_EQ_INT(alphacore_hist_log_reader_create(broken, strlen(broken), &r), 0);
    CHECK_EQ_INT(alphacore_hist_log_reader_next(r, &got, NULL), -ALPHACORE_EFORMAT);
    CHECK(strstr(alphacore_last_detail(), "line 2") != NULL);
    alphacore_hist_log_reader_destroy(r);
    alphacore_hist_log_reader_destroy(NULL);
    alphacore_hist_destroy(h);
}

/* The header-inline record reads the documented layout: same results as the export. */
static void test_inline_record(void) {
    CHECK_EQ_INT(sizeof(alphacore_hist_layout_v1), 104);
    CHECK_EQ_INT(offsetof(alphacore_hist_layout_v1, counts), 104);
    alphacore_hist *a = NULL, *b = NULL;
    alphacore_hist_create(1, HOUR_NS, 3, &a);
    alphacore_hist_create(1, HOUR_NS, 3, &b);
    const alphacore_hist_layout_v1 *l = (const alphacore_hist_layout_v1 *)(const void *)a;
    CHECK_EQ_INT(l->highest_trackable, HOUR_NS);
    CHECK_EQ_INT(l->counts_len, 33792);
    CHECK_EQ_INT(l->sub_bucket_count, 2048);
    CHECK_EQ_INT(l->leading_zero_base, 53);
    CHECK_EQ_INT(l->significant_digits, 3);
    for (int i = 0; i < 100000; i++) {
        int64_t v = log_uniform();
        CHECK_EQ_INT(alphacore_hist_record_inline(a, v), 0);
        alphacore_hist_record(b, v);
    }
    CHECK_EQ_INT(alphacore_hist_record_inline(a, 0), 0);
    alphacore_hist_record(b, 0);
    CHECK_EQ_INT(alphacore_hist_record_inline(a, -1), -ERANGE);
    CHECK_EQ_INT(alphacore_hist_record_inline(a, HOUR_NS + 1), -ERANGE);
    CHECK_EQ_INT(alphacore_hist_record_inline(NULL, 5), -EINVAL);
    char *ea = encode_alloc(a), *eb = encode_alloc(b);
    CHECK_STREQ(ea, eb);
    CHECK_EQ_INT(alphacore_hist_min(a), alphacore_hist_min(b));
    CHECK_EQ_INT(alphacore_hist_max(a), alphacore_hist_max(b));
    CHECK_EQ_INT(alphacore_hist_total_count(a), 100001);
    free(ea); free(eb);
    alphacore_hist_destroy(a); alphacore_hist_destroy(b);
}

int main(void) {
    test_config();
    test_inline_record();
    test_record_range();
    test_queries_against_reference();
    test_add_copy();
    test_encoding();
    test_encode_levels();
    test_format();
    test_atomic();
    test_recorder();
    test_recorder_many_threads();
    test_log();
    return check_summary("test_hist");
}
