/* Histogram benchmark (issues 3 and 13): the 10 M value stream, log-uniform 20 ns .. 10 ms, into a
 * histogram of 1 .. 3,600,000,000,000 at 3 significant digits, through the installed .so.
 *
 * Peers, measured in the same run, alternating with ours, best of ROUNDS (no figure typed in):
 *   - HdrHistogram_c 0.11.10 twice, dlopen'ed from the two builds of
 *     ../shared/peers/build-hdr-histogram-c.sh: as shipped (HDR_C_SHIPPED=path) and with
 *     -fno-semantic-interposition (HDR_C_NSI=path). benchmarks/run.sh builds both into build/peers.
 *   - today's libalphacore (ALPHACORE_BASELINE=path to a copy of an earlier .so, optional): the
 *     record and inline-record cost of this build against it (issue 18: within 1.03x);
 *   - the floor: the same bucket arithmetic as inline C compiled into this program.
 * Single-threaded loops are timed in the thread's CPU time (the machine is shared); the
 * two-writer rates in wall time. Every ratio printed is ours / theirs from this run. */
#define _GNU_SOURCE
#include <alphacore.h>
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "peers/floor_hist.h"

#define N 10000000
#define HIGHEST 3600000000000LL

static int ROUNDS = 7;
static int64_t *vals;
static volatile int64_t sink;

static double wall_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
static double best(double a, double b) { return a < b ? a : b; }

/* ---- HdrHistogram_c through dlopen (two builds) ------------------------------------------ */
struct hdr_histogram;
typedef struct {
    const char *name;
    void *lib;
    int (*init)(int64_t, int64_t, int, struct hdr_histogram **);
    void (*close)(struct hdr_histogram *);
    void (*reset)(struct hdr_histogram *);
    _Bool (*record)(struct hdr_histogram *, int64_t);
    _Bool (*record_atomic)(struct hdr_histogram *, int64_t);
    int64_t (*pct)(const struct hdr_histogram *, double);
    int (*pcts)(const struct hdr_histogram *, const double *, int64_t *, size_t);
    double (*mean)(const struct hdr_histogram *);
    double (*stddev)(const struct hdr_histogram *);
    int64_t (*add)(struct hdr_histogram *, const struct hdr_histogram *);
    size_t (*memsize)(struct hdr_histogram *);
    int (*encode)(struct hdr_histogram *, char **);
    int (*decode)(struct hdr_histogram **, char *, size_t);
    int (*rec_init)(void *, int64_t, int64_t, int);
    void (*rec_destroy)(void *);
    int64_t (*rec_record_atomic)(void *, int64_t);
    struct hdr_histogram *(*rec_sample)(void *);
    struct hdr_histogram *h;
} hdr_c;

static int load_hdr(hdr_c *p, const char *name, const char *path) {
    memset(p, 0, sizeof *p);
    p->name = name;
    if (!path || !(p->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL))) {
        fprintf(stderr, "%s: cannot dlopen %s (%s)\n", name, path ? path : "(unset)", dlerror());
        return -1;
    }
#define SYM(f, s) *(void **)&p->f = dlsym(p->lib, s)
    SYM(init, "hdr_init"); SYM(close, "hdr_close"); SYM(reset, "hdr_reset");
    SYM(record, "hdr_record_value"); SYM(record_atomic, "hdr_record_value_atomic");
    SYM(pct, "hdr_value_at_percentile"); SYM(pcts, "hdr_value_at_percentiles");
    SYM(mean, "hdr_mean"); SYM(stddev, "hdr_stddev"); SYM(add, "hdr_add");
    SYM(memsize, "hdr_get_memory_size"); SYM(encode, "hdr_log_encode"); SYM(decode, "hdr_log_decode");
    SYM(rec_init, "hdr_interval_recorder_init_all"); SYM(rec_destroy, "hdr_interval_recorder_destroy");
    SYM(rec_record_atomic, "hdr_interval_recorder_record_value_atomic");
    SYM(rec_sample, "hdr_interval_recorder_sample");
