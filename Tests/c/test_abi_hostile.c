/* Hostile input through the whole C ABI: every exported function called with NULLs, negative
 * and huge lengths (size_t near SIZE_MAX arrives as a negative Swift Int), INT64_MIN/MAX, NaN
 * and infinities, CPU ids and nodes out of range, bad fds, enum values out of range, options
 * structs of every size, strings without a NUL where the library must not look. The bar:
 * no input crashes or hangs the host process; bad input gets a negative errno and changes
 * nothing; the library writes nothing to stdout or stderr.
 *
 * Each case runs in a child process (fork) under an alarm, so that a crash (a Swift trap is
 * SIGILL or SIGTRAP, a wild pointer SIGSEGV) or a hang is reported as that case's failure
 * instead of killing the run. Everything the child writes while the library runs is captured;
 * anything the library wrote fails the case. */
#include <alphacore.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

/* EXPECT and EXPECT_ERR (a failed expectation says where and what the library's detail was). */
#include "hostile.h"
/* rc may be any negative errno. */
#define EXPECT_NEG(rc) do { long long r_ = (long long)(rc); if (r_ >= 0) { \
    fprintf(stderr, "%s:%d: %s returned %lld, expected a negative errno\n", __FILE__, __LINE__, #rc, r_); return 1; } } while (0)
/* A failure must say why. */
#define EXPECT_DETAIL() EXPECT(alphacore_last_detail()[0] != 0)

/* Runs one case in a child under an alarm of `seconds`; a signal, a timeout, a failed
 * expectation or any library output fails it. */
static void hostile(const char *name, int (*fn)(void), unsigned seconds) {
    fflush(NULL);
    FILE *cap = tmpfile();
    pid_t pid = fork();
    if (pid < 0) { CHECK(!"fork"); return; }
    if (pid == 0) {
        int out = dup(1), err = dup(2);
        if (cap) { dup2(fileno(cap), 1); dup2(fileno(cap), 2); }
        alarm(seconds);
        int rc = fn();
        fflush(NULL);
        dup2(out, 1);
        dup2(err, 2);
        if (cap) {
            long size = ftell(cap) < 0 ? 0 : (fseek(cap, 0, SEEK_END), ftell(cap));
            if (size > 0) {
                char text[2048] = {0};
                rewind(cap);
                size_t n = fread(text, 1, sizeof text - 1, cap);
                fprintf(stderr, "%s: output during the case (%zu bytes shown):\n%s\n", name, n, text);
                if (rc == 0) rc = 2;   /* silent success only: the library printed something */
            }
        }
        _exit(rc);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (cap) fclose(cap);
    if (WIFSIGNALED(st)) {
        int sig = WTERMSIG(st);
        if (sig == SIGALRM) fprintf(stderr, "%s: HUNG (still running after %u s)\n", name, seconds);
        else fprintf(stderr, "%s: CRASHED with signal %d (%s)\n", name, sig, strsignal(sig));
        CHECK(!"a hostile case crashed or hung");
    } else if (WEXITSTATUS(st) != 0) {
        fprintf(stderr, "%s: failed (exit %d)\n", name, WEXITSTATUS(st));
        CHECK(!"a hostile case failed");
    } else {
        CHECK(1);
    }
}

/* Memory whose last byte is followed by an inaccessible page: any read past `len` faults. */
/* The pages at_page_end maps for len bytes: enough for them, and the guard page. */
static size_t page_end_pages(size_t len) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (len + page - 1) / page + 1;
}

/* Unmaps what at_page_end(…, len) returned p in (exactly its mapping: for len 0 that is the
 * guard page alone, so a fixed two-page munmap would unmap a neighbour's page). */
static void page_end_free(char *p, size_t len) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE), pages = page_end_pages(len);
    munmap(p + len - (pages - 1) * page, pages * page);
}

