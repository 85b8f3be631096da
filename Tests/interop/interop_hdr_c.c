/* Interop matrix, C side (issue 13): libalphacore against HdrHistogram_c 0.11.10, both linked
 * into this test program (never into the library).
 *
 *   interop_hdr_c write DIR   builds every case in both libraries from the same records, checks
 *                             byte identity of the V2 encodings, each side decoding the other's
 *                             encodings and interval logs to identical counts, min, max and
 *                             percentiles, and V0/V1 encodings (built here per HdrHistogram_c's
 *                             decoder) decoded by both; then writes the cases to DIR for the
 *                             Python and Java sides (case.b64, case.expect, logs).
 *   interop_hdr_c check DIR   decodes what the Python and Java sides wrote (*.theirs.b64,
 *                             *.hlog) with libalphacore and compares with the .expect files. */
#define _GNU_SOURCE
#include <alphacore.h>
#include <errno.h>
#include <hdr/hdr_histogram.h>
#include <hdr/hdr_histogram_log.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../c/check.h"

static const double pcts[] = {0.0, 25.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0};
#define NPCT (sizeof pcts / sizeof pcts[0])

typedef struct {
    const char *name;
    int64_t lowest, highest;
    int digits;
    alphacore_hist *ours;
    struct hdr_histogram *theirs;
} kase;

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

static void rec(kase *k, int64_t v, int64_t n) {
    CHECK(alphacore_hist_record_n(k->ours, v, n) == 0);
    CHECK(hdr_record_values(k->theirs, v, n));
}

/* Every count, min, max, total and percentile of ours equals HdrHistogram_c's h. */
static int same(const char *what, const alphacore_hist *a, struct hdr_histogram *h) {
    int bad = 0;
    if (alphacore_hist_total_count(a) != h->total_count) bad = 1;
    /* An empty histogram's minimum: HdrHistogram_c's hdr_min says INT64_MAX, Java and we say 0. */
    int64_t their_min = h->total_count == 0 ? 0 : hdr_min(h);
    if (alphacore_hist_min(a) != their_min || alphacore_hist_max(a) != hdr_max(h)) bad = 2;
    for (size_t i = 0; i < NPCT && !bad; i++)
        if (alphacore_hist_value_at_percentile(a, pcts[i]) != hdr_value_at_percentile(h, pcts[i])) bad = 3;
    struct hdr_iter it;
    hdr_iter_recorded_init(&it, h);
    int64_t seen = 0;
    while (!bad && hdr_iter_next(&it)) {
        if (alphacore_hist_count_at_value(a, it.value) != it.count) bad = 4;
        seen += it.count;
    }
    if (!bad && seen != alphacore_hist_total_count(a)) bad = 5;
    if (bad) fprintf(stderr, "%s: differs (%d): total %lld/%lld min %lld/%lld max %lld/%lld\n", what, bad,
                     (long long)alphacore_hist_total_count(a), (long long)h->total_count,
                     (long long)alphacore_hist_min(a), (long long)hdr_min(h),
                     (long long)alphacore_hist_max(a), (long long)hdr_max(h));
    return bad == 0;
}

static char *encode_ours(const alphacore_hist *h) {
    int64_t n = alphacore_hist_encode(h, NULL, 0);
    if (n < 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (s && alphacore_hist_encode(h, s, (size_t)n + 1) != n) { free(s); return NULL; }
    return s;
}

static void write_file(const char *dir, const char *name, const char *ext, const char *text) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, ext);
    FILE *f = fopen(path, "w");
    if (!f) { CHECK(!"cannot write"); return; }
    fputs(text, f);
    fclose(f);
}

/* The .expect file: what every decoder must see (values are HdrHistogram's lowest equivalent
 * values of the non-empty slots; percentiles by HdrHistogram's definition). */
static void write_expect(const char *dir, const char *name, struct hdr_histogram *h) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.expect", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) { CHECK(!"cannot write"); return; }
    fprintf(f, "config %lld %lld %d\ntotal %lld\nmin %lld\nmax %lld\n", (long long)h->lowest_discernible_value,
            (long long)h->highest_trackable_value, h->significant_figures, (long long)h->total_count,
            (long long)(h->total_count == 0 ? 0 : hdr_min(h)), (long long)hdr_max(h));
    for (size_t i = 0; i < NPCT; i++) fprintf(f, "pct %g %lld\n", pcts[i], (long long)hdr_value_at_percentile(h, pcts[i]));
    struct hdr_iter it;
    hdr_iter_recorded_init(&it, h);
    while (hdr_iter_next(&it)) fprintf(f, "slot %lld %lld\n", (long long)it.value, (long long)it.count);
    fclose(f);
}

