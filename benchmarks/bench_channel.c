/* Channel benchmark: ours through the C ABI beside a C seqlock ring written here (the floor) and
 * boost::lockfree::spsc_queue in boost::interprocess shared memory (peers/boost_spsc.cpp), same
 * scenarios, same run, alternating. Producer and consumer are two processes pinned to CPU 0 and
 * CPU 1; messages are 64 bytes.
 *   pingpong  A sends to B on one ring, B answers on another; one-way = round trip / 2 (p50, p99)
 *   oneway    A sends every ~2 us with its send time (cycles) inside; B takes now - sent (p50, p99)
 *   spsc      A sends 4M messages as fast as the ring allows (no loss: ours in BACKPRESSURE, the
 *             floor with a consumer index, boost's queue is SPSC); B takes them in batches; msgs/s
 *   bcast2    ours, BROADCAST to 2 consumer processes at 200k msgs/s: messages lost (goal 0)
 * Each figure is the median of the rounds. Beside it: the doctor's core-to-core probe (one-way
 * cache-line transfer, the physical limit), and a malloc count over our hot loops.
 *
 *   make bench BENCH=channel          (CHANNEL_BENCH_ROUNDS=n, default 5)
 */
#define _GNU_SOURCE
#include <alphacore.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define MSG 64
#define TRIPS 50000
#define ONEWAY 50000
#define SPSC_N 4000000
#define BATCH 64

static inline void alphacore_cpu_relax(void) { __builtin_ia32_pause(); }
static inline void relax(void);   /* pause, and now and then: is the child still there? */

/* ---- malloc counter (this program interposes malloc: our hot loops must not call it) ----- */
extern void *__libc_malloc(size_t);
static _Atomic long mallocs;
void *malloc(size_t n) { atomic_fetch_add_explicit(&mallocs, 1, memory_order_relaxed); return __libc_malloc(n); }

/* ---- boost peer (C API over the C++ queue) ------------------------------------------------- */
void *bq_open(const char *name, int create);
void bq_close(void *p);
void bq_remove(const char *name);
int bq_push(void *p, const void *msg);
int bq_pop(void *p, void *out);
int bq_pop_many(void *p, void *out, int max);

/* ---- the floor: a C seqlock ring, 8192 slots of 128 bytes, optional consumer index --------- */
#define FSLOTS 8192
typedef struct { _Atomic uint64_t seq; unsigned char data[MSG]; unsigned char pad[128 - 8 - MSG]; } fslot;
typedef struct {
    _Alignas(64) fslot slots[FSLOTS];
    _Alignas(64) _Atomic uint64_t read;    /* consumer: next n it will read (backpressure) */
} fring;
typedef struct { fring *r; uint64_t n, limit; int bp, timed; } fprod;
typedef struct { fring *r; uint64_t n; } fcons;

static inline void floor_send(fprod *p, const void *msg) {
    if (p->bp && p->n >= p->limit) {
        while ((p->limit = atomic_load_explicit(&p->r->read, memory_order_acquire) + FSLOTS) <= p->n)
            relax();
    }
    fslot *s = &p->r->slots[p->n & (FSLOTS - 1)];
    atomic_store_explicit(&s->seq, 2 * p->n + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    memcpy(s->data, msg, MSG);
    if (p->timed) { uint64_t t = alphacore_rdtsc(); memcpy(s->pad, &t, 8); }   /* a publish time, like ours */
    atomic_store_explicit(&s->seq, 2 * p->n + 2, memory_order_release);
    p->n++;
}
/* 1 = got message n into out, 0 = not yet, -1 = lapped */
static inline int floor_recv(fcons *c, void *out) {
    fslot *s = &c->r->slots[c->n & (FSLOTS - 1)];
    uint64_t want = 2 * c->n + 2, s1 = atomic_load_explicit(&s->seq, memory_order_acquire);
    if (s1 != want) return s1 > want ? -1 : 0;
    memcpy(out, s->data, MSG);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&s->seq, memory_order_relaxed) != want) return -1;
    c->n++;
    return 1;
}
static inline void floor_release(fcons *c) { atomic_store_explicit(&c->r->read, c->n, memory_order_release); }