static char *at_page_end(const char *bytes, size_t len) {
    long page = sysconf(_SC_PAGESIZE);
    size_t pages = page_end_pages(len);
    char *m = mmap(NULL, pages * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return NULL;
    mprotect(m + (pages - 1) * (size_t)page, (size_t)page, PROT_NONE);
    char *p = m + (pages - 1) * (size_t)page - len;
    memcpy(p, bytes, len);
    return p;
}

static const int64_t i64_edges[] = {INT64_MIN, INT64_MIN + 1, -1, 0, 1, INT64_MAX - 1, INT64_MAX};
static const int int_edges[] = {INT_MIN, -2, -1, 4096, 1 << 20, INT_MAX};
#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- core ------------------------------------------------------------------------------------ */

static int t_core(void) {
    const int codes[] = {INT_MIN, INT_MIN + 1, -4096, -20002, -20001, -1, 0, 1, 4095, 20000, 20003, INT_MAX};
    for (size_t i = 0; i < N_ELEMS(codes); i++) {
        const char *s = alphacore_strerror(codes[i]);
        EXPECT(s != NULL && s[0] != 0);
    }
    EXPECT(alphacore_last_detail() != NULL);
    EXPECT(alphacore_version_string() != NULL);
    (void)alphacore_cycles_to_ns(UINT64_MAX);
    (void)alphacore_cycles_to_ns(0);
    return 0;
}

/* ---- histograms ------------------------------------------------------------------------------ */

static int t_hist_create(void) {
    alphacore_hist *h = (alphacore_hist *)1;
    EXPECT_ERR(alphacore_hist_create(1, 1000, 3, NULL), EINVAL);
    for (size_t i = 0; i < N_ELEMS(i64_edges); i++)
        for (size_t j = 0; j < N_ELEMS(i64_edges); j++) {
            int rc = alphacore_hist_create(i64_edges[i], i64_edges[j], 3, &h);
            if (rc == 0) { alphacore_hist_destroy(h); continue; }
            EXPECT(rc == -EINVAL || rc == -ENOMEM);
            EXPECT(h == NULL);
        }
    const int digits[] = {INT_MIN, -1, 0, 6, INT_MAX};
    for (size_t i = 0; i < N_ELEMS(digits); i++) EXPECT_ERR(alphacore_hist_create(1, 1000, digits[i], &h), EINVAL);
    EXPECT_ERR(alphacore_hist_create(INT64_C(1) << 61, INT64_MAX, 5, &h), EINVAL);
    EXPECT(alphacore_hist_create(1, INT64_MAX, 5, &h) == 0);   /* the largest configuration */
    EXPECT(alphacore_hist_record(h, INT64_MAX) == 0);
    EXPECT(alphacore_hist_max(h) == INT64_MAX);
    alphacore_hist_destroy(h);
    alphacore_hist_destroy(NULL);
    alphacore_recorder_destroy(NULL);
    alphacore_hist_log_reader_destroy(NULL);
    EXPECT_ERR(alphacore_hist_copy(NULL, &h), EINVAL);
    return 0;
}

static int t_hist_record(void) {
    alphacore_hist *h;
    EXPECT(alphacore_hist_create(1, 1000000, 3, &h) == 0);
    EXPECT_ERR(alphacore_hist_record(NULL, 1), EINVAL);
    EXPECT_ERR(alphacore_hist_record_inline(NULL, 1), EINVAL);
    EXPECT_ERR(alphacore_hist_record_atomic(NULL, 1), EINVAL);
    EXPECT_ERR(alphacore_hist_record_n(NULL, 1, 1), EINVAL);
    EXPECT_ERR(alphacore_hist_record_corrected(NULL, 1, 1), EINVAL);
    const int64_t bad[] = {INT64_MIN, -1, 1000001, INT64_MAX};
    for (size_t i = 0; i < N_ELEMS(bad); i++) {
        EXPECT_ERR(alphacore_hist_record(h, bad[i]), ERANGE);
        EXPECT_ERR(alphacore_hist_record_inline(h, bad[i]), ERANGE);
        EXPECT_ERR(alphacore_hist_record_atomic(h, bad[i]), ERANGE);
        EXPECT_ERR(alphacore_hist_record_n(h, bad[i], 1), ERANGE);
        for (size_t j = 0; j < N_ELEMS(i64_edges); j++)
            EXPECT_ERR(alphacore_hist_record_corrected(h, bad[i], i64_edges[j]), ERANGE);
    }
    EXPECT_ERR(alphacore_hist_record_n(h, 5, -1), EINVAL);
    EXPECT_ERR(alphacore_hist_record_n(h, 5, INT64_MIN), EINVAL);
    EXPECT(alphacore_hist_total_count(h) == 0);
    EXPECT_ERR(alphacore_hist_record_n(h, 5, INT64_MAX), EOVERFLOW);   /* above ALPHACORE_HIST_MAX_TOTAL */
    EXPECT(alphacore_hist_record_n(h, 5, ALPHACORE_HIST_MAX_TOTAL) == 0);
    EXPECT_ERR(alphacore_hist_record_n(h, 5, 1), EOVERFLOW);
    EXPECT_ERR(alphacore_hist_record_n(h, 6, 1), EOVERFLOW);
    EXPECT_ERR(alphacore_hist_record_corrected(h, 1000, 1), EOVERFLOW);
    int64_t v[2] = {1, 2};
    EXPECT_ERR(alphacore_hist_record_batch(h, v, 2), EOVERFLOW);
    EXPECT(alphacore_hist_total_count(h) == ALPHACORE_HIST_MAX_TOTAL);
    alphacore_hist_reset(h);
    for (size_t j = 0; j < N_ELEMS(i64_edges); j++) EXPECT(alphacore_hist_record_corrected(h, 100, i64_edges[j]) == 0);
    EXPECT_ERR(alphacore_hist_reset(NULL), EINVAL);
    alphacore_hist_destroy(h);
    return 0;
}

static int t_hist_batch(void) {
    alphacore_hist *h;
    EXPECT(alphacore_hist_create(1, 1000, 2, &h) == 0);
    int64_t v[3] = {1, 2, 3};
    EXPECT(alphacore_hist_record_batch(h, NULL, 0) == 0);
    EXPECT_ERR(alphacore_hist_record_batch(NULL, v, 3), EINVAL);
    EXPECT_ERR(alphacore_hist_record_batch(h, NULL, 3), EINVAL);
    const size_t ns[] = {SIZE_MAX, SIZE_MAX / 2 + 1, SIZE_MAX / 8 + 1};
    for (size_t i = 0; i < N_ELEMS(ns); i++) EXPECT_ERR(alphacore_hist_record_batch(h, v, ns[i]), EINVAL);
    int64_t w[3] = {1, INT64_MIN, 3};
    EXPECT_ERR(alphacore_hist_record_batch(h, w, 3), ERANGE);
    EXPECT(alphacore_hist_total_count(h) == 0);
    alphacore_recorder *r;
    EXPECT(alphacore_recorder_create(1, 1000, 2, &r) == 0);
    alphacore_recorder *bad_r;
    EXPECT_ERR(alphacore_recorder_create(0, 1000, 2, &bad_r), EINVAL);
    EXPECT(bad_r == NULL);
    EXPECT_ERR(alphacore_recorder_create(1, 1000, 2, NULL), EINVAL);
    EXPECT_ERR(alphacore_recorder_record(NULL, 1), EINVAL);
    EXPECT_ERR(alphacore_recorder_record(r, -1), ERANGE);
    EXPECT_ERR(alphacore_recorder_record(r, INT64_MAX), ERANGE);
    EXPECT_ERR(alphacore_recorder_record_batch(NULL, v, 3), EINVAL);
    EXPECT_ERR(alphacore_recorder_record_batch(r, NULL, 3), EINVAL);
    for (size_t i = 0; i < N_ELEMS(ns); i++) EXPECT_ERR(alphacore_recorder_record_batch(r, v, ns[i]), EINVAL);
    EXPECT_ERR(alphacore_recorder_record_batch(r, w, 3), ERANGE);
    EXPECT_ERR(alphacore_recorder_sample(NULL, h), EINVAL);
    EXPECT_ERR(alphacore_recorder_sample(r, NULL), EINVAL);
    alphacore_hist *other;
    EXPECT(alphacore_hist_create(1, 100000, 4, &other) == 0);
    EXPECT_ERR(alphacore_recorder_sample(r, other), EINVAL);
    EXPECT(alphacore_recorder_sample(r, h) == 0 && alphacore_hist_total_count(h) == 0);
    alphacore_recorder_destroy(r);
    alphacore_hist_destroy(other);
    alphacore_hist_destroy(h);
    return 0;
}

static int t_hist_queries(void) {
    alphacore_hist *h;
    EXPECT(alphacore_hist_create(1, 1000000, 3, &h) == 0);
    const double bad[] = {NAN, -NAN, INFINITY, -INFINITY, -1e-300, -0.5, 100.0000001, 1e300, DBL_MAX};
    for (size_t i = 0; i < N_ELEMS(bad); i++) EXPECT_ERR(alphacore_hist_value_at_percentile(h, bad[i]), EINVAL);
    EXPECT(alphacore_hist_value_at_percentile(h, 50) == 0);   /* empty */
    EXPECT(alphacore_hist_value_at_percentile(h, -0.0) == 0);
    EXPECT_ERR(alphacore_hist_value_at_percentile(NULL, 50), EINVAL);
    for (int64_t v = 1; v <= 1000; v++) alphacore_hist_record(h, v);
    double p[3] = {50, NAN, 99};
    int64_t out[3];
    EXPECT(alphacore_hist_value_at_percentiles(h, p, out, 0) == 0);
    EXPECT(alphacore_hist_value_at_percentiles(h, NULL, NULL, 0) == 0);
    EXPECT_ERR(alphacore_hist_value_at_percentiles(NULL, p, out, 1), EINVAL);
    EXPECT_ERR(alphacore_hist_value_at_percentiles(h, NULL, out, 1), EINVAL);
    EXPECT_ERR(alphacore_hist_value_at_percentiles(h, p, NULL, 1), EINVAL);
    EXPECT_ERR(alphacore_hist_value_at_percentiles(h, p, out, 3), EINVAL);
    EXPECT_ERR(alphacore_hist_value_at_percentiles(h, p, out, SIZE_MAX), EINVAL);
    EXPECT_ERR(alphacore_hist_value_at_percentiles(h, p, out, (size_t)1 << 40), EINVAL);
    EXPECT_ERR(alphacore_hist_min(NULL), EINVAL);
    EXPECT_ERR(alphacore_hist_max(NULL), EINVAL);
    EXPECT(isnan(alphacore_hist_mean(NULL)));
    EXPECT(isnan(alphacore_hist_stddev(NULL)));
    double m;
    EXPECT_ERR(alphacore_hist_mean_stddev(NULL, &m, &m), EINVAL);
    EXPECT_ERR(alphacore_hist_mean_stddev(h, NULL, NULL), EINVAL);
    EXPECT_ERR(alphacore_hist_total_count(NULL), EINVAL);
    EXPECT_ERR(alphacore_hist_footprint(NULL), EINVAL);
    EXPECT_ERR(alphacore_hist_count_at_value(NULL, 1), EINVAL);
    EXPECT_ERR(alphacore_hist_count_at_value(h, INT64_MIN), ERANGE);
    EXPECT_ERR(alphacore_hist_count_at_value(h, -1), ERANGE);
    EXPECT_ERR(alphacore_hist_count_at_value(h, INT64_MAX), ERANGE);
    EXPECT_ERR(alphacore_hist_add(NULL, h), EINVAL);
    EXPECT_ERR(alphacore_hist_add(h, NULL), EINVAL);
    EXPECT(alphacore_hist_add(h, h) == 0 && alphacore_hist_total_count(h) == 2000);
    alphacore_hist *big;
    EXPECT(alphacore_hist_create(1, 1000000, 3, &big) == 0);
    EXPECT(alphacore_hist_record_n(big, 7, ALPHACORE_HIST_MAX_TOTAL - 10) == 0);
    EXPECT_ERR(alphacore_hist_add(h, big), EOVERFLOW);
    EXPECT(alphacore_hist_total_count(h) == 2000);
    EXPECT_ERR(alphacore_hist_set_times(NULL, 1, 2), EINVAL);
    EXPECT_ERR(alphacore_hist_get_times(NULL, NULL, NULL), EINVAL);
    EXPECT(alphacore_hist_set_times(h, INT64_MIN, INT64_MAX) == 0);
    EXPECT(alphacore_hist_get_times(h, NULL, NULL) == 0);
    alphacore_hist_destroy(big);
    alphacore_hist_destroy(h);
    return 0;
}

/* n percentiles in one call must cost about n log n, not n^2: a million of them on a histogram
 * of a million distinct values answers in well under the alarm. */
static int t_hist_many_percentiles(void) {
    alphacore_hist *h;
    EXPECT(alphacore_hist_create(1, 10000000, 3, &h) == 0);
    for (int64_t v = 1; v <= 1000000; v++) alphacore_hist_record(h, v);
    size_t n = (size_t)1 << 20;
    double *p = malloc(n * sizeof *p);
    int64_t *v = malloc(n * sizeof *v);
    EXPECT(p && v);
    for (size_t i = 0; i < n; i++) p[i] = 100.0 * (double)(n - i) / (double)n;   /* descending */
    double t0 = cpu_s();
    EXPECT(alphacore_hist_value_at_percentiles(h, p, v, n) == 0);
    double el = cpu_s() - t0;
    EXPECT(el < 5.0);
    for (size_t i = 0; i < n; i += 4099) EXPECT(v[i] == alphacore_hist_value_at_percentile(h, p[i]));
    free(p);
    free(v);
    alphacore_hist_destroy(h);
    return 0;
}

/* Coordinated-omission correction with a tiny expected interval must not take time in
 * proportion to value / interval (2^40 steps here), and must count exactly what the
 * step-by-step definition counts. */
static int t_hist_corrected(void) {
    alphacore_hist *h, *ref;
    EXPECT(alphacore_hist_create(1, INT64_C(1) << 50, 3, &h) == 0);
    double t0 = cpu_s();
    EXPECT(alphacore_hist_record_corrected(h, INT64_C(1) << 40, 1) == 0);
    EXPECT(cpu_s() - t0 < 5.0);
    EXPECT(alphacore_hist_total_count(h) == INT64_C(1) << 40);
    EXPECT(alphacore_hist_min(h) == 1);
    EXPECT(alphacore_hist_max(h) == alphacore_hist_max(h));
    alphacore_hist_destroy(h);
    /* Against the definition, for several (value, interval) pairs, into a histogram that
     * already holds values (min and max must merge). */
    const int64_t cases[][4] = {{1000000, 7, 1, 3}, {999999, 1000, 1, 3}, {123456789, 12345, 1, 3}, {5000, 5000, 1, 3},
                                {5001, 5000, 1, 3}, {10000000, 3, 1, 3}, {1 << 20, 1, 1, 3}, {10000000, 3, 1000, 2},
                                {77777777, 13, 1024, 1}, {4000000, 1, 1, 5}};
    for (size_t c = 0; c < N_ELEMS(cases); c++) {
        int64_t value = cases[c][0], e = cases[c][1];
        EXPECT(alphacore_hist_create(cases[c][2], INT64_C(1) << 40, (int)cases[c][3], &h) == 0);
        EXPECT(alphacore_hist_create(cases[c][2], INT64_C(1) << 40, (int)cases[c][3], &ref) == 0);
        alphacore_hist_record(h, 2);
        alphacore_hist_record(ref, 2);
        EXPECT(alphacore_hist_record_corrected(h, value, e) == 0);
        alphacore_hist_record(ref, value);
        for (int64_t m = value - e; m >= e; m -= e) alphacore_hist_record(ref, m);
        EXPECT(alphacore_hist_total_count(h) == alphacore_hist_total_count(ref));
        EXPECT(alphacore_hist_min(h) == alphacore_hist_min(ref));
        EXPECT(alphacore_hist_max(h) == alphacore_hist_max(ref));
        static char a[1 << 16], b[1 << 16];
        EXPECT(alphacore_hist_encode(h, a, sizeof a) > 0);
        EXPECT(alphacore_hist_encode(ref, b, sizeof b) > 0);
        EXPECT(strcmp(a, b) == 0);
        alphacore_hist_destroy(h);
        alphacore_hist_destroy(ref);
    }
    return 0;
}

static int t_hist_text(void) {
    alphacore_hist *h;
    EXPECT(alphacore_hist_create(1, 1000000, 3, &h) == 0);
    alphacore_hist_record(h, 42);
    char buf[64];
    const int ticks[] = {INT_MIN, -1, 0, INT_MAX};
    for (size_t i = 0; i < N_ELEMS(ticks); i++) EXPECT_ERR(alphacore_hist_format_percentiles(h, ticks[i], 1.0, buf, sizeof buf), EINVAL);
    const double scales[] = {NAN, INFINITY, -INFINITY, 0.0, -0.0, -1.0};
    for (size_t i = 0; i < N_ELEMS(scales); i++) EXPECT_ERR(alphacore_hist_format_percentiles(h, 5, scales[i], buf, sizeof buf), EINVAL);
    EXPECT_ERR(alphacore_hist_format_percentiles(NULL, 5, 1.0, buf, sizeof buf), EINVAL);
    EXPECT_ERR(alphacore_hist_format_percentiles(h, 5, 1.0, NULL, 5), EINVAL);
    EXPECT_ERR(alphacore_hist_format_percentiles(h, 5, 1.0, NULL, SIZE_MAX), EINVAL);
    EXPECT_ERR(alphacore_hist_format_percentiles(h, 5, 1.0, buf, SIZE_MAX), EINVAL);
    EXPECT(alphacore_hist_format_percentiles(h, 5, 1.0, NULL, 0) > 0);
    EXPECT(alphacore_hist_format_percentiles(h, 5, 1e-300, NULL, 0) > 0);    /* 300-digit values */
    EXPECT(alphacore_hist_format_percentiles(h, 5, 5e-324, NULL, 0) > 0);    /* infinite values */
    EXPECT(alphacore_hist_format_percentiles(h, 5, 1.0, buf, 1) > 0 && buf[0] == 0);
    EXPECT_ERR(alphacore_hist_encode(NULL, buf, sizeof buf), EINVAL);
    EXPECT_ERR(alphacore_hist_encode(h, NULL, 5), EINVAL);
    EXPECT_ERR(alphacore_hist_encode(h, buf, SIZE_MAX), EINVAL);
    const int levels[] = {INT_MIN, -2, 10, INT_MAX};
    for (size_t i = 0; i < N_ELEMS(levels); i++) EXPECT_ERR(alphacore_hist_encode_level(h, levels[i], buf, sizeof buf), EINVAL);
    EXPECT_ERR(alphacore_hist_log_header(0, 0, NULL, 3), EINVAL);
    EXPECT_ERR(alphacore_hist_log_header(0, 0, buf, SIZE_MAX), EINVAL);
    for (size_t i = 0; i < N_ELEMS(i64_edges); i++)
        for (size_t j = 0; j < N_ELEMS(i64_edges); j++) {
            EXPECT(alphacore_hist_log_header(i64_edges[i], i64_edges[j], NULL, 0) > 0);
            EXPECT(alphacore_hist_set_times(h, i64_edges[i], i64_edges[j]) == 0);
            EXPECT(alphacore_hist_log_interval(h, NULL, i64_edges[j], 1e6, NULL, 0) > 0);
        }
    const double divisors[] = {NAN, INFINITY, 0.0, -1.0};
    for (size_t i = 0; i < N_ELEMS(divisors); i++) EXPECT_ERR(alphacore_hist_log_interval(h, NULL, 0, divisors[i], NULL, 0), EINVAL);
    EXPECT(alphacore_hist_log_interval(h, NULL, 0, 5e-324, NULL, 0) > 0);
    const char *tags[] = {"", "a,b", "a b", "a\nb", "a\tb",
                          "0123456789012345678901234567890123456789012345678901234567890123"};
    for (size_t i = 0; i < N_ELEMS(tags); i++) EXPECT_ERR(alphacore_hist_log_interval(h, tags[i], 0, 1.0, NULL, 0), EINVAL);
    EXPECT_ERR(alphacore_hist_log_interval(NULL, NULL, 0, 1.0, NULL, 0), EINVAL);
    /* A long tag must be refused after reading at most 64 bytes of it. */
    char longtag[100];
    memset(longtag, 'x', sizeof longtag);
    char *edge = at_page_end(longtag, sizeof longtag);
    EXPECT(edge != NULL);
    EXPECT_ERR(alphacore_hist_log_interval(h, edge, 0, 1.0, NULL, 0), EINVAL);
    alphacore_hist_destroy(h);
    return 0;
}

/* The percentile table is text whose size grows with ticks_per_half_distance: a large tick
 * count on a histogram with a long tail must be refused, not build gigabytes of text. */
static int t_hist_text_ticks(void) {
    alphacore_hist *h;
    EXPECT(alphacore_hist_create(1, 1000000, 3, &h) == 0);
    EXPECT(alphacore_hist_record_n(h, 1, INT64_MAX / 2) == 0);
    EXPECT(alphacore_hist_record(h, 999999) == 0);
    EXPECT_ERR(alphacore_hist_format_percentiles(h, 1000000, 1.0, NULL, 0), EINVAL);
    EXPECT_ERR(alphacore_hist_format_percentiles(h, 1001, 1.0, NULL, 0), EINVAL);
    double t0 = cpu_s();
    int64_t n = alphacore_hist_format_percentiles(h, 1000, 1.0, NULL, 0);   /* the largest allowed */
    EXPECT(cpu_s() - t0 < 5.0);
    EXPECT(n > 0 && n < (INT64_C(16) << 20));
    n = alphacore_hist_format_percentiles(h, 5, 1.0, NULL, 0);
    EXPECT(n > 0);
    alphacore_hist_destroy(h);
    return 0;
}

static int t_hist_decode(void) {
    alphacore_hist *h = (alphacore_hist *)1;
    EXPECT_ERR(alphacore_hist_decode("HISTFAAA", 8, NULL), EINVAL);
    EXPECT_ERR(alphacore_hist_decode(NULL, 8, &h), EINVAL);
    EXPECT(h == NULL);
    EXPECT_ERR(alphacore_hist_decode("x", SIZE_MAX, &h), E2BIG);
    EXPECT_ERR(alphacore_hist_decode("x", (size_t)1 << 40, &h), E2BIG);
    EXPECT_ERR(alphacore_hist_decode("x", SIZE_MAX / 2 + 1, &h), E2BIG);
    const char *junk[] = {"", " ", "====", "HIST", "HISTFAAA", "HISTFAAAAAAAAAAA", "!!!!", "HISTFAAA====",
                          "HISTIgAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAAA"};
    for (size_t i = 0; i < N_ELEMS(junk); i++) {
        int rc = alphacore_hist_decode(junk[i], strlen(junk[i]), &h);
        EXPECT_NEG(rc);
        EXPECT_DETAIL();
        EXPECT(h == NULL);
    }
    /* A valid encoding at the very end of readable memory, no NUL after it: decode reads
     * exactly len bytes. */
    alphacore_hist *src;
    EXPECT(alphacore_hist_create(1, 1000000, 3, &src) == 0);
    alphacore_hist_record(src, 12345);
    char text[256];
    int64_t len = alphacore_hist_encode(src, text, sizeof text);
    EXPECT(len > 0 && len < (int64_t)sizeof text);
    char *edge = at_page_end(text, (size_t)len);
    EXPECT(edge != NULL);
    EXPECT(alphacore_hist_decode(edge, (size_t)len, &h) == 0);
    EXPECT(alphacore_hist_total_count(h) == 1);
    alphacore_hist_destroy(h);
    /* Every prefix of it is refused, never read past. */
    for (int64_t k = 0; k < len; k++) {
        char *e = at_page_end(text, (size_t)k);
        EXPECT(e != NULL);
        EXPECT_NEG(alphacore_hist_decode(e, (size_t)k, &h));
        page_end_free(e, (size_t)k);
    }
    alphacore_hist_destroy(src);
    return 0;
}

static int t_hist_log(void) {
    alphacore_hist_log_reader *r = (alphacore_hist_log_reader *)1;
    alphacore_hist *h;
    EXPECT_ERR(alphacore_hist_log_reader_create("x", 1, NULL), EINVAL);
    EXPECT_ERR(alphacore_hist_log_reader_create(NULL, 5, &r), EINVAL);
    EXPECT(r == NULL);
    EXPECT_ERR(alphacore_hist_log_reader_create("x", SIZE_MAX, &r), E2BIG);
    EXPECT_ERR(alphacore_hist_log_reader_create("x", (size_t)1 << 40, &r), E2BIG);
    EXPECT(alphacore_hist_log_reader_create(NULL, 0, &r) == 0);
    EXPECT(alphacore_hist_log_reader_next(r, &h, NULL) == 0);
    EXPECT_ERR(alphacore_hist_log_reader_next(r, NULL, NULL), EINVAL);
    EXPECT_ERR(alphacore_hist_log_reader_next(NULL, &h, NULL), EINVAL);
    alphacore_hist_log_entry e = ALPHACORE_HIST_LOG_ENTRY_INIT;
    e.struct_size = 0;
    EXPECT_ERR(alphacore_hist_log_reader_next(r, &h, &e), EINVAL);
    alphacore_hist_log_reader_destroy(r);
    const char *logs[] = {
        "1,2,3\n", ",,,\n", "a,b,c,d\n", "1e999,1,1,HISTFAAA\n", "nan,1,1,HISTFAAA\n", "-inf,1,1,x\n",
        "Tag=,1,2,3,4\n", "Tag=0123456789012345678901234567890123456789012345678901234567890123456789,1,2,3,HIST\n",
        "#[StartTime: 99999999999999999999999999999999999999 (seconds since epoch)]\n1,2,3,HISTFAAA\n",
        "#[BaseTime: .\n1,1,1,x\n", "1,1,1,\n", "\r\n\r\n,\r\n",
    };
    for (size_t i = 0; i < N_ELEMS(logs); i++) {
        EXPECT(alphacore_hist_log_reader_create(logs[i], strlen(logs[i]), &r) == 0);
        int rc;
        e = (alphacore_hist_log_entry)ALPHACORE_HIST_LOG_ENTRY_INIT;
        while ((rc = alphacore_hist_log_reader_next(r, &h, &e)) == 1) alphacore_hist_destroy(h);
        EXPECT(rc <= 0);
        alphacore_hist_log_reader_destroy(r);
    }
    /* Log text at the end of readable memory without a final newline or NUL. */
    const char *tail = "#[StartTime: 1700000000.000 (seconds since epoch)]\n0.0,1.0,1.0,HISTFAAAACF4nJNpmSzMwMDAzAABTFCaEUIxv7D/AGH9ZecCAE/tBHU=";
    char *edge = at_page_end(tail, strlen(tail));
    EXPECT(edge != NULL);
    EXPECT(alphacore_hist_log_reader_create(edge, strlen(tail), &r) == 0);
    EXPECT(alphacore_hist_log_reader_next(r, &h, &e) == 1);
    alphacore_hist_destroy(h);
    EXPECT(alphacore_hist_log_reader_next(r, &h, &e) == 0);
    alphacore_hist_log_reader_destroy(r);
    return 0;
}

/* ---- allocation failure ---------------------------------------------------------------------- */

/* Caps the address space at what the process maps now plus `headroom`: a larger allocation
 * then fails (malloc returns NULL). The library must answer -ENOMEM, not abort. */
static int limit_address_space(size_t headroom) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %llu kB", &kb) == 1) break;
    fclose(f);
    if (kb == 0) return -1;
    struct rlimit rl = {(rlim_t)(kb * 1024 + headroom), (rlim_t)(kb * 1024 + headroom)};
    return setrlimit(RLIMIT_AS, &rl);
}