/* ---- V0/V1 encodings, built per HdrHistogram_c's decoder (hdr_histogram_log.c) ------------- */
static void be(uint8_t *p, uint64_t v, int n) { for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * (n - 1 - i))); }

static size_t b64(const uint8_t *in, size_t n, char *out) {
    static const char *abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = abc[v >> 18]; out[o++] = abc[v >> 12 & 63];
        out[o++] = i + 1 < n ? abc[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? abc[v & 63] : '=';
    }
    out[o] = 0;
    return o;
}

/* version 0 or 1, word size ws, counts of slots 0 .. nslots-1; compressed or the payload alone. */
static char *old_encoding(struct hdr_histogram *h, int version, int ws, int32_t nslots, int compressed) {
    size_t hdr = version == 0 ? 32 : 40, plen = hdr + (size_t)nslots * (size_t)ws;
    uint8_t *p = calloc(1, plen), *z = malloc(plen + 1024);
    uint32_t cookie = (version == 0 ? 0x1c849308u : 0x1c849301u) | (uint32_t)ws << 4;
    be(p, cookie, 4);
    if (version == 0) {
        be(p + 4, (uint64_t)h->significant_figures, 4);
        be(p + 8, (uint64_t)h->lowest_discernible_value, 8);
        be(p + 16, (uint64_t)h->highest_trackable_value, 8);
        be(p + 24, (uint64_t)h->total_count, 8);
    } else {
        be(p + 4, (uint64_t)nslots * (uint64_t)ws, 4);
        be(p + 8, 0, 4);
        be(p + 12, (uint64_t)h->significant_figures, 4);
        be(p + 16, (uint64_t)h->lowest_discernible_value, 8);
        be(p + 24, (uint64_t)h->highest_trackable_value, 8);
        double one = 1.0;
        uint64_t bits;
        memcpy(&bits, &one, 8);
        be(p + 32, bits, 8);
    }
    for (int32_t i = 0; i < nslots; i++) be(p + hdr + (size_t)i * (size_t)ws, (uint64_t)h->counts[i], ws);
    uint8_t *src = p;
    size_t n = plen;
    if (compressed) {
        uLongf zl = (uLongf)(plen + 1016);
        CHECK(compress2(z + 8, &zl, p, (uLong)plen, Z_DEFAULT_COMPRESSION) == Z_OK);
        be(z, (version == 0 ? 0x1c849309u : 0x1c849302u) | (uint32_t)ws << 4, 4);
        be(z + 4, zl, 4);
        src = z;
        n = zl + 8;
    }
    char *text = malloc(n / 3 * 4 + 8);
    b64(src, n, text);
    free(p);
    free(z);
    return text;
}

static int64_t max_count(struct hdr_histogram *h) {
    int64_t m = 0;
    for (int32_t i = 0; i < h->counts_len; i++) if (h->counts[i] > m) m = h->counts[i];
    return m;
}

static void old_versions(kase *k, const char *dir) {
    /* One word per slot: the 6.3 M slots of the largest range would be 12-50 MB per encoding. */
    if (k->theirs->counts_len > 200000) return;
    int32_t used = 1;                                   /* slots up to the last non-empty one */
    for (int32_t i = 0; i < k->theirs->counts_len; i++) if (k->theirs->counts[i]) used = i + 1;
    int64_t m = max_count(k->theirs);
    static const int sizes[3] = {2, 4, 8};
    for (int version = 0; version <= 1; version++) {
        for (int s = 0; s < 3; s++) {
            int ws = sizes[s];
            if ((ws == 2 && m > 32767) || (ws == 4 && m > INT32_MAX)) continue;   /* Java reads words signed */
            for (int compressed = 1; compressed >= 0; compressed--) {
                /* V0 as the old writers did (every slot) and cut after the last non-empty one. */
                int32_t n = version == 0 && compressed ? k->theirs->counts_len : used;
                char *text = old_encoding(k->theirs, version, ws, n, compressed);
                char name[256];
                snprintf(name, sizeof name, "%s_v%d_w%d%s", k->name, version, ws, compressed ? "" : "_raw");
                alphacore_hist *d = NULL;
                int rc = alphacore_hist_decode(text, strlen(text), &d);
                if (rc != 0) fprintf(stderr, "%s: alphacore_hist_decode %d (%s)\n", name, rc, alphacore_last_detail());
                CHECK(rc == 0 && same(name, d, k->theirs));
                alphacore_hist_destroy(d);
                if (compressed) {   /* HdrHistogram_c decodes only the compressed forms */
                    struct hdr_histogram *t = NULL;
                    rc = hdr_log_decode(&t, text, strlen(text));
                    if (rc != 0) fprintf(stderr, "%s: hdr_log_decode %d\n", name, rc);
                    CHECK(rc == 0 && t && t->total_count == k->theirs->total_count);
                    if (t) {
                        alphacore_hist *o = NULL;
                        CHECK(alphacore_hist_decode(text, strlen(text), &o) == 0);
                        CHECK(o && same(name, o, t));
                        alphacore_hist_destroy(o);
                        hdr_close(t);
                    }
                }
                write_file(dir, name, ".old.b64", text);
                free(text);
            }
        }
    }
}