/* ---- /dev/shm names: pid + random, and removed on every way out ---------------------------
 * Every name this run creates is listed here; the list is unlinked at exit, on SIGINT/SIGTERM/
 * SIGHUP, and when a child fails. Children (forked) never clean up: the parent owns the names. */
#define MAXNAMES 8
static char live[MAXNAMES][96];
static int live_boost[MAXNAMES];
static pid_t owner_pid;
static unsigned run_salt;
static void name_for(char *buf, size_t cap, const char *what, int a, int b) {
    snprintf(buf, cap, "bench-%s-%d-%08x-%d-%d", what, (int)getpid(), run_salt, a, b);
}
static void remember(const char *name, int boost) {
    for (int i = 0; i < MAXNAMES; i++)
        if (!live[i][0]) { snprintf(live[i], sizeof live[i], "%s", name); live_boost[i] = boost; return; }
}
static void forget(const char *name) {
    for (int i = 0; i < MAXNAMES; i++) if (strcmp(live[i], name) == 0) live[i][0] = 0;
}
static void cleanup(void) {
    if (getpid() != owner_pid) return;
    for (int i = 0; i < MAXNAMES; i++) {
        if (!live[i][0]) continue;
        if (live_boost[i]) bq_remove(live[i]); else alphacore_channel_unlink(live[i]);
        live[i][0] = 0;
    }
}
static void on_signal(int sig) {
    cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}
static void install_cleanup(void) {
    owner_pid = getpid();
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    run_salt = (unsigned)ts.tv_nsec ^ (unsigned)getpid() * 2654435761u;
    atexit(cleanup);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
}
/* A child that failed: clean up and stop (its figures would be wrong). */
static void reap(pid_t pid, const char *what) {
    int st = 0;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench_channel: the %s child failed (status 0x%x)\n", what, st);
        exit(1);   /* atexit: cleanup */
    }
}

/* The parent's spin loops look at the child now and then: a child that died fails the run
 * (instead of a hang); a child dies with its parent (PR_SET_PDEATHSIG). */
static pid_t child_pid;
static unsigned long spins;
static inline void relax(void) {
    alphacore_cpu_relax();
    if ((++spins & 0xfffff) == 0 && child_pid > 0) {
        int st = 0;
        if (waitpid(child_pid, &st, WNOHANG) == child_pid) {
            fprintf(stderr, "bench_channel: the child exited early (status 0x%x)\n", st);
            exit(1);   /* atexit: cleanup */
        }
    }
}
static pid_t fork_child(void) {
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); exit(1); }
    if (pid == 0) {
        child_pid = 0;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != owner_pid) _exit(1);
    }
    return pid;
}

/* ---- helpers ------------------------------------------------------------------------------ */
static void pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    sched_setaffinity(0, sizeof s, &s);
}
static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}
static uint64_t pct(uint64_t *v, size_t n, double p) {
    qsort(v, n, sizeof *v, cmp_u64);
    return v[(size_t)(p / 100.0 * (double)(n - 1))];
}
static double median(double *v, int n) {
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) { double t = v[j]; v[j] = v[j - 1]; v[j - 1] = t; }
    return v[n / 2];
}
static void *shared(size_t n) {
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); exit(1); }
    return p;
}

/* One implementation behind three calls, per direction (0: A->B, 1: B->A). */
enum { FLOOR, OURS, BOOST, NIMPL };
static const char *impl_name[NIMPL] = {"floor (C seqlock ring)", "ours (alphacore_channel)", "boost spsc_queue"};
static char names[2][96];
static fring *frings[2];
static fprod fp[2];
static fcons fc[2];
static alphacore_channel *ch[2];
static alphacore_channel_reader *rd[2];
static void *bq[2];
/* The SPSC scenario runs twice: 0 = as the others (ours with CYCLES publish times, the floor
 * without any), 1 = the floor with an rdtsc publish time per message and ours with NO_TIME. */
static int spsc_timing;