static char *filled(size_t n, char c) {
    char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    memset(p, c, n);
    return p;
}

/* 64 MiB of valid base64 characters: decoding needs a 48 MiB buffer that cannot be had. */
static int t_alloc_decode(void) {
    size_t n = (size_t)64 << 20;
    char *text = filled(n, 'A');
    EXPECT(text != NULL);
    EXPECT(limit_address_space((size_t)16 << 20) == 0);
    alphacore_hist *h = (alphacore_hist *)1;
    EXPECT_ERR(alphacore_hist_decode(text, n, &h), ENOMEM);
    EXPECT(h == NULL);
    EXPECT_DETAIL();
    return 0;
}

/* A 64 MiB log: the copy cannot be made (-ENOMEM); with room for the copy only, reading its
 * one 64 MiB line must not need another copy of it. */
static int t_alloc_log(void) {
    size_t n = (size_t)64 << 20;
    char *text = filled(n, 'A');
    EXPECT(text != NULL);
    memcpy(text, "0.0,1.0,1.0,", 12);
    pid_t pid = fork();
    if (pid == 0) {
        alphacore_hist_log_reader *r = (alphacore_hist_log_reader *)1;
        if (limit_address_space((size_t)16 << 20) != 0) _exit(3);
        int rc = alphacore_hist_log_reader_create(text, n, &r);
        _exit(rc == -ENOMEM && r == NULL ? 0 : 1);
    }
    int st;
    EXPECT(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    EXPECT(limit_address_space((size_t)96 << 20) == 0);
    alphacore_hist_log_reader *r;
    EXPECT(alphacore_hist_log_reader_create(text, n, &r) == 0);
    alphacore_hist *h;
    int rc = alphacore_hist_log_reader_next(r, &h, NULL);
    EXPECT(rc == -ALPHACORE_EFORMAT || rc == -ENOMEM);
    alphacore_hist_log_reader_destroy(r);
    return 0;
}

/* Encoding the largest configuration with every slot in use needs ~50 MB of payload scratch
 * and as much for deflate's output: with the address space nearly full it is -ENOMEM, with
 * the histogram intact; with room, the same call succeeds. */
static int t_alloc_encode(void) {
    alphacore_hist *h;
    EXPECT(alphacore_hist_create(1, INT64_MAX, 5, &h) == 0);
    int64_t footprint = alphacore_hist_footprint(h);
    EXPECT(footprint > (int64_t)40 << 20);
    alphacore_hist_layout_v1 *l = (alphacore_hist_layout_v1 *)(void *)h;
    int64_t *counts = (int64_t *)(void *)((char *)(void *)h + 104);
    for (int32_t i = 0; i < l->counts_len; i++) counts[i] = 1 + (i & 0x7fff) * 9973;  /* 3-byte varints */
    EXPECT(alphacore_hist_record(h, INT64_MAX) == 0);   /* sets max; the total is now off, that is fine */
    char probe[64];
    EXPECT(alphacore_hist_encode_level(h, 1, probe, sizeof probe) > (int64_t)sizeof probe);   /* with room */
    EXPECT(limit_address_space((size_t)24 << 20) == 0);
    char buf[64];
    EXPECT_ERR(alphacore_hist_encode(h, buf, sizeof buf), ENOMEM);
    EXPECT_DETAIL();
    EXPECT_ERR(alphacore_hist_encode_level(h, 1, buf, sizeof buf), ENOMEM);
    EXPECT(alphacore_hist_max(h) > 0);
    alphacore_hist_destroy(h);
    return 0;
}

/* 4M percentiles: the working arrays (2 x 32 MiB) cannot be had. */
static int t_alloc_percentiles(void) {
    alphacore_hist *h;
    EXPECT(alphacore_hist_create(1, 1000000, 3, &h) == 0);
    for (int64_t v = 1; v <= 1000; v++) alphacore_hist_record(h, v);
    size_t n = (size_t)1 << 22;
    double *p = (double *)(void *)filled(n * sizeof *p, 0);
    int64_t *v = (int64_t *)(void *)filled(n * sizeof *v, 0);
    EXPECT(p && v);
    for (size_t i = 0; i < n; i++) p[i] = (double)(i % 101);
    EXPECT(limit_address_space((size_t)16 << 20) == 0);
    int rc = alphacore_hist_value_at_percentiles(h, p, v, n);
    EXPECT(rc == 0 || rc == -ENOMEM);
    if (rc == 0) EXPECT(v[50] == alphacore_hist_value_at_percentile(h, 50.0));
    alphacore_hist_destroy(h);
    return 0;
}

/* ---- CPU placement --------------------------------------------------------------------------- */

static int affinity_is(const char *expected) {
    char now[4096];
    return alphacore_thread_affinity(now, sizeof now) >= 0 && strcmp(now, expected) == 0;
}

static int t_cpu_topology(void) {
    char buf[64];
    uint64_t words[4] = {0};
    const int which[] = {INT_MIN, -1, 7, 8, INT_MAX};
    for (size_t i = 0; i < N_ELEMS(which); i++) {
        EXPECT_ERR(alphacore_topology_list(which[i], buf, sizeof buf), EINVAL);
        EXPECT_ERR(alphacore_topology_mask(which[i], words, 4), EINVAL);
    }
    EXPECT_ERR(alphacore_topology_list(0, NULL, 4), EINVAL);
    EXPECT_ERR(alphacore_topology_list(0, NULL, SIZE_MAX), EINVAL);
    EXPECT_ERR(alphacore_topology_list(0, buf, SIZE_MAX), EINVAL);
    EXPECT_ERR(alphacore_topology_mask(0, NULL, 4), EINVAL);
    EXPECT_ERR(alphacore_topology_mask(0, words, SIZE_MAX), EINVAL);
    EXPECT(alphacore_topology_mask(0, NULL, 0) >= 1);
    EXPECT_ERR(alphacore_cpus_allowed_source(NULL, 4), EINVAL);
    EXPECT_ERR(alphacore_cpus_allowed_source(buf, SIZE_MAX), EINVAL);
    EXPECT_ERR(alphacore_thread_affinity(NULL, 4), EINVAL);
    EXPECT_ERR(alphacore_thread_name_get(NULL, 4), EINVAL);
    for (size_t i = 0; i < N_ELEMS(int_edges); i++) {
        int c = int_edges[i];
        EXPECT_NEG(alphacore_cpu_node(c));
        alphacore_cpu_info info = ALPHACORE_CPU_INFO_INIT;
        EXPECT_ERR(alphacore_cpu_info_get(c, &info), EINVAL);
        EXPECT_ERR(alphacore_cpu_siblings(c, buf, sizeof buf), EINVAL);
        EXPECT_ERR(alphacore_node_cpus(c, buf, sizeof buf), ENOENT);
        uint64_t t, f;
        EXPECT_ERR(alphacore_node_memory(c, &t, &f), ENOENT);
        EXPECT_ERR(alphacore_node_distance(c, 0), ENOENT);
        EXPECT_ERR(alphacore_node_distance(0, c), ENOENT);
    }
    EXPECT_ERR(alphacore_cpu_info_get(0, NULL), EINVAL);
    /* struct_size below 8 is refused; 8 writes exactly 8 bytes; a huge one writes what we know. */
    unsigned char raw[256];
    memset(raw, 0xAB, sizeof raw);
    const uint32_t small[] = {0, 4, 7};
    for (size_t i = 0; i < N_ELEMS(small); i++) {
        memcpy(raw, &small[i], 4);
        EXPECT_ERR(alphacore_cpu_info_get(0, (alphacore_cpu_info *)(void *)raw), EINVAL);
    }
    uint32_t eight = 8;
    memcpy(raw, &eight, 4);
    EXPECT(alphacore_cpu_info_get(0, (alphacore_cpu_info *)(void *)raw) == 0);
    for (size_t i = 8; i < sizeof raw; i++) EXPECT(raw[i] == 0xAB);
    uint32_t huge = UINT32_MAX;
    memcpy(raw, &huge, 4);
    EXPECT(alphacore_cpu_info_get(0, (alphacore_cpu_info *)(void *)raw) == 0);
    for (size_t i = sizeof(alphacore_cpu_info); i < sizeof raw; i++) EXPECT(raw[i] == 0xAB);
    EXPECT(alphacore_node_memory(0, NULL, NULL) == 0);
    return 0;
}

static int t_cpu_lists(void) {
    uint64_t words[4];
    char buf[64];
    const char *bad[] = {"", " ", "-1", "1-0", "0--1", "0,", ",0", "0,,1", "a", "0x1", "+1", "1 ", "0-",
                         "99999999999999999999999999", "1048576", "0-1048576", "\xff", "0-1\n"};
    for (size_t i = 0; i < N_ELEMS(bad); i++) {
        int rc = alphacore_cpulist_parse(bad[i], words, 4);
        EXPECT(rc == -EINVAL || rc == -ERANGE);
        EXPECT_DETAIL();
    }
    EXPECT_ERR(alphacore_cpulist_parse(NULL, words, 4), EINVAL);
    EXPECT_ERR(alphacore_cpulist_parse("0", NULL, 4), EINVAL);
    EXPECT_ERR(alphacore_cpulist_parse("0", words, SIZE_MAX), EINVAL);
    EXPECT_ERR(alphacore_cpulist_parse("0", NULL, 0), ERANGE);
    EXPECT_ERR(alphacore_cpulist_parse("0-1048575", words, 4), ERANGE);
    EXPECT(alphacore_cpulist_parse("0-255", words, 4) == 256);
    /* A string far longer than any list: refused without reading all of it. */
    size_t big = (size_t)1 << 22;
    char *s = malloc(big + 1);
    EXPECT(s != NULL);
    memset(s, '1', big);
    s[big] = 0;
    EXPECT_ERR(alphacore_cpulist_parse(s, words, 4), EINVAL);
    EXPECT_NEG(alphacore_pin_thread_list(s));
    EXPECT_NEG(alphacore_roles_set(s));
    EXPECT_NEG(alphacore_thread_name_set(s));
    free(s);
    EXPECT_ERR(alphacore_cpulist_format(NULL, 1, buf, sizeof buf), EINVAL);
    EXPECT_ERR(alphacore_cpulist_format(words, SIZE_MAX, buf, sizeof buf), EINVAL);
    EXPECT_ERR(alphacore_cpulist_format(words, (size_t)1 << 40, buf, sizeof buf), EINVAL);
    EXPECT_ERR(alphacore_cpulist_format(words, 4, NULL, 5), EINVAL);
    EXPECT_ERR(alphacore_cpulist_format(words, 4, buf, SIZE_MAX), EINVAL);
    EXPECT(alphacore_cpulist_format(NULL, 0, buf, sizeof buf) == 0 && buf[0] == 0);
    uint64_t ones[1024];
    memset(ones, 0xff, sizeof ones);
    EXPECT(alphacore_cpulist_format(ones, 1024, buf, sizeof buf) == (int)strlen("0-65535"));
    return 0;
}

static int t_cpu_pin(void) {
    char before[4096];
    EXPECT(alphacore_thread_affinity(before, sizeof before) > 0);
    for (size_t i = 0; i < N_ELEMS(int_edges); i++) EXPECT_ERR(alphacore_pin_thread(int_edges[i]), EINVAL);
    const char *bad[] = {NULL, "", "0-1048575", "4096", "1048575", "0,4096", "x"};
    for (size_t i = 0; i < N_ELEMS(bad); i++) {
        EXPECT_NEG(alphacore_pin_thread_list(bad[i]));
        EXPECT_NEG(alphacore_pin_pthread(pthread_self(), bad[i]));
    }
    EXPECT(affinity_is(before));
    EXPECT_ERR(alphacore_pin_verify(), ENOENT);
    EXPECT_ERR(alphacore_affinity_save(NULL), EINVAL);
    EXPECT_ERR(alphacore_affinity_restore(NULL), EINVAL);
    alphacore_affinity_free(NULL);
    return 0;
}

static void *exit_at_once(void *arg) { return arg; }

/* pthread_t values that name no live thread: 0, and a detached thread that has exited. glibc
 * dereferences the handle and, for an exited thread, applies the mask to tid 0, which is the
 * calling thread: the call must fail with ESRCH and leave the caller's mask alone. */
static int t_cpu_pin_pthread(void) {
    char before[4096];
    EXPECT(alphacore_thread_affinity(before, sizeof before) > 0);
    EXPECT_ERR(alphacore_pin_pthread((pthread_t)0, "0"), ESRCH);
    EXPECT_DETAIL();
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    EXPECT(pthread_create(&t, &a, exit_at_once, NULL) == 0);
    usleep(100 * 1000);   /* it has exited */
    const char *one = "0";
    EXPECT_ERR(alphacore_pin_pthread(t, one), ESRCH);
    EXPECT(affinity_is(before));
    pthread_t u;
    EXPECT(pthread_create(&u, NULL, exit_at_once, NULL) == 0);
    EXPECT(pthread_join(u, NULL) == 0);
    EXPECT_ERR(alphacore_pin_pthread(u, one), ESRCH);
    EXPECT(affinity_is(before));
    return 0;
}

static int t_cpu_policy(void) {
    const int modes[] = {INT_MIN, -1, 5, 6, INT_MAX};
    for (size_t i = 0; i < N_ELEMS(modes); i++) EXPECT_ERR(alphacore_mem_policy_set(modes[i], NULL), EINVAL);
    const char *nodes[] = {"x", "-1", "1048575", "65536", "0-65536", "0,,1"};
    for (size_t i = 0; i < N_ELEMS(nodes); i++) EXPECT_NEG(alphacore_mem_policy_set(ALPHACORE_MPOL_BIND, nodes[i]));
    EXPECT_ERR(alphacore_mem_policy_set(ALPHACORE_MPOL_DEFAULT, "0"), EINVAL);
    EXPECT_ERR(alphacore_mem_policy_set(ALPHACORE_MPOL_PREFERRED, NULL), EINVAL);
    long page = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT(m != MAP_FAILED);
    EXPECT_ERR(alphacore_mem_bind(NULL, 4096, ALPHACORE_MPOL_LOCAL, NULL, 0), EINVAL);
    EXPECT_ERR(alphacore_mem_bind(m, 0, ALPHACORE_MPOL_LOCAL, NULL, 0), EINVAL);
    EXPECT_ERR(alphacore_mem_bind(m, SIZE_MAX, ALPHACORE_MPOL_LOCAL, NULL, 0), EINVAL);
    EXPECT_ERR(alphacore_mem_bind(m + 1, 4096, ALPHACORE_MPOL_LOCAL, NULL, 0), EINVAL);
    EXPECT_ERR(alphacore_mem_bind(m, 4096, ALPHACORE_MPOL_LOCAL, NULL, 0xFFFF), EINVAL);
    EXPECT_ERR(alphacore_mem_bind(m, 4096, INT_MAX, NULL, 0), EINVAL);
    EXPECT_NEG(alphacore_mem_bind(m, SIZE_MAX / 2, ALPHACORE_MPOL_LOCAL, NULL, 0));
    munmap(m, (size_t)page * 2);
    EXPECT_NEG(alphacore_mem_bind(m, 4096, ALPHACORE_MPOL_LOCAL, NULL, 0));   /* unmapped now */
    EXPECT_ERR(alphacore_mem_node_of(NULL), EINVAL);
    EXPECT_NEG(alphacore_mem_node_of((void *)1));
    EXPECT_NEG(alphacore_mem_node_of(m));
    EXPECT_NEG(alphacore_mem_node_of((void *)UINTPTR_MAX));
    return 0;
}

static int t_cpu_roles(void) {
    unsetenv("ALPHACORE_CPUS");
    char buf[64];
    EXPECT_ERR(alphacore_roles_set(NULL), ENOENT);
    EXPECT_ERR(alphacore_pin_role("a"), ENOENT);
    EXPECT_ERR(alphacore_pin_role(NULL), EINVAL);
    EXPECT_ERR(alphacore_role_cpus(NULL, buf, sizeof buf), EINVAL);
    const char *bad[] = {"", ";", "a", "a=", "=0", "a=0;a=0", "a=0;b=0", "a b=0", "a=0;", "a=-1", "a=1048576",
                         "a=0-1048575", "a=4096", "\xff=0"};
    for (size_t i = 0; i < N_ELEMS(bad); i++) {
        EXPECT_NEG(alphacore_roles_set(bad[i]));
        EXPECT_DETAIL();
    }
    /* The largest spec the library reads (64 KiB, thousands of roles): checked in linear time
     * (pairwise overlap checks took minutes), then refused for its CPUs beyond the possible. */
    char *big = malloc(1 << 16);
    EXPECT(big != NULL);
    size_t k = 0;
    for (int i = 0; k < (1 << 16) - 32; i++) k += (size_t)sprintf(big + k, "%sr%d=%d", i ? ";" : "", i, i * 64);
    double t0 = cpu_s();
    EXPECT_ERR(alphacore_roles_set(big), EINVAL);
    EXPECT(cpu_s() - t0 < 5.0);
    free(big);
    setenv("ALPHACORE_CPUS", "a=0;a=0", 1);
    EXPECT_ERR(alphacore_pin_role("a"), EINVAL);
    EXPECT(alphacore_roles_set("a=0") == 0);
    EXPECT_ERR(alphacore_pin_role("b"), ENOENT);
    EXPECT_ERR(alphacore_role_cpus("a", NULL, 5), EINVAL);
    EXPECT_ERR(alphacore_role_cpus("a", buf, SIZE_MAX), EINVAL);
    return 0;
}

static int t_cpu_sched(void) {
    const int nice[] = {INT_MIN, -21, 20, INT_MAX};
    for (size_t i = 0; i < N_ELEMS(nice); i++) EXPECT_ERR(alphacore_set_nice(nice[i]), EINVAL);
    const int policies[] = {INT_MIN, -1, 3, 5, INT_MAX};
    for (size_t i = 0; i < N_ELEMS(policies); i++) EXPECT_ERR(alphacore_set_realtime(policies[i], 1), EINVAL);
    const int prios[] = {INT_MIN, -1, 0, 100, INT_MAX};
    for (size_t i = 0; i < N_ELEMS(prios); i++) EXPECT_ERR(alphacore_set_realtime(ALPHACORE_SCHED_FIFO, prios[i]), EINVAL);
    EXPECT_ERR(alphacore_set_realtime(ALPHACORE_SCHED_OTHER, 1), EINVAL);
    EXPECT_ERR(alphacore_thread_name_set(NULL), EINVAL);
    EXPECT_ERR(alphacore_thread_name_set("0123456789abcdef"), ERANGE);
    return 0;
}

/* ---- memory ---------------------------------------------------------------------------------- */

static int t_mem_args(void) {
    alphacore_region r;
    alphacore_mem_opts o = ALPHACORE_MEM_OPTS_INIT;
    EXPECT_ERR(alphacore_mem_alloc(0, NULL, &r), EINVAL);
    EXPECT_ERR(alphacore_mem_alloc(4096, NULL, NULL), EINVAL);
    EXPECT_ERR(alphacore_mem_alloc(SIZE_MAX, NULL, &r), EOVERFLOW);
    EXPECT_ERR(alphacore_mem_alloc(SIZE_MAX / 2, NULL, &r), EOVERFLOW);
    EXPECT_NEG(alphacore_mem_alloc(SIZE_MAX / 4, NULL, &r));
    EXPECT_ERR(alphacore_mem_plan(SIZE_MAX, NULL, &r), EOVERFLOW);
    EXPECT_ERR(alphacore_mem_plan(4096, NULL, NULL), EINVAL);
    /* struct_size: too small, too large, a longer struct with a zero or non-zero tail */
    unsigned char raw[512] = {0};
    memcpy(raw, &o, sizeof o);
    const uint32_t sizes[] = {0, 1, 3, 65537, UINT32_MAX};
    for (size_t i = 0; i < N_ELEMS(sizes); i++) {
        memcpy(raw, &sizes[i], 4);
        EXPECT_ERR(alphacore_mem_alloc(4096, (const alphacore_mem_opts *)(void *)raw, &r), EINVAL);
    }
    uint32_t longer = sizeof raw;
    memcpy(raw, &longer, 4);
    EXPECT(alphacore_mem_plan(4096, (const alphacore_mem_opts *)(void *)raw, &r) == 0);
    raw[sizeof raw - 1] = 1;
    EXPECT_ERR(alphacore_mem_plan(4096, (const alphacore_mem_opts *)(void *)raw, &r), E2BIG);
    /* Issue 18 finding 4: smaller than the first published struct (0.1: the whole struct) is
     * EINVAL, for every export that takes the struct. */
    const uint32_t shorter[] = {4, 8, sizeof(alphacore_mem_opts) - 1};
    for (size_t i = 0; i < N_ELEMS(shorter); i++) {
        memcpy(raw, &shorter[i], 4);
        EXPECT_ERR(alphacore_mem_plan(4096, (const alphacore_mem_opts *)(void *)raw, &r), EINVAL);
        EXPECT_ERR(alphacore_mem_alloc(4096, (const alphacore_mem_opts *)(void *)raw, &r), EINVAL);
        EXPECT_ERR(alphacore_mem_shared_create("/ac-never-created", 4096, (const alphacore_mem_opts *)(void *)raw, &r), EINVAL);
    }
    o = (alphacore_mem_opts)ALPHACORE_MEM_OPTS_INIT;
    o.flags = 0xFFFFFFFFu;
    EXPECT_ERR(alphacore_mem_plan(4096, &o, &r), EINVAL);
    const int32_t nodes[] = {INT32_MIN, -2, 1 << 20, INT32_MAX};
    for (size_t i = 0; i < N_ELEMS(nodes); i++) {
        o = (alphacore_mem_opts)ALPHACORE_MEM_OPTS_INIT;
        o.node = nodes[i];
        EXPECT_ERR(alphacore_mem_alloc(4096, &o, &r), EINVAL);
    }
    const uint64_t pages[] = {1, 3, 4095, 8192, UINT64_MAX, (uint64_t)1 << 63};
    for (size_t i = 0; i < N_ELEMS(pages); i++) {
        o = (alphacore_mem_opts)ALPHACORE_MEM_OPTS_INIT;
        o.page_size = pages[i];
        EXPECT_ERR(alphacore_mem_alloc(4096, &o, &r), EINVAL);
    }
    o = (alphacore_mem_opts)ALPHACORE_MEM_OPTS_INIT;
    o.reserved0 = 1;
    EXPECT_ERR(alphacore_mem_alloc(4096, &o, &r), EINVAL);
    o = (alphacore_mem_opts)ALPHACORE_MEM_OPTS_INIT;
    o.reserved[3] = 1;
    EXPECT_ERR(alphacore_mem_alloc(4096, &o, &r), EINVAL);
    alphacore_hugepage_pool pools[2];
    EXPECT_ERR(alphacore_hugepage_pools(NULL, 1), EINVAL);
    EXPECT_ERR(alphacore_hugepage_pools(NULL, SIZE_MAX), EINVAL);
    EXPECT_ERR(alphacore_hugepage_pools(pools, SIZE_MAX), EINVAL);
    EXPECT(alphacore_hugepage_pools(NULL, 0) >= 0);
    return 0;
}

static int t_mem_regions(void) {
    alphacore_region r, copy, forged;
    char buf[256];
    EXPECT(alphacore_mem_alloc(8192, NULL, &r) == 0);
    copy = r;
    memset(&forged, 0, sizeof forged);
    EXPECT_ERR(alphacore_mem_free(NULL), EINVAL);
    EXPECT_ERR(alphacore_mem_free(&forged), EINVAL);
    forged = r;
    forged.cookie ^= 1;
    EXPECT_ERR(alphacore_mem_free(&forged), EINVAL);
    forged = r;
    forged.size = UINT64_MAX;
    EXPECT_ERR(alphacore_mem_free(&forged), EINVAL);
    forged = r;
    forged.backing = 99;
    EXPECT_ERR(alphacore_mem_free(&forged), EINVAL);
    forged = r;
    forged.addr = (char *)r.addr + 4096;
    EXPECT_ERR(alphacore_mem_free(&forged), EINVAL);
    ((char *)r.addr)[8191] = 1;   /* still mapped */
    EXPECT_ERR(alphacore_mem_report(NULL, buf, sizeof buf), EINVAL);
    EXPECT_ERR(alphacore_mem_report(&r, NULL, 5), EINVAL);
    EXPECT_ERR(alphacore_mem_report(&r, buf, SIZE_MAX), EINVAL);
    forged = r;
    forged.refused[0] = INT32_MIN;
    forged.refused[1] = INT32_MAX;
    forged.refused[2] = -ERANGE;
    forged.refused[3] = 1;
    forged.node = INT32_MIN;
    forged.requested = UINT64_MAX / 2;
    forged.cookie = 0;
    EXPECT(alphacore_mem_report(&forged, NULL, 0) > 0);
    forged.backing = -1;
    EXPECT_ERR(alphacore_mem_report(&forged, NULL, 0), EINVAL);
    EXPECT(alphacore_mem_free(&r) == 0);
    EXPECT_ERR(alphacore_mem_free(&copy), EINVAL);   /* the registry promises detection */
    EXPECT_ERR(alphacore_mem_free(&r), EINVAL);
    return 0;
}

static int t_mem_shared(void) {
    alphacore_region r;
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    const char *bad[] = {NULL, "", ".x", "..", "a/b", "../../etc/passwd", "a b", "a\n", "\xff", longname};
    for (size_t i = 0; i < N_ELEMS(bad); i++) {
        EXPECT_ERR(alphacore_mem_shared_create(bad[i], 4096, NULL, &r), EINVAL);
        EXPECT_ERR(alphacore_mem_shared_open(bad[i], NULL, &r), EINVAL);
        EXPECT_ERR(alphacore_mem_shared_unlink(bad[i]), EINVAL);
    }
    char name[64];
    snprintf(name, sizeof name, "hostile-%d-%08x", (int)getpid(), (unsigned)random_u32());   /* pid + random */
    EXPECT_ERR(alphacore_mem_shared_open(name, NULL, &r), ENOENT);
    EXPECT_ERR(alphacore_mem_shared_unlink(name), ENOENT);
    EXPECT_ERR(alphacore_mem_shared_create(name, 0, NULL, &r), EINVAL);
    EXPECT_ERR(alphacore_mem_shared_create(name, SIZE_MAX, NULL, &r), EOVERFLOW);
    EXPECT_ERR(alphacore_mem_shared_create(name, 4096, NULL, NULL), EINVAL);
    EXPECT_ERR(alphacore_mem_shared_open(name, NULL, NULL), EINVAL);
    /* A file of the right name but the wrong size (not whole pages; empty) is refused. */
    char path[128];
    snprintf(path, sizeof path, "/dev/shm/alphacore.%s", name);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd >= 0) {
        EXPECT_ERR(alphacore_mem_shared_open(name, NULL, &r), EINVAL);
        EXPECT(ftruncate(fd, 100) == 0);
        EXPECT_ERR(alphacore_mem_shared_open(name, NULL, &r), EINVAL);
        close(fd);
        EXPECT(alphacore_mem_shared_unlink(name) == 0);
    }
    /* /dev/shm is world-writable: a link planted under a region's name must not be followed
     * (the file it names would be mapped read-write), nor a FIFO opened. */
    char target[] = "/tmp/alphacore-hostile-XXXXXX";
    int tfd = mkstemp(target);
    EXPECT(tfd >= 0);
    EXPECT(ftruncate(tfd, 4096) == 0);
    close(tfd);
    if (symlink(target, path) == 0) {
        int rc = alphacore_mem_shared_open(name, NULL, &r);
        if (rc == 0) alphacore_mem_free(&r);
        unlink(path);
        EXPECT_ERR(rc, EINVAL);
    }
    unlink(target);
    if (mkfifo(path, 0600) == 0) {
        int rc = alphacore_mem_shared_open(name, NULL, &r);
        unlink(path);
        EXPECT_ERR(rc, EINVAL);
    }
    return 0;
}

