/* Histogram benchmark (issue 3): the 10 M value stream, log-uniform 20 ns .. 10 ms, into a
 * histogram of 1 .. 3,600,000,000,000 at 3 significant digits, through the installed .so.
 *
 * Peers in the same run:
 *   - the floor: the same bucket arithmetic as inline C compiled into this program;
 *   - hdrhistogram-swift 0.2.0 called from C, if benchmarks/peers/lib/libHdrSwiftPeer.so exists
 *     (bash benchmarks/peers/build.sh; or HDRSWIFT_PEER=path);
 *   - HdrHistogram_c, if libhdr_histogram.so can be dlopen'ed (HDR_C_LIB=path); not packaged
 *     for Debian, so usually absent.
 * Each figure is the best of several rounds, alternating ours and the peers. */
#define _GNU_SOURCE
#include <alphacore.h>
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "peers/floor_hist.h"

#define N 10000000
#define ROUNDS 7
#define HIGHEST 3600000000000LL

static int64_t *vals;
static volatile int64_t sink;

static double wall_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Single-threaded loops are timed in the thread's CPU time: the machine is shared, and time
 * spent descheduled is not the code's. Multi-threaded throughput uses wall time. */
static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the floor: HdrHistogram's arithmetic, inline ------------------------------------- */
/* The same layout as ours and HdrHistogram_c's: a header with the counts after it, created
 * behind a call (as any real histogram is), so that the compiler cannot prove the counts
 * never alias the header: it must keep total/min/max in memory, as a library must. The
 * record itself is inline in the loop. ("floor, registers" below is the same loop over a
 * histogram whose allocation the compiler sees: it keeps total/min/max in registers for the
 * whole loop, which no histogram handed across an API can do; printed for honesty.) */
__attribute__((noipa)) static floor_hist *floor_create(void) { return floor_hist_new(); }

__attribute__((noinline)) static void floor_reset(floor_hist *h) {
    memset(h->counts, 0, 33792 * sizeof(int64_t));
    h->total = 0; h->min = INT64_MAX; h->max = 0;
}

/* HdrHistogram_c's own layout: the counts behind a pointer member of the struct. */
typedef struct {
    int64_t highest, mask, total, min, max;
    int32_t unit, half_mag, lz_base, pad;
    int64_t *counts;
} floor_hist_c;

__attribute__((noipa)) static floor_hist_c *floor_c_create(void) {
    floor_hist_c *h = calloc(1, sizeof *h);
    h->counts = calloc(33792, sizeof(int64_t));
    h->highest = HIGHEST; h->unit = 0; h->half_mag = 10; h->mask = 2047;
    h->lz_base = 64 - h->unit - (h->half_mag + 1); h->min = INT64_MAX;
    return h;
}

FLOOR_DEFINE_RECORD(floor_c_record, floor_hist_c)

__attribute__((noinline)) static double ns_record_floor_c(floor_hist_c *f) {
    memset(f->counts, 0, 33792 * sizeof(int64_t));
    f->total = 0; f->min = INT64_MAX; f->max = 0;
    int bad = 0;
    double t0 = now_s();
    for (int i = 0; i < N; i++) bad |= floor_c_record(f, vals[i]);
    double t1 = now_s();
    sink = bad + f->total;
    return (t1 - t0) * 1e9 / N;
}

/* The register-promoted variant: a local histogram the compiler sees whole. */
static double ns_record_floor_registers(void) {
    int64_t *counts = calloc(33792, sizeof(int64_t));
    int64_t total = 0, min = INT64_MAX, max = 0, highest = HIGHEST, mask = 2047;
    int bad = 0;
    double t0 = now_s();
    for (int i = 0; i < N; i++) {
        int64_t v = vals[i];
        if ((uint64_t)v > (uint64_t)highest) { bad = 1; continue; }
        int32_t bucket = 53 - __builtin_clzll((uint64_t)(v | mask));
        counts[((int64_t)bucket << 10) + (v >> bucket)]++;
        total++;
        if (v != 0 && v < min) min = v;
        if (v > max) max = v;
    }
    double t1 = now_s();
    sink = bad + total + min + max + counts[100];
    free(counts);
    return (t1 - t0) * 1e9 / N;
}