static void one_case(kase *k, const char *dir) {
    char *ours = encode_ours(k->ours);
    char *theirs = NULL;
    CHECK(ours != NULL);
    CHECK(hdr_log_encode(k->theirs, &theirs) == 0);
    if (!ours || !theirs) return;
    if (strcmp(ours, theirs) != 0) fprintf(stderr, "%s: encodings differ\n  ours   %s\n  theirs %s\n", k->name, ours, theirs);
    CHECK(strcmp(ours, theirs) == 0);                   /* byte-identical to HdrHistogram_c */
    CHECK(same(k->name, k->ours, k->theirs));
    struct hdr_histogram *t = NULL;                      /* ours, decoded by HdrHistogram_c */
    int rc = hdr_log_decode(&t, ours, strlen(ours));
    if (rc != 0) fprintf(stderr, "%s: hdr_log_decode(ours) = %d\n", k->name, rc);
    CHECK(rc == 0 && t != NULL);
    alphacore_hist *o = NULL;                            /* theirs, decoded by us */
    CHECK(alphacore_hist_decode(theirs, strlen(theirs), &o) == 0);
    if (t && o) { CHECK(same(k->name, o, t)); }
    if (t) hdr_close(t);
    alphacore_hist_destroy(o);
    write_file(dir, k->name, ".b64", ours);
    write_expect(dir, k->name, k->theirs);
    old_versions(k, dir);
    free(ours);
    free(theirs);
}

/* ---- interval logs: ours read by HdrHistogram_c, HdrHistogram_c's read by us ---------------- */
static void logs(kase *cases, int ncases, const char *dir) {
    /* Ours: a base time, tags, an idle interval; (comments in the middle only in the copy for
     * the Python and Java readers: hdr_log_read_entry stops at a '#' line, see the note below). */
    char path[4096], buf[1 << 16];
    snprintf(path, sizeof path, "%s/ours.hlog", dir);
    FILE *f = fopen(path, "w+");
    snprintf(buf, sizeof buf, "%s/ours_comments.hlog", dir);
    FILE *fc = fopen(buf, "w");
    if (!f || !fc) { CHECK(!"cannot write logs"); return; }
    const int64_t base = 1700000000000000000LL;
    CHECK(alphacore_hist_log_header(base, base, buf, sizeof buf) > 0);
    fputs(buf, f);
    fputs(buf, fc);
    alphacore_hist *idle = NULL;
    CHECK(alphacore_hist_create(1, 3600000000000LL, 3, &idle) == 0);
    for (int i = 0; i < ncases; i++) {
        alphacore_hist *h = i == 1 ? idle : cases[i].ours;
        alphacore_hist_set_times(h, base + (int64_t)i * 1000000000LL, base + (int64_t)(i + 1) * 1000000000LL);
        const char *tag = i % 3 == 0 ? NULL : i % 3 == 1 ? "feedA" : "orders";
        int64_t n = alphacore_hist_log_interval(h, tag, base, 1.0, buf, sizeof buf);
        CHECK(n > 0);
        if (n > 0 && (size_t)n < sizeof buf) { fputs(buf, f); fputs(buf, fc); }
        if (i == 2) fputs("#a comment line in the middle of the log\n", fc);
    }
    fclose(fc);
    rewind(f);
    struct hdr_log_reader reader;
    CHECK(hdr_log_reader_init(&reader) == 0);
    CHECK(hdr_log_read_header(&reader, f) == 0);
    int read = 0;
    for (;;) {
        struct hdr_log_entry e;
        char tag[64] = {0};
        memset(&e, 0, sizeof e);
        e.tag = tag;
        e.tag_len = sizeof tag;
        struct hdr_histogram *t = NULL;
        int rc = hdr_log_read_entry(&reader, f, &e, &t);
        if (rc == EOF) break;
        if (rc != 0) { fprintf(stderr, "hdr_log_read_entry stopped at interval %d: %d\n", read, rc); CHECK(rc == 0); break; }
        alphacore_hist *want = read == 1 ? idle : cases[read].ours;
        CHECK(t != NULL && same("log interval", want, t));
        CHECK(e.start_timestamp.tv_sec == read);
        const char *tg = read % 3 == 0 ? "" : read % 3 == 1 ? "feedA" : "orders";
        CHECK(strcmp(tag, tg) == 0);
        hdr_close(t);
        read++;
    }
    CHECK(read == ncases);
    fclose(f);
    alphacore_hist_destroy(idle);

    /* HdrHistogram_c's log, read by our reader. */
    snprintf(path, sizeof path, "%s/hdr_c.hlog", dir);
    f = fopen(path, "w+");
    struct hdr_log_writer w;
    hdr_timespec start = {1700000000, 0};
    CHECK(hdr_log_writer_init(&w) == 0);
    CHECK(hdr_log_write_header(&w, f, "interop", &start) == 0);
    for (int i = 0; i < ncases; i++) {
        hdr_timespec s = {1700000000 + i, 0}, e = {1700000001 + i, 0};
        CHECK(hdr_log_write(&w, f, &s, &e, cases[i].theirs) == 0);
    }
    long len = ftell(f);
    rewind(f);
    char *text = malloc((size_t)len + 1);
    CHECK(fread(text, 1, (size_t)len, f) == (size_t)len);
    fclose(f);
    alphacore_hist_log_reader *r = NULL;
    CHECK(alphacore_hist_log_reader_create(text, (size_t)len, &r) == 0);
    int got = 0;
    alphacore_hist *d = NULL;
    alphacore_hist_log_entry entry = ALPHACORE_HIST_LOG_ENTRY_INIT;
    int rc;
    while ((rc = alphacore_hist_log_reader_next(r, &d, &entry)) == 1) {
        if (got < ncases) { CHECK(same("hdr_c log", d, cases[got].theirs)); }
        alphacore_hist_destroy(d);
        got++;
    }
    CHECK(rc == 0);
    CHECK(got == ncases);
    alphacore_hist_log_reader_destroy(r);
    free(text);
}