/* ---- reader ---------------------------------------------------------------------------------- */

static int t_reader_args(void) {
    alphacore_reader *r = (alphacore_reader *)1;
    alphacore_reader_opts o = ALPHACORE_READER_OPTS_INIT;
    EXPECT_ERR(alphacore_reader_create(&o, NULL), EINVAL);
    const uint32_t sizes[] = {0, 3, 65537, UINT32_MAX};
    for (size_t i = 0; i < N_ELEMS(sizes); i++) {
        o = (alphacore_reader_opts)ALPHACORE_READER_OPTS_INIT;
        o.struct_size = sizes[i];
        EXPECT_ERR(alphacore_reader_create(&o, &r), EINVAL);
    }
    struct { uint32_t off; uint32_t value; } bad[] = {
        {offsetof(alphacore_reader_opts, backend), 3}, {offsetof(alphacore_reader_opts, backend), UINT32_MAX},
        {offsetof(alphacore_reader_opts, flags), 1u << 31}, {offsetof(alphacore_reader_opts, capacity), 0},
        {offsetof(alphacore_reader_opts, capacity), UINT32_MAX}, {offsetof(alphacore_reader_opts, buf_size), 0},
        {offsetof(alphacore_reader_opts, buf_size), 65}, {offsetof(alphacore_reader_opts, buf_size), UINT32_MAX},
        {offsetof(alphacore_reader_opts, buf_count), 0}, {offsetof(alphacore_reader_opts, buf_count), 3},
        {offsetof(alphacore_reader_opts, buf_count), 1u << 31}, {offsetof(alphacore_reader_opts, framing), 6},
        {offsetof(alphacore_reader_opts, framing), UINT32_MAX}, {offsetof(alphacore_reader_opts, frame_size), 7},
    };
    for (size_t i = 0; i < N_ELEMS(bad); i++) {
        o = (alphacore_reader_opts)ALPHACORE_READER_OPTS_INIT;
        memcpy((char *)&o + bad[i].off, &bad[i].value, 4);
        EXPECT_ERR(alphacore_reader_create(&o, &r), EINVAL);
    }
    o = (alphacore_reader_opts)ALPHACORE_READER_OPTS_INIT;
    o.flags = ALPHACORE_READER_SQPOLL;
    o.sqpoll_cpu = INT32_MIN;
    o.backend = ALPHACORE_READER_IO_URING;
    EXPECT_NEG(alphacore_reader_create(&o, &r));
    o = (alphacore_reader_opts)ALPHACORE_READER_OPTS_INIT;
    o.reserved[2] = 1;
    EXPECT_ERR(alphacore_reader_create(&o, &r), EINVAL);
    EXPECT_ERR(alphacore_reader_info(NULL, NULL), EINVAL);
    EXPECT_ERR(alphacore_reader_stats(NULL, NULL), EINVAL);
    EXPECT_ERR(alphacore_reader_add(NULL, 0, 0), EINVAL);
    EXPECT_ERR(alphacore_reader_remove(NULL, 0), EINVAL);
    alphacore_completion c[4];
    EXPECT_ERR(alphacore_reader_poll(NULL, c, 4, 1, 0, 0), EINVAL);
    EXPECT_ERR(alphacore_reader_release(NULL, c, 1), EINVAL);
    EXPECT_ERR(alphacore_reader_poll_copy(NULL, c, 4, c, sizeof c, 1, 0, 0), EINVAL);
    EXPECT_ERR(alphacore_read_batch(NULL, NULL, NULL, 1, c, 0), EINVAL);
    alphacore_reader_destroy(NULL);
    return 0;
}