/* ---- optional peers through dlopen --------------------------------------------------- */
typedef void *(*hs_create_fn)(uint64_t, uint64_t);
typedef _Bool (*hs_record_fn)(void *, uint64_t);
typedef uint64_t (*hs_pct_fn)(void *, double);
typedef double (*hs_stat_fn)(void *);
typedef void (*hs_destroy_fn)(void *);
static struct { hs_create_fn create; hs_record_fn record; hs_pct_fn pct; hs_stat_fn mean, stddev; hs_destroy_fn destroy; } hs;

struct hdr_histogram;
typedef int (*hc_init_fn)(int64_t, int64_t, int, struct hdr_histogram **);
typedef _Bool (*hc_record_fn)(struct hdr_histogram *, int64_t);
typedef int64_t (*hc_pct_fn)(const struct hdr_histogram *, double);
typedef double (*hc_stat_fn)(const struct hdr_histogram *);
typedef void (*hc_reset_fn)(struct hdr_histogram *);
static struct { hc_init_fn init; hc_record_fn record, record_atomic; hc_pct_fn pct; hc_stat_fn mean, stddev; hc_reset_fn reset; } hc;

static void load_peers(const char *argv0) {
    char path[4096];
    const char *p = getenv("HDRSWIFT_PEER");
    if (!p) {
        /* default: the repository's benchmarks/peers/lib, from build/bench/bench_hist */
        char exe[4000];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        snprintf(path, sizeof path, "%s/../../benchmarks/peers/lib/libHdrSwiftPeer.so", exe);
        p = path;
    }
    (void)argv0;
    void *lib = dlopen(p, RTLD_NOW | RTLD_LOCAL);
    if (lib) {
        hs.create = (hs_create_fn)dlsym(lib, "hs_create");
        hs.record = (hs_record_fn)dlsym(lib, "hs_record");
        hs.pct = (hs_pct_fn)dlsym(lib, "hs_value_at_percentile");
        hs.mean = (hs_stat_fn)dlsym(lib, "hs_mean");
        hs.stddev = (hs_stat_fn)dlsym(lib, "hs_stddev");
        hs.destroy = (hs_destroy_fn)dlsym(lib, "hs_destroy");
        if (!hs.create || !hs.record || !hs.pct || !hs.destroy) hs.create = NULL;
    }
    const char *c = getenv("HDR_C_LIB");
    void *cl = dlopen(c ? c : "libhdr_histogram.so.6", RTLD_NOW | RTLD_LOCAL);
    if (!cl && !c) cl = dlopen("libhdr_histogram.so", RTLD_NOW | RTLD_LOCAL);
    if (cl) {
        hc.init = (hc_init_fn)dlsym(cl, "hdr_init");
        hc.record = (hc_record_fn)dlsym(cl, "hdr_record_value");
        hc.record_atomic = (hc_record_fn)dlsym(cl, "hdr_record_value_atomic");
        hc.pct = (hc_pct_fn)dlsym(cl, "hdr_value_at_percentile");
        hc.mean = (hc_stat_fn)dlsym(cl, "hdr_mean");
        hc.stddev = (hc_stat_fn)dlsym(cl, "hdr_stddev");
        hc.reset = (hc_reset_fn)dlsym(cl, "hdr_reset");
        if (!hc.init || !hc.record || !hc.pct || !hc.reset) hc.init = NULL;
    }
}

/* ---- the call twin: the floor's record as a C function in its own .so (peers/) ------------ */
floor_hist *twin_create(void);
int twin_record(floor_hist *h, int64_t v);

__attribute__((noinline)) static double ns_record_twin(floor_hist *t) {
    int bad = 0;
    double t0 = now_s();
    for (int i = 0; i < N; i++) bad |= twin_record(t, vals[i]);
    double t1 = now_s();
    sink = bad;
    return (t1 - t0) * 1e9 / N;
}

/* ---- measurements ---------------------------------------------------------------------- */
static double ns_record_ours(alphacore_hist *h) {
    alphacore_hist_reset(h);
    int bad = 0;
    double t0 = now_s();
    for (int i = 0; i < N; i++) bad |= alphacore_hist_record(h, vals[i]);
    double t1 = now_s();
    sink = bad;
    return (t1 - t0) * 1e9 / N;
}

static double ns_record_floor(floor_hist *f) {
    floor_reset(f);
    int bad = 0;
    double t0 = now_s();
    for (int i = 0; i < N; i++) bad |= floor_record(f, vals[i]);
    double t1 = now_s();
    sink = bad + f->total;
    return (t1 - t0) * 1e9 / N;
}