static int write_all(const char *dir) {
    kase cases[32];
    int n = 0;
#define NEW(nm, lo, hi, d) do { cases[n] = (kase){nm, lo, hi, d, NULL, NULL}; \
        CHECK(alphacore_hist_create(lo, hi, d, &cases[n].ours) == 0); \
        CHECK(hdr_init(lo, hi, d, &cases[n].theirs) == 0); } while (0)
    NEW("random", 1, 3600000000000LL, 3);
    for (int i = 0; i < 20000; i++) rec(&cases[n], (int64_t)(next_rand() % 100000000), 1);
    n++;
    NEW("empty", 1, 3600000000000LL, 3);
    n++;
    NEW("sparse", 1, 1000000, 3);                        /* lone empty slots between counts */
    for (int64_t v = 0; v < 400; v += 2) rec(&cases[n], v, 1 + v % 7);
    rec(&cases[n], 5000, 3);
    n++;
    NEW("single", 1, 3600000000000LL, 3);
    rec(&cases[n], 123456, 1);
    n++;
    NEW("largest_range", 1, INT64_MAX, 5);
    rec(&cases[n], INT64_MAX, 1);
    rec(&cases[n], 1, 2);
    rec(&cases[n], (int64_t)1 << 40, 3);
    n++;
    NEW("big_counts", 1, 3600000000000LL, 3);           /* counts above 2^32 in one slot */
    rec(&cases[n], 1000, (int64_t)1 << 40);
    rec(&cases[n], 77, 5000000000LL);
    rec(&cases[n], 3, 1);
    n++;
    static const char *dn[5] = {"digits1", "digits2", "digits3", "digits4", "digits5"};
    for (int d = 1; d <= 5; d++) {
        NEW(dn[d - 1], 1 + d * 3, 10000000000LL, d);
        for (int i = 0; i < 3000; i++) rec(&cases[n], (int64_t)(next_rand() % 5000000000ULL), 1 + (int64_t)(next_rand() % 3));
        rec(&cases[n], 0, 2);
        n++;
    }
#undef NEW
    for (int i = 0; i < n; i++) one_case(&cases[i], dir);
    logs(cases, n, dir);
    char list[4096] = "";
    for (int i = 0; i < n; i++) { strcat(list, cases[i].name); strcat(list, "\n"); }
    write_file(dir, "cases", ".txt", list);
    for (int i = 0; i < n; i++) { alphacore_hist_destroy(cases[i].ours); hdr_close(cases[i].theirs); }
    return check_summary("interop (HdrHistogram_c 0.11.10)");
}