#undef SYM
    if (!p->init || !p->record || !p->record_atomic || !p->pct || !p->pcts || !p->mean || !p->stddev ||
        !p->add || !p->memsize || !p->encode || !p->decode || !p->rec_init || !p->rec_record_atomic ||
        !p->rec_sample || !p->reset || !p->close || !p->rec_destroy) {
        fprintf(stderr, "%s: a symbol is missing\n", name);
        return -1;
    }
    return p->init(1, HIGHEST, 3, &p->h);
}

/* ---- today's libalphacore (optional), for the 1.03x regression bound ---------------------- */
static struct {
    void *lib;
    int (*create)(int64_t, int64_t, int, alphacore_hist **);
    int (*record)(alphacore_hist *, int64_t);
    int (*reset)(alphacore_hist *);
    alphacore_hist *h;
} base;

/* The header-inline record as it stood before the overflow rule (the same layout), so that
 * the new inline record is timed against it in the same run. */
static inline int baseline_record_inline(alphacore_hist *h, int64_t value) {
    alphacore_hist_layout_v1 *l = (alphacore_hist_layout_v1 *)(void *)h;
    if (__builtin_expect(h == NULL, 0)) return -22;
    if ((uint64_t)value > (uint64_t)l->highest_trackable) return -34;
    int32_t bucket = l->leading_zero_base - (int32_t)__builtin_clzll((uint64_t)(value | l->sub_bucket_mask));
    int64_t sub = value >> (bucket + l->unit_magnitude);
    l->counts[((int64_t)bucket << l->sub_bucket_half_count_magnitude) + sub]++;
    l->total_count++;
    if (value != 0 && value < l->min_nonzero) l->min_nonzero = value;
    if (value > l->max_value) l->max_value = value;
    return 0;
}

/* ---- single-threaded record loops --------------------------------------------------------- */
/* Each sample is one chunk of CHUNK values; every round runs every variant over every chunk, in
 * an order that rotates, and each figure is the best sample (ns per value). Short samples,
 * interleaved, are what a shared machine allows: a whole 10 M pass is rarely undisturbed. */
#define CHUNK 1000000
#define TIMED(body) do { double t0_ = now_s(); body; return (now_s() - t0_) * 1e9 / n; } while (0)

__attribute__((noipa)) static floor_hist *floor_create(void) { return floor_hist_new(); }
__attribute__((noinline)) static double ns_floor(floor_hist *f, const int64_t *v, int n) {
    int bad = 0;
    TIMED(for (int i = 0; i < n; i++) bad |= floor_record(f, v[i]); sink = bad);
}
/* Exported calls through a function pointer, as the dlopen'ed peers are called (no PLT stub on
 * either side). */
static int (*volatile ours_record)(alphacore_hist *, int64_t) = alphacore_hist_record;
static int (*volatile ours_record_atomic)(alphacore_hist *, int64_t) = alphacore_hist_record_atomic;
__attribute__((noinline)) static double ns_ours(alphacore_hist *h, const int64_t *v, int n) {
    int bad = 0;
    int (*fn)(alphacore_hist *, int64_t) = ours_record;
    TIMED(for (int i = 0; i < n; i++) bad |= fn(h, v[i]); sink = bad);
}
__attribute__((noinline)) static double ns_ours_plt(alphacore_hist *h, const int64_t *v, int n) {
    int bad = 0;
    TIMED(for (int i = 0; i < n; i++) bad |= alphacore_hist_record(h, v[i]); sink = bad);
}
__attribute__((noinline)) static double ns_base(const int64_t *v, int n) {
    int bad = 0;
    TIMED(for (int i = 0; i < n; i++) bad |= base.record(base.h, v[i]); sink = bad);
}
__attribute__((noinline)) static double ns_inline(alphacore_hist *h, const int64_t *v, int n) {
    int bad = 0;
    TIMED(for (int i = 0; i < n; i++) bad |= alphacore_hist_record_inline(h, v[i]); sink = bad);
}
__attribute__((noinline)) static double ns_inline_base(alphacore_hist *h, const int64_t *v, int n) {
    int bad = 0;
    TIMED(for (int i = 0; i < n; i++) bad |= baseline_record_inline(h, v[i]); sink = bad);
}
__attribute__((noinline)) static double ns_batch(alphacore_hist *h, const int64_t *v, int n) {
    TIMED(sink = alphacore_hist_record_batch(h, v, (size_t)n));
}
__attribute__((noinline)) static double ns_atomic(alphacore_hist *h, const int64_t *v, int n) {
    int bad = 0;
    int (*fn)(alphacore_hist *, int64_t) = ours_record_atomic;
    TIMED(for (int i = 0; i < n; i++) bad |= fn(h, v[i]); sink = bad);
}
__attribute__((noinline)) static double ns_hdr(hdr_c *p, int atomic, const int64_t *v, int n) {
    int bad = 0;
    _Bool (*fn)(struct hdr_histogram *, int64_t) = atomic ? p->record_atomic : p->record;
    TIMED(for (int i = 0; i < n; i++) bad |= !fn(p->h, v[i]); sink = bad);
}