static void setup(int impl, int bp) {   /* before fork: the producer side of both rings */
    for (int d = 0; d < 2; d++) {
        name_for(names[d], sizeof names[d], "ch", impl, d);
        if (impl == FLOOR) {
            frings[d] = shared(sizeof(fring));
            fp[d] = (fprod){frings[d], 0, FSLOTS, bp, bp && spsc_timing};
            fc[d] = (fcons){frings[d], 0};
        } else if (impl == OURS) {
            alphacore_channel_opts o = ALPHACORE_CHANNEL_OPTS_INIT;
            o.capacity = 1u << 20; o.max_msg = MSG;
            o.flags = (bp && spsc_timing ? ALPHACORE_CHANNEL_NO_TIME : ALPHACORE_CHANNEL_CYCLES)
                      | (bp ? ALPHACORE_CHANNEL_BACKPRESSURE : 0);
            int rc = alphacore_channel_create(names[d], &o, &ch[d]);
            if (rc != 0) { fprintf(stderr, "create: %s\n", alphacore_last_detail()); exit(1); }
            remember(names[d], 0);
        } else {
            bq_remove(names[d]);
            remember(names[d], 1);
            bq[d] = bq_open(names[d], 1);
            if (!bq[d]) { fprintf(stderr, "boost segment refused\n"); exit(1); }
        }
    }
}
static void open_reader(int impl, int d) {   /* in the process that reads direction d */
    if (impl == OURS && alphacore_channel_open(names[d], NULL, &rd[d]) != 0) {
        fprintf(stderr, "open: %s\n", alphacore_last_detail());
        exit(1);
    }
}
static void teardown(int impl) {
    for (int d = 0; d < 2; d++) {
        if (impl == FLOOR) munmap(frings[d], sizeof(fring));
        else if (impl == OURS) { alphacore_channel_destroy(ch[d]); alphacore_channel_unlink(names[d]); forget(names[d]); }
        else { bq_close(bq[d]); bq_remove(names[d]); forget(names[d]); }
    }
}
static inline void send(int impl, int d, const void *m) {
    if (impl == FLOOR) floor_send(&fp[d], m);
    else if (impl == OURS) {
        void *p;
        while (alphacore_channel_claim(ch[d], MSG, &p) != 0) relax();
        memcpy(p, m, MSG);
        alphacore_channel_commit(ch[d], p);
    } else while (!bq_push(bq[d], m)) relax();
}
/* Spins until one message arrives; copies it into out. */
static inline void recv1(int impl, int d, void *out) {
    if (impl == FLOOR) { while (floor_recv(&fc[d], out) != 1) relax(); return; }
    if (impl == BOOST) { while (!bq_pop(bq[d], out)) relax(); return; }
    alphacore_channel_msg m;
    for (;;) {
        int n = alphacore_channel_poll(rd[d], &m, 1);
        if (n == 1) {
            memcpy(out, m.data, MSG);
            if (alphacore_channel_reader_check(rd[d]) == 0) return;
        }
        relax();
    }
}
/* Takes up to BATCH messages; returns the count; `sum` reads each message's first word. */
static inline int recv_batch(int impl, int d, uint64_t *sum) {
    static unsigned char buf[BATCH][MSG];
    int n = 0;
    if (impl == FLOOR) {
        while (n < BATCH && floor_recv(&fc[d], buf[n]) == 1) { *sum += *(uint64_t *)buf[n]; n++; }
        if (n) floor_release(&fc[d]);
    } else if (impl == BOOST) {
        n = bq_pop_many(bq[d], buf, BATCH);
        for (int i = 0; i < n; i++) *sum += *(uint64_t *)buf[i];
    } else {
        alphacore_channel_msg m[BATCH];
        n = alphacore_channel_poll(rd[d], m, BATCH);
        for (int i = 0; i < n; i++) *sum += *(const uint64_t *)m[i].data;
        if (n < 0) n = 0;
    }
    return n;
}

typedef struct { double pp50, pp99, ow50, ow99, mps; long child_mallocs; } result;
static result *res;   /* shared with the child */
static int backoff;   /* CHANNEL_BENCH_BACKOFF: pauses after an empty batch (every implementation) */