static double ns_record_inline(alphacore_hist *h) {
    alphacore_hist_reset(h);
    int bad = 0;
    double t0 = now_s();
    for (int i = 0; i < N; i++) bad |= alphacore_hist_record_inline(h, vals[i]);
    double t1 = now_s();
    sink = bad;
    return (t1 - t0) * 1e9 / N;
}

static double ns_record_batch(alphacore_hist *h) {
    alphacore_hist_reset(h);
    double t0 = now_s();
    int rc = alphacore_hist_record_batch(h, vals, N);
    double t1 = now_s();
    sink = rc;
    return (t1 - t0) * 1e9 / N;
}

static double ns_record_atomic(alphacore_hist *h) {
    alphacore_hist_reset(h);
    int bad = 0;
    double t0 = now_s();
    for (int i = 0; i < N; i++) bad |= alphacore_hist_record_atomic(h, vals[i]);
    double t1 = now_s();
    sink = bad;
    return (t1 - t0) * 1e9 / N;
}

static double ns_cycles_record(alphacore_hist *h, int inline_tsc) {
    alphacore_hist_reset(h);
    uint64_t prev = alphacore_cycles();
    double t0 = now_s();
    if (inline_tsc) {
        for (int i = 0; i < N; i++) {
            uint64_t c = alphacore_rdtsc();
            alphacore_hist_record(h, (int64_t)(c - prev) & 0xFFFFF);
            prev = c;
        }
    } else {
        for (int i = 0; i < N; i++) {
            uint64_t c = alphacore_cycles();
            alphacore_hist_record(h, (int64_t)(c - prev) & 0xFFFFF);
            prev = c;
        }
    }
    double t1 = now_s();
    return (t1 - t0) * 1e9 / N;
}

static double ns_record_hs(void *p) {
    int bad = 0;
    double t0 = now_s();
    for (int i = 0; i < N; i++) bad |= !hs.record(p, (uint64_t)vals[i]);
    double t1 = now_s();
    sink = bad;
    return (t1 - t0) * 1e9 / N;
}

static double ns_record_hc(struct hdr_histogram *p, hc_record_fn fn) {
    hc.reset(p);
    int bad = 0;
    double t0 = now_s();
    for (int i = 0; i < N; i++) bad |= !fn(p, vals[i]);
    double t1 = now_s();
    sink = bad;
    return (t1 - t0) * 1e9 / N;
}

/* threads */
struct job { alphacore_hist *h; alphacore_recorder *r; int mode; double cpu[2]; };
static void pin_self(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static int next_cpu;
static void *writer(void *arg) {
    struct job *j = arg;
    int me = __atomic_fetch_add(&next_cpu, 1, __ATOMIC_SEQ_CST) % 2;
    pin_self(me);
    double c0 = now_s();
    if (j->mode == 0) {
        for (int i = 0; i < N; i++) alphacore_hist_record_atomic(j->h, vals[i]);
    } else {
        for (int i = 0; i < N; i++) alphacore_recorder_record(j->r, vals[i]);
    }
    j->cpu[me] = now_s() - c0;
    return NULL;
}

static volatile int writers_running;
static double mvps_two_writers(struct job *j, alphacore_hist *sampled, int64_t *sampled_total) {
    pthread_t t[2];
    double t0 = wall_s();
    __atomic_store_n(&writers_running, 2, __ATOMIC_SEQ_CST);
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, writer, j);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    double t1 = wall_s();
    (void)sampled; (void)sampled_total;
    /* also the rate the writers reach on the CPU time they got (the machine is shared) */
    double slowest = j->cpu[0] > j->cpu[1] ? j->cpu[0] : j->cpu[1];
    j->cpu[0] = 2.0 * N / slowest / 1e6;
    return 2.0 * N / (t1 - t0) / 1e6;
}

/* recorder run with a sampler thread sampling every 5 ms while the writers write */
struct sampler_arg { alphacore_recorder *r; alphacore_hist *into, *sum; volatile int stop; int samples; };
static void *sampler(void *arg) {
    struct sampler_arg *s = arg;
    struct timespec pause = {0, 5000000};
    while (!s->stop) {
        nanosleep(&pause, NULL);
        alphacore_recorder_sample(s->r, s->into);
        alphacore_hist_add(s->sum, s->into);
        s->samples++;
    }
    return NULL;
}

/* The deflate that any byte-identical V2 encoder must run: our encoding is un-base64'd and
 * inflated back to the V2 payload, which zlib then compresses at the default level, alone. */