/* alphacore_cycles() + record per value (issue 3's target: <= 30 ns together). */
__attribute__((noinline)) static double ns_cycles_record(alphacore_hist *h, int n) {
    uint64_t prev = alphacore_cycles();
    TIMED(for (int i = 0; i < n; i++) {
        uint64_t c = alphacore_cycles();
        alphacore_hist_record(h, (int64_t)(c - prev) & 0xFFFFF);
        prev = c;
    });
}

/* ---- two writers ----------------------------------------------------------------------- */
enum { W_OURS_ATOMIC, W_OURS_RECORDER, W_HDR_ATOMIC, W_HDR_RECORDER };
struct job { int mode; alphacore_hist *h; alphacore_recorder *r; hdr_c *p; void *hr; int next; };
static void pin_self(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}
static void *writer(void *arg) {
    struct job *j = arg;
    int me = __atomic_fetch_add(&j->next, 1, __ATOMIC_SEQ_CST);
    pin_self(me % 2);
    const int64_t *v = vals + (me ? N / 2 : 0);   /* each writer its own half, interleaved buckets */
    int n = N / 2;
    switch (j->mode) {
    case W_OURS_ATOMIC: for (int i = 0; i < n; i++) alphacore_hist_record_atomic(j->h, v[i]); break;
    case W_OURS_RECORDER: for (int i = 0; i < n; i++) alphacore_recorder_record(j->r, v[i]); break;
    case W_HDR_ATOMIC: for (int i = 0; i < n; i++) j->p->record_atomic(j->p->h, v[i]); break;
    default: for (int i = 0; i < n; i++) j->p->rec_record_atomic(j->hr, v[i]); break;
    }
    return NULL;
}
struct sampler { struct job *j; alphacore_hist *into, *sum; int64_t hdr_total; volatile int stop; };
static void *sample_loop(void *arg) {
    struct sampler *s = arg;
    struct timespec pause = {0, 5000000};
    for (;;) {
        int last = s->stop;
        if (!last) nanosleep(&pause, NULL);
        if (s->j->mode == W_OURS_RECORDER) {
            alphacore_recorder_sample(s->j->r, s->into);
            alphacore_hist_add(s->sum, s->into);
        } else {
            sink += (int64_t)(intptr_t)s->j->p->rec_sample(s->j->hr);
        }
        if (last) break;
    }
    return NULL;
}
/* Million values per second, wall; the sampler (recorders only) takes an interval every 5 ms. */
static double mvps(struct job *j, struct sampler *s) {
    pthread_t t[2], st;
    j->next = 0;
    if (s) pthread_create(&st, NULL, sample_loop, s);
    double t0 = wall_s();
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, writer, j);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    double t1 = wall_s();
    if (s) { s->stop = 1; pthread_join(st, NULL); }
    return (double)N / (t1 - t0) / 1e6;
}

/* ---- queries ----------------------------------------------------------------------------- */
static const double ps7[7] = {50.0, 90.0, 99.0, 99.9, 99.99, 99.999, 100.0};
enum { Q_P50, Q_P999, Q_P7, Q_MEAN, Q_STDDEV, Q_ENCODE, Q_SIZE_ENCODE, Q_DECODE, Q_ADD, Q_COUNT };
static const char *qname[Q_COUNT] = {"p50 (ns)", "p99.9 (ns)", "7 percentiles (ns)", "mean (ns)", "stddev (ns)",
    "encode (ns)", "size query + encode (ns)", "decode (ns)", "add (ns)"};