/* ---- check: what Python hdrh and Java wrote, decoded by us ------------------------------- */
static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = 0;
    fclose(f);
    if (len) *len = got;
    return s;
}

static int matches_expect(const char *what, const alphacore_hist *d, const char *expect_path) {
    FILE *f = fopen(expect_path, "r");
    if (!f) { fprintf(stderr, "%s: no %s\n", what, expect_path); return 0; }
    char key[32];
    int ok = 1;
    long long a, b, c;
    double p;
    int64_t seen = 0;
    while (fscanf(f, "%31s", key) == 1) {
        if (!strcmp(key, "config")) { if (fscanf(f, "%lld %lld %lld", &a, &b, &c) != 3) ok = 0; }
        else if (!strcmp(key, "total")) { if (fscanf(f, "%lld", &a) != 1 || a != alphacore_hist_total_count(d)) ok = 0; }
        else if (!strcmp(key, "min")) { if (fscanf(f, "%lld", &a) != 1 || a != alphacore_hist_min(d)) ok = 0; }
        else if (!strcmp(key, "max")) { if (fscanf(f, "%lld", &a) != 1 || a != alphacore_hist_max(d)) ok = 0; }
        else if (!strcmp(key, "pct")) { if (fscanf(f, "%lf %lld", &p, &a) != 2 || a != alphacore_hist_value_at_percentile(d, p)) ok = 0; }
        else if (!strcmp(key, "slot")) {
            if (fscanf(f, "%lld %lld", &a, &b) != 2 || alphacore_hist_count_at_value(d, a) != b) ok = 0;
            seen += b;
        } else ok = 0;
        if (!ok) { fprintf(stderr, "%s: differs at '%s'\n", what, key); break; }
    }
    fclose(f);
    if (ok && seen != alphacore_hist_total_count(d)) { fprintf(stderr, "%s: extra counts\n", what); ok = 0; }
    return ok;
}

static int check_all(const char *dir, const char *side) {
    char path[4096], name[256];
    snprintf(path, sizeof path, "%s/cases.txt", dir);
    char *list = slurp(path, NULL);
    CHECK(list != NULL);
    if (!list) return 1;
    int ncases = 0;
    for (char *save = NULL, *nm = strtok_r(list, "\n", &save); nm; nm = strtok_r(NULL, "\n", &save)) {
        size_t len;
        snprintf(path, sizeof path, "%s/%s.%s.b64", dir, nm, side);
        char *text = slurp(path, &len);
        if (!text) { fprintf(stderr, "%s: missing %s\n", side, path); CHECK(text != NULL); continue; }
        alphacore_hist *d = NULL;
        int rc = alphacore_hist_decode(text, len, &d);
        if (rc != 0) fprintf(stderr, "%s %s: decode %d (%s)\n", side, nm, rc, alphacore_last_detail());
        CHECK(rc == 0);
        snprintf(path, sizeof path, "%s/%s.expect", dir, nm);
        snprintf(name, sizeof name, "%s %s", side, nm);
        if (d) { CHECK(matches_expect(name, d, path)); }
        alphacore_hist_destroy(d);
        free(text);
        ncases++;
    }
    /* Their interval log: every interval decodes; counts as written (the order of cases.txt). */
    snprintf(path, sizeof path, "%s/%s.hlog", dir, side);
    size_t len;
    char *text = slurp(path, &len);
    CHECK(text != NULL);
    if (text) {
        alphacore_hist_log_reader *r = NULL;
        CHECK(alphacore_hist_log_reader_create(text, len, &r) == 0);
        alphacore_hist *d = NULL;
        int got = 0, rc;
        while ((rc = alphacore_hist_log_reader_next(r, &d, NULL)) == 1) { got++; alphacore_hist_destroy(d); }
        if (rc != 0) fprintf(stderr, "%s log: %d (%s)\n", side, rc, alphacore_last_detail());
        CHECK(rc == 0 && got == ncases);
        alphacore_hist_log_reader_destroy(r);
        free(text);
    }
    free(list);
    snprintf(name, sizeof name, "interop (%s's encodings decoded by libalphacore)", side);
    return check_summary(name);
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "write")) return write_all(argv[2]);
    if (argc == 4 && !strcmp(argv[1], "check")) return check_all(argv[2], argv[3]);
    fprintf(stderr, "usage: interop_hdr_c write DIR | check DIR SIDE\n");
    return 2;
}