static int b64val(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

static double ns_deflate_alone(alphacore_hist *h, int reps) {
    int64_t need = alphacore_hist_encode(h, NULL, 0);
    char *text = malloc((size_t)need + 1);
    unsigned char *raw = malloc((size_t)need), *payload = malloc(1 << 22), *out = malloc(1 << 22);
    alphacore_hist_encode(h, text, (size_t)need + 1);
    size_t n = 0;
    unsigned acc = 0, bits = 0;
    for (char *p = text; *p; p++) {
        int v = b64val(*p);
        if (v < 0) continue;
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) { bits -= 8; raw[n++] = (unsigned char)(acc >> bits); }
    }
    uLongf plen = 1 << 22;
    double ns = 0;
    if (n > 8 && uncompress(payload, &plen, raw + 8, n - 8) == Z_OK) {
        double t0 = now_s();
        for (int i = 0; i < reps; i++) {
            uLongf olen = 1 << 22;
            compress2(out, &olen, payload, plen, Z_DEFAULT_COMPRESSION);
            sink += (int64_t)olen;
        }
        ns = (now_s() - t0) * 1e9 / reps;
    }
    free(text); free(raw); free(payload); free(out);
    return ns;
}

static double time_loop_ns(const char *what, alphacore_hist *h, int reps) {
    double ps7[7] = {50.0, 90.0, 99.0, 99.9, 99.99, 99.999, 100.0};
    int64_t out7[7];
    double m, s;
    char *buf = NULL;
    int64_t need = alphacore_hist_encode(h, NULL, 0);
    buf = malloc((size_t)need * 2 + 1);
    double t0 = now_s();
    for (int i = 0; i < reps; i++) {
        if (!strcmp(what, "p99.9")) sink += alphacore_hist_value_at_percentile(h, 99.9);
        else if (!strcmp(what, "p50")) sink += alphacore_hist_value_at_percentile(h, 50.0);
        else if (!strcmp(what, "7 percentiles")) { alphacore_hist_value_at_percentiles(h, ps7, out7, 7); sink += out7[3]; }
        else if (!strcmp(what, "mean+stddev")) { alphacore_hist_mean_stddev(h, &m, &s); sink += (int64_t)(m + s); }
        else if (!strcmp(what, "encode")) sink += alphacore_hist_encode(h, buf, (size_t)need + 1);
        else if (!strcmp(what, "encode level 1")) sink += alphacore_hist_encode_level(h, 1, buf, (size_t)need * 2 + 1);
    }
    double t1 = now_s();
    free(buf);
    return (t1 - t0) * 1e9 / reps;
}

static void report(const char *name, double ours, const char *peer, double theirs, const char *unit) {
    if (theirs > 0)
        printf("%-34s %10.2f %-5s  %-26s %10.2f %-5s  ratio %.3f\n", name, ours, unit, peer, theirs, unit, ours / theirs);
    else
        printf("%-34s %10.2f %-5s  %-26s %10s\n", name, ours, unit, peer, "n/a");
}

static double best(double a, double b) { return a < b ? a : b; }