static const int qreps[Q_COUNT] = {2000, 2000, 2000, 200, 200, 20, 20, 20, 50};
static char *text_ours;
static size_t text_len;

static double q_ours(int q, alphacore_hist *h, alphacore_hist *other) {
    int reps = qreps[q];
    int64_t out[7];
    double t0 = now_s();
    for (int i = 0; i < reps; i++) {
        switch (q) {
        case Q_P50: sink += alphacore_hist_value_at_percentile(h, 50.0); break;
        case Q_P999: sink += alphacore_hist_value_at_percentile(h, 99.9); break;
        case Q_P7: alphacore_hist_value_at_percentiles(h, ps7, out, 7); sink += out[3]; break;
        case Q_MEAN: sink += (int64_t)alphacore_hist_mean(h); break;
        case Q_STDDEV: sink += (int64_t)alphacore_hist_stddev(h); break;
        case Q_ENCODE: {   /* the buffer allocated for it, as hdr_log_encode does */
            char *b = malloc(text_len + 1);
            sink += alphacore_hist_encode(h, b, text_len + 1);
            free(b);
            break;
        }
        case Q_SIZE_ENCODE: {
            int64_t need = alphacore_hist_encode(h, NULL, 0);
            char *b = malloc((size_t)need + 1);
            sink += alphacore_hist_encode(h, b, (size_t)need + 1);
            free(b);
            break;
        }
        case Q_DECODE: {
            alphacore_hist *d = NULL;
            alphacore_hist_decode(text_ours, text_len, &d);
            sink += alphacore_hist_total_count(d);
            alphacore_hist_destroy(d);
            break;
        }
        default: alphacore_hist_reset(other); sink += alphacore_hist_add(other, h); break;
        }
    }
    return (now_s() - t0) * 1e9 / reps;
}

static double q_hdr(int q, hdr_c *p, struct hdr_histogram *other) {
    int reps = qreps[q];
    int64_t out[7];
    double t0 = now_s();
    for (int i = 0; i < reps; i++) {
        switch (q) {
        case Q_P50: sink += p->pct(p->h, 50.0); break;
        case Q_P999: sink += p->pct(p->h, 99.9); break;
        case Q_P7: p->pcts(p->h, ps7, out, 7); sink += out[3]; break;
        case Q_MEAN: sink += (int64_t)p->mean(p->h); break;
        case Q_STDDEV: sink += (int64_t)p->stddev(p->h); break;
        case Q_ENCODE: case Q_SIZE_ENCODE: {   /* one call: it allocates the text itself */
            char *e = NULL;
            p->encode(p->h, &e);
            sink += e ? (int64_t)strlen(e) : 0;
            free(e);
            break;
        }
        case Q_DECODE: {
            struct hdr_histogram *d = NULL;
            p->decode(&d, text_ours, text_len);
            if (d) p->close(d);
            break;
        }
        default: p->reset(other); sink += p->add(other, p->h); break;
        }
    }
    return (now_s() - t0) * 1e9 / reps;
}

static double best_of(const double *x, int n) {
    double b = 1e18;
    for (int i = 0; i < n; i++) if (x[i] > 0 && x[i] < b) b = x[i];
    return b;
}
static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
/* The median over samples of a[i] / b[i]. */
static double median_ratio(const double *a, const double *b, int n) {
    static double r[4096];
    int m = 0;
    for (int i = 0; i < n; i++) if (a[i] > 0 && b[i] > 0) r[m++] = a[i] / b[i];
    if (m == 0) return 0;
    qsort(r, (size_t)m, sizeof r[0], cmp_double);
    return m % 2 ? r[m / 2] : (r[m / 2 - 1] + r[m / 2]) / 2;
}

static void row(const char *what, double ours, double ship, double nsi, const char *unit) {
    printf("%-32s ours %10.2f %-3s  HdrHistogram_c as-shipped %10.2f (ratio %.3f)  -fno-semantic-interposition %10.2f (ratio %.3f)\n",
           what, ours, unit, ship, ours / ship, nsi, ours / nsi);
}