static void run_child(int impl, int scenario) {
    pin(1);
    open_reader(impl, 0);
    unsigned char m[MSG];
    long m0 = atomic_load(&mallocs);
    if (scenario == 0) {
        for (int i = 0; i < TRIPS; i++) { recv1(impl, 0, m); send(impl, 1, m); }
    } else if (scenario == 1) {
        uint64_t *lat = malloc(sizeof(uint64_t) * ONEWAY);
        m0 = atomic_load(&mallocs);
        for (int i = 0; i < ONEWAY; i++) {
            recv1(impl, 0, m);
            uint64_t now = alphacore_rdtsc(), sent;
            memcpy(&sent, m, 8);
            lat[i] = now > sent ? now - sent : 0;
        }
        res->child_mallocs = atomic_load(&mallocs) - m0;
        res->ow50 = (double)alphacore_cycles_to_ns(pct(lat, ONEWAY, 50));
        res->ow99 = (double)alphacore_cycles_to_ns(pct(lat, ONEWAY, 99));
        _exit(0);
    } else {
        uint64_t got = 0, sum = 0, t0 = 0;
        while (got < SPSC_N) {
            int n = recv_batch(impl, 0, &sum);
            if (n && !t0) t0 = alphacore_now_ns();
            got += (uint64_t)n;
            if (n == 0) for (int k = 0; k < backoff; k++) alphacore_cpu_relax();
        }
        uint64_t t1 = alphacore_now_ns();
        res->mps = (double)SPSC_N / ((double)(t1 - t0) / 1e9);
        if (sum != (uint64_t)SPSC_N * (SPSC_N - 1) / 2) res->mps = -1;   /* lost or torn */
    }
    res->child_mallocs = atomic_load(&mallocs) - m0;
    _exit(0);
}

static void run(int impl, int scenario) {
    setup(impl, scenario == 2);
    pid_t pid = fork_child();
    if (pid == 0) run_child(impl, scenario);
    child_pid = pid;
    pin(0);
    open_reader(impl, 1);
    usleep(20000);
    unsigned char m[MSG] = {0};
    if (scenario == 0) {
        uint64_t *rtt = malloc(sizeof(uint64_t) * TRIPS);
        for (int i = 0; i < TRIPS; i++) {
            uint64_t t = alphacore_rdtsc();
            memcpy(m, &t, 8);
            send(impl, 0, m);
            recv1(impl, 1, m);
            rtt[i] = alphacore_rdtsc() - t;
        }
        res->pp50 = (double)alphacore_cycles_to_ns(pct(rtt, TRIPS, 50)) / 2;
        res->pp99 = (double)alphacore_cycles_to_ns(pct(rtt, TRIPS, 99)) / 2;
        free(rtt);
    } else if (scenario == 1) {
        uint64_t gap = alphacore_cycles_per_second() / 500000;   /* 2 us */
        for (int i = 0; i < ONEWAY; i++) {
            uint64_t t = alphacore_rdtsc();
            while (alphacore_rdtsc() - t < gap) alphacore_cpu_relax();
            t = alphacore_rdtsc();
            memcpy(m, &t, 8);
            send(impl, 0, m);
        }
    } else {
        for (uint64_t i = 0; i < SPSC_N; i++) { memcpy(m, &i, 8); send(impl, 0, m); }
    }
    child_pid = 0;
    reap(pid, impl_name[impl]);
    if (impl == OURS) { alphacore_channel_reader_close(rd[1]); rd[1] = NULL; }
    teardown(impl);
}