int main(int argc, char **argv) {
    (void)argc;
    load_peers(argv[0]);
    vals = malloc((size_t)N * sizeof *vals);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < N; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        double u = (double)(x >> 11) / 9007199254740992.0;
        vals[i] = (int64_t)exp(log(20.0) + u * (log(1e7) - log(20.0)));
    }
    alphacore_hist *h = NULL;
    if (alphacore_hist_create(1, HIGHEST, 3, &h) != 0) { fprintf(stderr, "create failed\n"); return 1; }
    floor_hist *f = floor_create();
    void *hsp = hs.create ? hs.create(1, HIGHEST) : NULL;
    struct hdr_histogram *hcp = NULL;
    if (hc.init && hc.init(1, HIGHEST, 3, &hcp) != 0) hcp = NULL;

    printf("histogram benchmark: %d values log-uniform 20 ns .. 10 ms, 1 .. 3.6e12, 3 digits; best of %d rounds\n", N, ROUNDS);
    printf("footprint: %lld bytes\n", (long long)alphacore_hist_footprint(h));
    double b_ours = 1e9, b_floor = 1e9, b_hs = 1e9, b_hc = 1e9, b_hca = 1e9, b_batch = 1e9, b_atomic = 1e9;
    double b_cyc = 1e9, b_tsc = 1e9, b_freg = 1e9, b_inl = 1e9, b_fc = 1e9, b_twin = 1e9;
    floor_hist_c *fc = floor_c_create();
    floor_hist *tw = twin_create();
    if (!tw) { fprintf(stderr, "twin_create failed\n"); return 1; }
    for (int r = 0; r < ROUNDS; r++) {
        b_floor = best(b_floor, ns_record_floor(f));
        b_ours = best(b_ours, ns_record_ours(h));
        b_freg = best(b_freg, ns_record_floor_registers());
        b_fc = best(b_fc, ns_record_floor_c(fc));
        b_twin = best(b_twin, ns_record_twin(tw));
        b_inl = best(b_inl, ns_record_inline(h));
        b_batch = best(b_batch, ns_record_batch(h));
        b_atomic = best(b_atomic, ns_record_atomic(h));
        b_cyc = best(b_cyc, ns_cycles_record(h, 0));
        b_tsc = best(b_tsc, ns_cycles_record(h, 1));
        if (hsp && r < 2) b_hs = best(b_hs, ns_record_hs(hsp));
        if (hcp) b_hc = best(b_hc, ns_record_hc(hcp, hc.record));
        if (hcp && hc.record_atomic) b_hca = best(b_hca, ns_record_hc(hcp, hc.record_atomic));
    }
    report("record (ns/value)", b_ours, "inline C floor", b_floor, "ns");
    report("record (ns/value)", b_ours, "floor, HdrHistogram_c layout", b_fc, "ns");
    report("record (ns/value)", b_ours, "floor, registers", b_freg, "ns");
    report("record (ns/value)", b_ours, "floor as a C call into a .so", b_twin, "ns");
    report("  the call's own cost: C call / floor", b_twin, "inline C floor", b_floor, "ns");
    report("record (ns/value)", b_ours, "hdrhistogram-swift", hsp ? b_hs : 0, "ns");
    report("record (ns/value)", b_ours, "HdrHistogram_c (.so)", hcp ? b_hc : 0, "ns");
    report("record_inline (header) (ns/value)", b_inl, "inline C floor", b_floor, "ns");
    report("record_inline (header) (ns/value)", b_inl, "floor, HdrHistogram_c layout", b_fc, "ns");
    report("record_batch (ns/value)", b_batch, "inline C floor", b_floor, "ns");
    report("record_atomic (ns/value)", b_atomic, "HdrHistogram_c atomic", hcp && hc.record_atomic ? b_hca : 0, "ns");
    report("alphacore_cycles()+record", b_cyc, "(target <= 30 ns)", 30.0, "ns");
    report("inline rdtsc+record", b_tsc, "(for comparison)", 0, "ns");

    /* Two writers: atomic on one histogram, and the recorder with a sampler. */
    double b_two_atomic = 0, b_rec = 0, c_two_atomic = 0, c_rec = 0;
    int64_t lost = 0;
    int samples = 0;
    alphacore_recorder *rec = NULL;
    alphacore_recorder_create(1, HIGHEST, 3, &rec);
    alphacore_hist *into = NULL, *sum = NULL;
    alphacore_hist_create(1, HIGHEST, 3, &into);
    alphacore_hist_create(1, HIGHEST, 3, &sum);
    for (int r = 0; r < ROUNDS; r++) {
        alphacore_hist_reset(h);
        struct job ja = {h, NULL, 0, {0, 0}};
        double a = mvps_two_writers(&ja, NULL, NULL);
        if (a > b_two_atomic) b_two_atomic = a;
        if (ja.cpu[0] > c_two_atomic) c_two_atomic = ja.cpu[0];
        if (alphacore_hist_total_count(h) != 2LL * N) lost += 2LL * N - alphacore_hist_total_count(h);

        alphacore_recorder_sample(rec, into);     /* start a clean interval */
        alphacore_hist_reset(sum);
        struct sampler_arg sa = {rec, into, sum, 0, 0};
        pthread_t st;
        pthread_create(&st, NULL, sampler, &sa);
        struct job jr = {NULL, rec, 1, {0, 0}};
        double m = mvps_two_writers(&jr, NULL, NULL);
        if (jr.cpu[0] > c_rec) c_rec = jr.cpu[0];
        sa.stop = 1;
        pthread_join(st, NULL);
        alphacore_recorder_sample(rec, into);
        alphacore_hist_add(sum, into);
        if (alphacore_hist_total_count(sum) != 2LL * N) lost += 2LL * N - alphacore_hist_total_count(sum);
        samples += sa.samples;
        if (m > b_rec) b_rec = m;
    }
    report("2 threads, record_atomic (M/s)", b_two_atomic, "(HdrHistogram_c: ~28 M/s)", 0, "M/s");
    report("recorder, 2 writers (M/s)", b_rec, "(target >= 150 M/s)", 150.0, "M/s");
    report("  same, on writers' CPU time (M/s)", c_rec, "(target >= 150 M/s)", 150.0, "M/s");
    report("  2 x record_atomic, CPU time (M/s)", c_two_atomic, "", 0, "M/s");
    printf("recorder: %d samples taken while writing; values lost or duplicated: %lld\n", samples, (long long)lost);

    /* Queries on the full histogram. */
    alphacore_hist_reset(h);
    alphacore_hist_record_batch(h, vals, N);
    if (hsp) { hs.destroy(hsp); hsp = hs.create(1, HIGHEST); for (int i = 0; i < N; i++) hs.record(hsp, (uint64_t)vals[i]); }
    if (hcp) { hc.reset(hcp); for (int i = 0; i < N; i++) hc.record(hcp, vals[i]); }
    double q999 = 1e9, q50 = 1e9, q7 = 1e9, qms = 1e9, qenc = 1e9, hs999 = 0, hc999 = 0, hsms = 0, hcms = 0;
    double qenc1 = 1e9, qz = 1e9;
    for (int r = 0; r < ROUNDS; r++) {
        q999 = best(q999, time_loop_ns("p99.9", h, 20000));
        q50 = best(q50, time_loop_ns("p50", h, 2000));
        q7 = best(q7, time_loop_ns("7 percentiles", h, 2000));
        qms = best(qms, time_loop_ns("mean+stddev", h, 500));
        qenc = best(qenc, time_loop_ns("encode", h, 50));
        qenc1 = best(qenc1, time_loop_ns("encode level 1", h, 50));
        qz = best(qz, ns_deflate_alone(h, 50));
    }
    if (hsp) {
        double t0 = now_s();
        for (int i = 0; i < 20; i++) sink += (int64_t)hs.pct(hsp, 99.9);
        hs999 = (now_s() - t0) * 1e9 / 20;
        if (hs.mean && hs.stddev) {
            t0 = now_s();
            for (int i = 0; i < 20; i++) sink += (int64_t)(hs.mean(hsp) + hs.stddev(hsp));
            hsms = (now_s() - t0) * 1e9 / 20;
        }
    }
    if (hcp) {
        double t0 = now_s();
        for (int i = 0; i < 200; i++) sink += hc.pct(hcp, 99.9);
        hc999 = (now_s() - t0) * 1e9 / 200;
        t0 = now_s();
        for (int i = 0; i < 200; i++) sink += (int64_t)(hc.mean(hcp) + hc.stddev(hcp));
        hcms = (now_s() - t0) * 1e9 / 200;
    }
    report("p99.9 (ns)", q999, "hdrhistogram-swift", hs999, "ns");
    report("p99.9 (ns)", q999, "HdrHistogram_c", hc999, "ns");
    report("p50 (ns)", q50, "(no target)", 0, "ns");
    report("7 percentiles, one pass (ns)", q7, "(target <= 10000 ns)", 10000, "ns");
    report("mean+stddev (ns)", qms, "hdrhistogram-swift", hsms, "ns");
    report("mean+stddev (ns)", qms, "HdrHistogram_c", hcms, "ns");
    report("encode V2 base64 (ns)", qenc, "(target <= 1,000,000 ns)", 1e6, "ns");
    report("encode V2 base64 (ns)", qenc, "zlib level 6 alone", qz, "ns");
    report("encode_level 1 (ns)", qenc1, "(target <= 1,000,000 ns)", 1e6, "ns");
    int64_t need = alphacore_hist_encode(h, NULL, 0);
    int64_t need1 = alphacore_hist_encode_level(h, 1, NULL, 0);
    printf("encoded size: %lld bytes (level 1: %lld bytes)\n", (long long)need, (long long)need1);

    if (hsp) hs.destroy(hsp);
    alphacore_recorder_destroy(rec);
    alphacore_hist_destroy(into); alphacore_hist_destroy(sum); alphacore_hist_destroy(h);
    return lost == 0 ? 0 : 1;
}