int main(void) {
    if (getenv("ROUNDS")) ROUNDS = atoi(getenv("ROUNDS"));
    hdr_c pc[2];
    if (load_hdr(&pc[0], "as-shipped", getenv("HDR_C_SHIPPED")) || load_hdr(&pc[1], "nsi", getenv("HDR_C_NSI"))) {
        fprintf(stderr, "bench_hist: both HdrHistogram_c builds are needed (benchmarks/run.sh builds them)\n");
        return 1;
    }
    const char *bp = getenv("ALPHACORE_BASELINE");
    if (bp && (base.lib = dlopen(bp, RTLD_NOW | RTLD_LOCAL))) {
        *(void **)&base.create = dlsym(base.lib, "alphacore_hist_create");
        *(void **)&base.record = dlsym(base.lib, "alphacore_hist_record");
        *(void **)&base.reset = dlsym(base.lib, "alphacore_hist_reset");
        if (!base.create || !base.record || !base.reset || base.create(1, HIGHEST, 3, &base.h)) base.lib = NULL;
    }
    vals = malloc((size_t)N * sizeof *vals);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < N; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        double u = (double)(x >> 11) / 9007199254740992.0;
        vals[i] = (int64_t)exp(log(20.0) + u * (log(1e7) - log(20.0)));
    }
    alphacore_hist *h = NULL, *other = NULL;
    if (alphacore_hist_create(1, HIGHEST, 3, &h) || alphacore_hist_create(1, HIGHEST, 3, &other)) return 1;
    floor_hist *f = floor_create();

    printf("histogram benchmark: %d values log-uniform 20 ns .. 10 ms, 1 .. 3.6e12, 3 digits; records: best of %d"
           " samples of %d values; the rest best of %d rounds; ours and HdrHistogram_c 0.11.10 alternating\n",
           N, ROUNDS * (N / CHUNK), CHUNK, ROUNDS);
    /* Record loops: every variant over every chunk, the order rotating. Each figure is the best
     * sample; each ratio is the median over samples of the two variants' times on the same chunk
     * in the same round (measured within a few ms of each other: robust to the machine's load). */
    enum { V_OURS, V_SHIP, V_NSI, V_INL, V_INL_BASE, V_BASE, V_BATCH, V_ATOMIC, V_ASHIP, V_ANSI, V_PLT, V_FLOOR, NV };
    int ns = ROUNDS * (N / CHUNK);
    static double t[NV][4096];
    if (ns > 4096) ns = 4096;
    alphacore_hist *ha = NULL, *hb = NULL, *hi = NULL, *hib = NULL;
    if (alphacore_hist_create(1, HIGHEST, 3, &ha) || alphacore_hist_create(1, HIGHEST, 3, &hb) ||
        alphacore_hist_create(1, HIGHEST, 3, &hi) || alphacore_hist_create(1, HIGHEST, 3, &hib)) return 1;
    for (int smp = 0; smp < ns; smp++) {
        int c = smp % (N / CHUNK), r = smp / (N / CHUNK);
        const int64_t *v = vals + (size_t)c * CHUNK;
        for (int k = 0; k < NV; k++) {
            int w = (k + r + c) % NV;
            double x = 0;
            switch (w) {
            case V_OURS: x = ns_ours(h, v, CHUNK); break;
            case V_SHIP: x = ns_hdr(&pc[0], 0, v, CHUNK); break;
            case V_NSI: x = ns_hdr(&pc[1], 0, v, CHUNK); break;
            case V_INL: x = ns_inline(hi, v, CHUNK); break;
            case V_INL_BASE: x = ns_inline_base(hib, v, CHUNK); break;
            case V_BASE: x = base.lib ? ns_base(v, CHUNK) : 0; break;
            case V_BATCH: x = ns_batch(hb, v, CHUNK); break;
            case V_ATOMIC: x = ns_atomic(ha, v, CHUNK); break;
            case V_ASHIP: x = ns_hdr(&pc[0], 1, v, CHUNK); break;
            case V_ANSI: x = ns_hdr(&pc[1], 1, v, CHUNK); break;
            case V_PLT: x = ns_ours_plt(h, v, CHUNK); break;
            default: x = ns_floor(f, v, CHUNK); break;
            }
            t[w][smp] = x;
        }
    }