/* Broadcast to two consumer processes at a pace they keep up with: messages lost. */
static uint64_t bcast2(void) {
    char name[96];
    name_for(name, sizeof name, "bc", 0, 0);
    alphacore_channel_opts o = ALPHACORE_CHANNEL_OPTS_INIT;
    o.capacity = 1u << 20; o.max_msg = MSG;
    alphacore_channel *c;
    if (alphacore_channel_create(name, &o, &c) != 0) return (uint64_t)-1;
    remember(name, 0);
    const uint64_t n = 400000;
    uint64_t *lost = shared(4096);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        if ((kids[k] = fork_child()) == 0) {
            alphacore_channel_reader_opts ro = ALPHACORE_CHANNEL_READER_OPTS_INIT;
            ro.flags = ALPHACORE_CHANNEL_READER_SLEEP;
            alphacore_channel_reader *r;
            if (alphacore_channel_open(name, &ro, &r) != 0) _exit(1);
            __atomic_add_fetch(&lost[8], 1, __ATOMIC_SEQ_CST);
            alphacore_channel_msg m[BATCH];
            uint64_t got = 0, seen = 0;
            while (seen < n) {
                if (alphacore_channel_wait(r, 1000000000) != 1) break;
                int k2 = alphacore_channel_poll(r, m, BATCH);
                if (k2 > 0) { got += (uint64_t)k2; seen = m[k2 - 1].seq; }
            }
            alphacore_channel_reader_details d = {.struct_size = sizeof d};
            alphacore_channel_reader_info(r, &d);
            lost[k] = d.lost + (n - got - d.lost);   /* everything not received counts */
            _exit(0);
        }
    }
    while (__atomic_load_n(&lost[8], __ATOMIC_SEQ_CST) < 2) {
        for (int k = 0; k < 2; k++)
            if (waitpid(kids[k], NULL, WNOHANG) == kids[k]) { fprintf(stderr, "bench_channel: a broadcast consumer failed to open\n"); exit(1); }
        usleep(1000);
    }
    uint64_t gap = alphacore_cycles_per_second() / 200000;   /* 200k msgs/s */
    unsigned char m[MSG] = {0};
    for (uint64_t i = 0; i < n; i++) {
        uint64_t t = alphacore_rdtsc();
        while (alphacore_rdtsc() - t < gap) alphacore_cpu_relax();
        memcpy(m, &i, 8);
        alphacore_channel_publish(c, m, MSG);
    }
    for (int k = 0; k < 2; k++) reap(kids[k], "broadcast consumer");
    uint64_t total = lost[0] + lost[1];
    alphacore_channel_destroy(c);
    alphacore_channel_unlink(name);
    forget(name);
    munmap(lost, 4096);
    return total;
}

static void c2c(char *out, size_t cap) {
    static char buf[1 << 16];
    alphacore_doctor_opts o = ALPHACORE_DOCTOR_OPTS_INIT;
    o.flags = ALPHACORE_DOCTOR_PROBE;
    o.cpus = "0-1";
    o.probe_ms = 100;
    snprintf(out, cap, "not measured");
    if (alphacore_doctor_run(&o, buf, sizeof buf, NULL) < 0) return;
    char *p = strstr(buf, "probe.c2c.cpu0.cpu1");
    if (!p || !(p = strstr(p, "\"saw\""))) return;
    p = strchr(p + 5, '"');
    if (!p) return;
    char *e = strchr(p + 1, '"');
    snprintf(out, cap, "%.*s", e ? (int)(e - p - 1) : 40, p + 1);
}