static int reader_case(uint32_t backend) {
    alphacore_reader *r;
    alphacore_reader_opts o = ALPHACORE_READER_OPTS_INIT;
    o.backend = backend;
    o.capacity = 8;
    o.buf_count = 8;
    if (alphacore_reader_create(&o, &r) != 0) return backend == ALPHACORE_READER_IO_URING ? 0 : 1;  /* io_uring refused here */
    alphacore_reader_details d;
    memset(&d, 0, sizeof d);
    EXPECT_ERR(alphacore_reader_info(r, &d), EINVAL);            /* struct_size 0 */
    d.struct_size = 4;
    EXPECT_ERR(alphacore_reader_info(r, &d), EINVAL);
    alphacore_reader_counters k;
    memset(&k, 0, sizeof k);
    EXPECT_ERR(alphacore_reader_stats(r, &k), EINVAL);
    EXPECT_ERR(alphacore_reader_info(r, NULL), EINVAL);
    /* fds: negative, huge, closed, a regular file */
    const int fds[] = {INT_MIN, -1, INT_MAX, 1 << 20};
    for (size_t i = 0; i < N_ELEMS(fds); i++) {
        EXPECT_NEG(alphacore_reader_add(r, fds[i], 1));
        EXPECT_ERR(alphacore_reader_remove(r, fds[i]), ENOENT);
    }
    EXPECT_ERR(alphacore_reader_add(r, check_dead_fd(), 1), EBADF);   /* not open (check.h) */
    FILE *tmp = tmpfile();
    EXPECT(tmp != NULL);
    EXPECT_ERR(alphacore_reader_add(r, fileno(tmp), 1), EINVAL);
    alphacore_completion c[8];
    EXPECT_ERR(alphacore_reader_poll(r, NULL, 4, 1, 0, 0), EINVAL);
    EXPECT_ERR(alphacore_reader_poll(r, c, 0, 0, 0, 0), EINVAL);
    EXPECT_ERR(alphacore_reader_poll(r, c, 4, 5, 0, 0), EINVAL);
    EXPECT_ERR(alphacore_reader_poll(r, c, 4, 1, -1, 0), EINVAL);
    EXPECT_ERR(alphacore_reader_poll(r, c, 4, 1, INT64_MIN, 0), EINVAL);
    EXPECT_ERR(alphacore_reader_poll(r, c, 4, 1, 0, -2), EINVAL);
    EXPECT_ERR(alphacore_reader_poll(r, c, 4, 1, 0, INT64_MIN), EINVAL);
    EXPECT(alphacore_reader_poll(r, c, 4, 0, INT64_MAX, INT64_MAX) == 0);   /* min_complete 0: no wait */
    /* The timeout bounds the wait whatever min_wait_ns says (io_uring waited for min_wait). */
    double t0 = now_s();
    EXPECT(alphacore_reader_poll(r, c, 4, 1, INT64_MAX, 1000) == 0);        /* 1 us timeout */
    EXPECT(alphacore_reader_poll(r, c, 4, 1, 2000000000, 1000000) == 0);    /* 1 ms, min_wait 2 s */
    EXPECT(now_s() - t0 < 1.9);
    EXPECT(alphacore_reader_poll(r, c, UINT32_MAX, 0, 0, 0) == 0);
    /* release: NULL with n > 0, buffer ids nobody holds */
    EXPECT_ERR(alphacore_reader_release(r, NULL, 1), EINVAL);
    EXPECT(alphacore_reader_release(r, NULL, 0) == 0);
    const uint32_t ids[] = {0, 7, 8, 1u << 16, 0xFFFFFFFEu, 0x7FFFFFFFu};
    for (size_t i = 0; i < N_ELEMS(ids); i++) {
        memset(c, 0, sizeof c);
        c[0].buf_id = ids[i];
        EXPECT_ERR(alphacore_reader_release(r, c, 1), EINVAL);
    }
    c[0].buf_id = ALPHACORE_NO_BUFFER;
    EXPECT(alphacore_reader_release(r, c, 1) == 0);
    char buf[8192];
    EXPECT_ERR(alphacore_reader_poll_copy(r, c, 4, NULL, sizeof buf, 1, 0, 0), EINVAL);
    EXPECT_ERR(alphacore_reader_poll_copy(r, c, 4, buf, 0, 1, 0, 0), EINVAL);
    EXPECT_ERR(alphacore_reader_poll_copy(r, c, 4, buf, 100, 1, 0, 0), EINVAL);
    EXPECT_ERR(alphacore_reader_poll_copy(r, c, 4, buf, SIZE_MAX, 1, 0, 0), EINVAL);
    EXPECT_ERR(alphacore_reader_poll_copy(r, c, 4, buf, SIZE_MAX / 2 + 1, 1, 0, 0), EINVAL);
    /* read_batch: NULL arrays, n beyond buf_count, fds and offsets that are not usable */
    int bfds[8] = {-1, INT_MAX, INT_MIN, check_dead_fd(), fileno(tmp), -1, -1, -1};
    uint64_t offs[8] = {UINT64_MAX, UINT64_MAX - 1, (uint64_t)INT64_MAX, (uint64_t)INT64_MAX + 1, 0, 0, 0, 0};
    EXPECT_ERR(alphacore_read_batch(r, NULL, NULL, 1, c, 0), EINVAL);
    EXPECT_ERR(alphacore_read_batch(r, bfds, NULL, 1, NULL, 0), EINVAL);
    EXPECT_ERR(alphacore_read_batch(r, bfds, NULL, 9, c, 0), EINVAL);
    EXPECT_ERR(alphacore_read_batch(r, bfds, NULL, UINT32_MAX, c, 0), EINVAL);
    EXPECT_ERR(alphacore_read_batch(r, bfds, NULL, 1, c, -2), EINVAL);
    EXPECT_ERR(alphacore_read_batch(r, bfds, NULL, 1, c, INT64_MIN), EINVAL);
    int n = alphacore_read_batch(r, bfds, offs, 5, c, 1000000000);
    EXPECT(n == 5);
    for (int i = 0; i < n; i++) EXPECT(c[i].result < 0 || i == 4);   /* the file at UINT64_MAX - ... */
    EXPECT(alphacore_reader_release(r, c, (uint32_t)n) >= 0);
    fclose(tmp);
    alphacore_reader_destroy(r);
    return 0;
}