#define BEST(w) best_of(t[w], ns)
#define RATIO(a, b) median_ratio(t[a], t[b], ns)
    double r_ours = BEST(V_OURS), r_inl = BEST(V_INL), r_batch = BEST(V_BATCH), r_atomic = BEST(V_ATOMIC);
    double r_hc[2] = {BEST(V_SHIP), BEST(V_NSI)}, r_hca[2] = {BEST(V_ASHIP), BEST(V_ANSI)};
    int nsi_faster = RATIO(V_NSI, V_SHIP) < 1.0;
    printf("record (ns/value)                ours %10.2f ns   HdrHistogram_c as-shipped %10.2f (ratio %.3f)  -fno-semantic-interposition %10.2f (ratio %.3f)\n",
           r_ours, r_hc[0], RATIO(V_OURS, V_SHIP), r_hc[1], RATIO(V_OURS, V_NSI));
    printf("  target: <= 0.6x as-shipped, <= 0.9x -fno-semantic-interposition\n");
    printf("record_inline (header)           ours %10.2f ns   HdrHistogram_c as-shipped %10.2f (ratio %.3f)  -fno-semantic-interposition %10.2f (ratio %.3f)\n",
           r_inl, r_hc[0], RATIO(V_INL, V_SHIP), r_hc[1], RATIO(V_INL, V_NSI));
    printf("  target: <= 0.75x the faster build (%s): %.3f\n", nsi_faster ? "nsi" : "as-shipped",
           RATIO(V_INL, nsi_faster ? V_NSI : V_SHIP));
    printf("record_atomic, one thread        ours %10.2f ns   HdrHistogram_c as-shipped %10.2f (ratio %.3f)  -fno-semantic-interposition %10.2f (ratio %.3f)\n",
           r_atomic, r_hca[0], RATIO(V_ATOMIC, V_ASHIP), r_hca[1], RATIO(V_ATOMIC, V_ANSI));
    printf("  target: <= 0.85x either build\n");
    printf("%-32s %10.2f ns/value  loop of alphacore_hist_record %10.2f  ratio %.3f  (target <= 0.8)\n",
           "record_batch", r_batch, r_ours, RATIO(V_BATCH, V_OURS));
    printf("%-32s %10.2f ns/value  (the same calls through the PLT, as a program linked to the .so makes them)\n",
           "record, direct call", BEST(V_PLT));
    printf("%-32s %10.2f ns/value  (HdrHistogram's arithmetic inline in this program)\n", "inline C floor", BEST(V_FLOOR));
    if (base.lib)
        printf("%-32s %10.2f ns/value  today's .so %10.2f  ratio %.3f  (bound <= 1.03)\n", "record vs today's .so",
               r_ours, BEST(V_BASE), RATIO(V_OURS, V_BASE));
    printf("%-32s %10.2f ns/value  today's header %8.2f  ratio %.3f  (bound <= 1.03)\n", "record_inline vs today's",
           r_inl, BEST(V_INL_BASE), RATIO(V_INL, V_INL_BASE));

    double cyc = 1e9;
    for (int r = 0; r < ROUNDS; r++) cyc = best(cyc, ns_cycles_record(other, CHUNK));
    printf("%-32s %10.2f ns/value  (target <= 30 ns)\n", "alphacore_cycles() + record", cyc);

    /* Two writers, each pinned to its own CPU, on one atomic histogram; then the recorders. */
    double w_ours = 0, w_hc[2] = {0, 0}, w_rec = 0, w_hrec[2] = {0, 0};
    int64_t lost = 0;
    alphacore_recorder *rec = NULL;
    alphacore_hist *into = NULL, *sum = NULL;
    if (alphacore_recorder_create(1, HIGHEST, 3, &rec) || alphacore_hist_create(1, HIGHEST, 3, &into) ||
        alphacore_hist_create(1, HIGHEST, 3, &sum)) return 1;
    unsigned char hrec[2][512] __attribute__((aligned(64)));
    for (int k = 0; k < 2; k++) if (pc[k].rec_init(hrec[k], 1, HIGHEST, 3)) return 1;
    for (int r = 0; r < ROUNDS; r++) {
        alphacore_hist_reset(h);
        struct job j = {W_OURS_ATOMIC, h, NULL, NULL, NULL, 0};
        double m = mvps(&j, NULL);
        if (m > w_ours) w_ours = m;
        if (alphacore_hist_total_count(h) != N) lost += N - alphacore_hist_total_count(h);
        for (int k = 0; k < 2; k++) {
            pc[k].reset(pc[k].h);
            struct job jh = {W_HDR_ATOMIC, NULL, NULL, &pc[k], NULL, 0};
            m = mvps(&jh, NULL);
            if (m > w_hc[k]) w_hc[k] = m;
        }
        alphacore_recorder_sample(rec, into);     /* start a clean interval */
        alphacore_hist_reset(sum);
        struct job jr = {W_OURS_RECORDER, NULL, rec, NULL, NULL, 0};
        struct sampler s = {&jr, into, sum, 0, 0};
        m = mvps(&jr, &s);
        if (m > w_rec) w_rec = m;
        if (alphacore_hist_total_count(sum) != N) lost += N - alphacore_hist_total_count(sum);
        for (int k = 0; k < 2; k++) {
            struct job jh = {W_HDR_RECORDER, NULL, NULL, &pc[k], hrec[k], 0};
            struct sampler sh = {&jh, NULL, NULL, 0, 0};
            m = mvps(&jh, &sh);
            if (m > w_hrec[k]) w_hrec[k] = m;
        }
    }
    printf("%-32s ours %10.2f M/s  HdrHistogram_c as-shipped %10.2f (ratio %.3f)  -fno-semantic-interposition %10.2f (ratio %.3f)\n",
           "2 writers, one atomic histogram", w_ours, w_hc[0], w_ours / w_hc[0], w_hc[1], w_ours / w_hc[1]);
    printf("  target: >= 1.2x its aggregate rate\n");
    printf("%-32s ours %10.2f M/s  hdr_interval_recorder as-shipped %10.2f (ratio %.3f)  nsi %10.2f (ratio %.3f)\n",
           "recorder, 2 writers + sampler", w_rec, w_hrec[0], w_rec / w_hrec[0], w_hrec[1], w_rec / w_hrec[1]);
    printf("values lost or duplicated (ours, atomic and recorder): %lld\n", (long long)lost);

    /* Queries over the full stream, the same values in ours and in both peers. */
    alphacore_hist_reset(h);
    alphacore_hist_record_batch(h, vals, N);
    struct hdr_histogram *hother[2];
    for (int k = 0; k < 2; k++) {
        pc[k].reset(pc[k].h);
        for (int i = 0; i < N; i++) pc[k].record(pc[k].h, vals[i]);
        if (pc[k].init(1, HIGHEST, 3, &hother[k])) return 1;
    }
    text_len = (size_t)alphacore_hist_encode(h, NULL, 0);
    text_ours = malloc(text_len + 1);
    alphacore_hist_encode(h, text_ours, text_len + 1);
    char *theirs = NULL;
    pc[0].encode(pc[0].h, &theirs);
    int same_bytes = theirs && strcmp(theirs, text_ours) == 0;
    free(theirs);
    for (int q = 0; q < Q_COUNT; q++) {
        double o = 1e18, t[2] = {1e18, 1e18};
        for (int r = 0; r < ROUNDS; r++) {
            o = best(o, q_ours(q, h, other));
            for (int k = 0; k < 2; k++) t[k] = best(t[k], q_hdr(q, &pc[k], hother[k]));
        }
        row(qname[q], o, t[0], t[1], "ns");
    }
    printf("  size query + encode: HdrHistogram_c's column is one hdr_log_encode (it allocates); target <= 1.1x\n");
    row("footprint (bytes)", (double)alphacore_hist_footprint(h), (double)pc[0].memsize(pc[0].h),
        (double)pc[1].memsize(pc[1].h), "B");
    printf("encoded: %zu characters; byte-identical to hdr_log_encode's: %s\n", text_len, same_bytes ? "yes" : "NO");
    return lost == 0 && same_bytes ? 0 : 1;
}