int main(void) {
    int rounds = getenv("CHANNEL_BENCH_ROUNDS") ? atoi(getenv("CHANNEL_BENCH_ROUNDS")) : 5;
    if (rounds < 1 || rounds > 50) rounds = 5;
    install_cleanup();
    res = shared(4096);
    backoff = getenv("CHANNEL_BENCH_BACKOFF") ? atoi(getenv("CHANNEL_BENCH_BACKOFF")) : 0;
    char c2cText[200];
    c2c(c2cText, sizeof c2cText);   /* before this process pins itself to CPU 0 */
    double pp50[NIMPL][50], pp99[NIMPL][50], ow50[NIMPL][50], ow99[NIMPL][50], mps[NIMPL][50], mps2[NIMPL][50];
    long ours_mallocs = 0;
    /* CHANNEL_BENCH_ONLY=pingpong|oneway|spsc runs one scenario (the others print 0). */
    const char *only = getenv("CHANNEL_BENCH_ONLY");
    int want[3] = {1, 1, 1};
    if (only && *only) for (int s = 0; s < 3; s++) want[s] = strcmp(only, (const char *[]){"pingpong", "oneway", "spsc"}[s]) == 0;
    /* CHANNEL_BENCH_IMPL=floor|ours|boost runs one implementation (for perf). */
    const char *onlyImpl = getenv("CHANNEL_BENCH_IMPL");
    memset(pp50, 0, sizeof pp50); memset(pp99, 0, sizeof pp99); memset(ow50, 0, sizeof ow50);
    memset(ow99, 0, sizeof ow99); memset(mps, 0, sizeof mps); memset(mps2, 0, sizeof mps2);
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < NIMPL; i++) {
            if (onlyImpl && *onlyImpl && strcmp(onlyImpl, (const char *[]){"floor", "ours", "boost"}[i]) != 0) continue;
            memset(res, 0, sizeof *res);
            if (want[0]) {
                run(i, 0);
                pp50[i][r] = res->pp50; pp99[i][r] = res->pp99;
                if (i == OURS) ours_mallocs += res->child_mallocs;
            }
            if (want[1]) {
                run(i, 1);
                ow50[i][r] = res->ow50; ow99[i][r] = res->ow99;
                if (i == OURS) ours_mallocs += res->child_mallocs;
            }
            if (want[2]) {
                spsc_timing = getenv("CHANNEL_BENCH_TIMING") != NULL;   /* perf: the second kind only */
                run(i, 2);
                spsc_timing = 0;
                mps[i][r] = res->mps;
                if (i == OURS) ours_mallocs += res->child_mallocs;
                if (i != BOOST && !getenv("CHANNEL_BENCH_NO_LIKE")) {
                    spsc_timing = 1;
                    run(i, 2);
                    spsc_timing = 0;
                    mps2[i][r] = res->mps;
                }
            }
        }
    }
    double l[4];
    getloadavg(l, 3);
    printf("channel benchmark: 64-byte messages, producer on CPU 0, consumer process on CPU 1, %d rounds (median)\n", rounds);
    printf("core-to-core cache-line transfer (doctor probe, cpu0->cpu1): %s\n", c2cText);
    printf("%-26s %12s %12s %12s %12s %14s\n", "", "pingpong p50", "pingpong p99", "oneway p50", "oneway p99", "spsc msgs/s");
    double m50[NIMPL], mo50[NIMPL], mm[NIMPL];
    for (int i = 0; i < NIMPL; i++) {
        m50[i] = median(pp50[i], rounds);
        mo50[i] = median(ow50[i], rounds);
        mm[i] = median(mps[i], rounds);
        printf("%-26s %10.1fns %10.1fns %10.1fns %10.1fns %14.0f\n", impl_name[i], m50[i], median(pp99[i], rounds),
               mo50[i], median(ow99[i], rounds), mm[i]);
    }
    printf("ratios: pingpong p50 ours/floor %.2f (goal <= 1.2), ours/boost %.2f (goal <= 0.8)\n",
           m50[OURS] / m50[FLOOR], m50[OURS] / m50[BOOST]);
    printf("        oneway p50 ours/floor %.2f (goal <= 1.2), ours/boost %.2f (goal <= 0.8)\n",
           mo50[OURS] / mo50[FLOOR], mo50[OURS] / mo50[BOOST]);
    printf("        spsc throughput ours/floor %.2f (goal >= 0.9), ours/boost %.2f (goal >= 1.5)\n",
           mm[OURS] / mm[FLOOR], mm[OURS] / mm[BOOST]);
    double fT = median(mps2[FLOOR], rounds), oN = median(mps2[OURS], rounds);
    printf("spsc, like for like: floor + rdtsc publish time per message %.0f msgs/s, ours CYCLES/that %.2f;\n"
           "                     ours NO_TIME %.0f msgs/s, /floor %.2f, /boost %.2f\n",
           fT, mm[OURS] / fT, oN, oN / mm[FLOOR], oN / mm[BOOST]);
    uint64_t lostb = only && *only ? 0 : bcast2();
    printf("broadcast to 2 consumer processes at 200k msgs/s, 400k messages: %llu lost (goal 0)\n",
           (unsigned long long)lostb);
    printf("malloc calls in our consumer hot loops (all rounds): %ld\n", ours_mallocs);
    printf("load average: %.2f %.2f %.2f\n", l[0], l[1], l[2]);
    return 0;
}