static int t_reader_epoll(void) { return reader_case(ALPHACORE_READER_EPOLL); }
static int t_reader_uring(void) { return reader_case(ALPHACORE_READER_IO_URING); }

/* ---- doctor ---------------------------------------------------------------------------------- */

static int t_doctor(void) {
    alphacore_doctor_opts o = ALPHACORE_DOCTOR_OPTS_INIT;
    char buf[256];
    unsigned char raw[256] = {0};
    memcpy(raw, &o, sizeof o);
    const uint32_t sizes[] = {0, 3, 65537, UINT32_MAX};
    for (size_t i = 0; i < N_ELEMS(sizes); i++) {
        memcpy(raw, &sizes[i], 4);
        EXPECT_ERR(alphacore_doctor_run((const alphacore_doctor_opts *)(void *)raw, NULL, 0, NULL), EINVAL);
    }
    uint32_t longer = sizeof raw;
    memcpy(raw, &longer, 4);
    raw[sizeof raw - 1] = 7;
    EXPECT_ERR(alphacore_doctor_run((const alphacore_doctor_opts *)(void *)raw, NULL, 0, NULL), E2BIG);
    o.flags = 0x80000000u;
    EXPECT_ERR(alphacore_doctor_run(&o, NULL, 0, NULL), EINVAL);
    o = (alphacore_doctor_opts)ALPHACORE_DOCTOR_OPTS_INIT;
    o.probe_ms = UINT32_MAX;
    EXPECT_ERR(alphacore_doctor_run(&o, NULL, 0, NULL), EINVAL);
    o = (alphacore_doctor_opts)ALPHACORE_DOCTOR_OPTS_INIT;
    o.reserved0 = 1;
    EXPECT_ERR(alphacore_doctor_run(&o, NULL, 0, NULL), EINVAL);
    o = (alphacore_doctor_opts)ALPHACORE_DOCTOR_OPTS_INIT;
    EXPECT_ERR(alphacore_doctor_run(&o, NULL, 5, NULL), EINVAL);
    EXPECT_ERR(alphacore_doctor_run(&o, NULL, SIZE_MAX, NULL), EINVAL);
    EXPECT_ERR(alphacore_doctor_run(&o, buf, SIZE_MAX, NULL), EINVAL);
    const char *cpus[] = {"", " ", "x", "-1", "3-1", "1048576", "0-99999999999", "0-1048575", "8192"};
    for (size_t i = 0; i < N_ELEMS(cpus); i++) {
        o = (alphacore_doctor_opts)ALPHACORE_DOCTOR_OPTS_INIT;
        o.cpus = cpus[i];
        double t0 = cpu_s();
        EXPECT_ERR(alphacore_doctor_run(&o, NULL, 0, NULL), EINVAL);
        EXPECT(cpu_s() - t0 < 5.0);
    }
    /* The largest list accepted (every CPU Linux can have) is judged in reasonable time. */
    o = (alphacore_doctor_opts)ALPHACORE_DOCTOR_OPTS_INIT;
    o.cpus = "0-8191";
    double t0 = cpu_s();
    EXPECT(alphacore_doctor_run(&o, NULL, 0, NULL) > 0);
    EXPECT(cpu_s() - t0 < 10.0);
    const char *hp[] = {"", "x", "2M", "2M:", "2M:-1", "2M:1@-1", "2M:1@x", "2M:99999999999999999999999",
                        "1G:1,", ",", "2M:1@99999999999"};
    for (size_t i = 0; i < N_ELEMS(hp); i++) {
        o = (alphacore_doctor_opts)ALPHACORE_DOCTOR_OPTS_INIT;
        o.hugepages = hp[i];
        int rc = alphacore_doctor_run(&o, NULL, 0, NULL);
        if (rc != -EINVAL) fprintf(stderr, "hugepages \"%s\": rc %d\n", hp[i], rc);
        EXPECT_ERR(rc, EINVAL);
    }
    return 0;
}

int main(void) {
    hostile("core", t_core, 20);
    hostile("hist_create", t_hist_create, 20);
    hostile("hist_record", t_hist_record, 20);
    hostile("hist_batch", t_hist_batch, 20);
    hostile("hist_queries", t_hist_queries, 20);
    hostile("hist_many_percentiles", t_hist_many_percentiles, 20);
    hostile("hist_corrected", t_hist_corrected, 20);
    hostile("hist_text", t_hist_text, 20);
    hostile("hist_text_ticks", t_hist_text_ticks, 20);
    hostile("hist_decode", t_hist_decode, 20);
    hostile("hist_log", t_hist_log, 20);
    hostile("alloc_decode", t_alloc_decode, 20);
    hostile("alloc_encode", t_alloc_encode, 60);
    hostile("alloc_log", t_alloc_log, 20);
    hostile("alloc_percentiles", t_alloc_percentiles, 20);
    hostile("cpu_topology", t_cpu_topology, 20);
    hostile("cpu_lists", t_cpu_lists, 20);
    hostile("cpu_pin", t_cpu_pin, 20);
    hostile("cpu_pin_pthread", t_cpu_pin_pthread, 20);
    hostile("cpu_policy", t_cpu_policy, 20);
    hostile("cpu_roles", t_cpu_roles, 20);
    hostile("cpu_sched", t_cpu_sched, 20);
    hostile("mem_args", t_mem_args, 20);
    hostile("mem_regions", t_mem_regions, 20);
    hostile("mem_shared", t_mem_shared, 20);
    hostile("reader_args", t_reader_args, 20);
    hostile("reader_epoll", t_reader_epoll, 20);
    hostile("reader_uring", t_reader_uring, 20);
    hostile("doctor", t_doctor, 60);
    return check_summary("test_abi_hostile");
}
