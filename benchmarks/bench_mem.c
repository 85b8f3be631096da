/* Memory benchmark, in one run, through the installed .so:
 *   1. a pointer chase over 1 GiB in memory from alphacore_mem_alloc, from a raw mmap of 4 KiB
 *      pages and from a raw mmap(MAP_HUGETLB) of 2 MiB pages (and, if the kernel can reserve
 *      one, ours on a 1 GiB page); also the time to fault the 1 GiB in;
 *   2. the ladder's decision (alphacore_mem_plan) against reading the pool's sysfs files by hand;
 *   3. alloc + prefault of 2 MiB: alphacore_mem_alloc(PREFAULT) against mmap(MAP_HUGETLB) +
 *      madvise(MADV_POPULATE_WRITE), median of many.
 * The benchmark reserves the 2 MiB pool for the run (root) and restores both pools at exit,
 * also on SIGINT/SIGTERM. Chase figures are the median of ROUNDS rounds, alternating buffers. */
#define _GNU_SOURCE
#include <alphacore.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MiB (1024ull * 1024)
#define GiB (1024ull * MiB)
#define CHASE_BYTES GiB
#define LINE 64
#define STEPS 4000000u
#define ROUNDS 5

static const char *pool2m = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages";
static const char *pool1g = "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages";
static long saved2m = -1, saved1g = -1;

static long read_long(const char *path) {
    int fd = open(path, O_RDONLY);
    char buf[32];
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    return strtol(buf, NULL, 10);
}

static void write_long(const char *path, long v) {
    int fd = open(path, O_WRONLY);
    char buf[32];
    if (fd < 0) return;
    int n = snprintf(buf, sizeof buf, "%ld\n", v);
    if (write(fd, buf, (size_t)n) < 0) { /* reported by the read-back */ }
    close(fd);
}

static void restore_pools(void) {
    if (saved2m >= 0) write_long(pool2m, saved2m);
    if (saved1g >= 0) write_long(pool1g, saved1g);
}

static void on_signal(int sig) {
    restore_pools();
    signal(sig, SIG_DFL);
    raise(sig);
}

static uint64_t now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time of this thread: excludes the time other processes on the shared machine took. */
static uint64_t cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One random cycle through every cache line (Sattolo), stored as line indices. */
static uint32_t *perm;
static const size_t lines = CHASE_BYTES / LINE;

static void make_perm(void) {
    perm = malloc(lines * sizeof *perm);
    for (size_t i = 0; i < lines; i++) perm[i] = (uint32_t)i;
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (size_t i = lines - 1; i > 0; i--) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        size_t j = s % i;
        uint32_t t = perm[i]; perm[i] = perm[j]; perm[j] = t;
    }
}

/* Writes the cycle into buf (each line holds the offset of the next) and returns the fill time. */
static double fill(char *buf) {
    uint64_t t0 = now();
    for (size_t i = 0; i < lines; i++) *(uint64_t *)(buf + (size_t)i * LINE) = (uint64_t)perm[i] * LINE;
    return (double)(now() - t0) / 1e6;
}

static volatile uint64_t sink;

static double chase(const char *buf) {
    uint64_t off = 0, t0 = now();
    for (unsigned i = 0; i < STEPS; i++) off = *(const uint64_t *)(buf + off);
    uint64_t t1 = now();
    sink = off;
    return (double)(t1 - t0) / STEPS;
}

/* ---- 1. pointer chase ---- */

typedef struct buffer {
    const char *name;
    char *p;
    size_t len;
    int ours;
    alphacore_region r;
    double touch_ms, fill_ms, ns[ROUNDS];
} buffer;

static int map_raw(buffer *b, int huge) {
    uint64_t t0 = now();
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | (huge ? MAP_HUGETLB | (21 << MAP_HUGE_SHIFT) : 0);
    b->p = mmap(NULL, CHASE_BYTES, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (b->p == MAP_FAILED) { b->p = NULL; return -1; }
    if (!huge) madvise(b->p, CHASE_BYTES, MADV_NOHUGEPAGE);   /* really 4 KiB pages */
    for (size_t i = 0; i < CHASE_BYTES; i += 4096) b->p[i] = 0;    /* first touch */
    b->touch_ms = (double)(now() - t0) / 1e6;
    b->len = CHASE_BYTES;
    return 0;
}

static int map_ours(buffer *b, uint64_t page_size) {
    alphacore_mem_opts o = ALPHACORE_MEM_OPTS_INIT;
    o.flags = ALPHACORE_MEM_PREFAULT;
    o.page_size = page_size;
    uint64_t t0 = now();
    int rc = alphacore_mem_alloc(CHASE_BYTES, &o, &b->r);
    if (rc != 0) {
        printf("  %s: %s (%s)\n", b->name, alphacore_strerror(rc), alphacore_last_detail());
        return -1;
    }
    b->touch_ms = (double)(now() - t0) / 1e6;
    b->p = b->r.addr;
    b->len = b->r.size;
    b->ours = 1;
    return 0;
}

static void unmap(buffer *b) {
    if (!b->p) return;
    if (b->ours) alphacore_mem_free(&b->r);
    else munmap(b->p, b->len);
    b->p = NULL;
}

static int raw_first;   /* --raw-first: map the raw MAP_HUGETLB buffer before ours (placement check) */

static void bench_chase(int have_pool) {
    printf("\n1. pointer chase over 1 GiB (%u dependent loads per round, median of %d rounds)\n", STEPS, ROUNDS);
    make_perm();
    buffer bufs[4] = {{.name = "alphacore_mem_alloc"}, {.name = "raw mmap 4 KiB"},
                      {.name = "raw mmap MAP_HUGETLB 2M"}, {.name = "alphacore 1 GiB page"}};
    int n = 0;
    if (raw_first && have_pool && map_raw(&bufs[2], 1) != 0) printf("  raw MAP_HUGETLB failed\n");
    if (map_ours(&bufs[0], 0) == 0) {
        char report[1024];
        alphacore_mem_report(&bufs[0].r, report, sizeof report);
        printf("  ours: %s", report);
        n++;
    }
    if (map_raw(&bufs[1], 0) == 0) n++;
    if (!raw_first && have_pool && map_raw(&bufs[2], 1) != 0) printf("  raw MAP_HUGETLB failed\n");
    for (int i = 0; i < 3; i++) if (bufs[i].p) bufs[i].fill_ms = fill(bufs[i].p);
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < 3; i++) if (bufs[i].p) bufs[i].ns[r] = chase(bufs[i].p);
    for (int i = 0; i < 3; i++) unmap(&bufs[i]);
    /* Ours on a 1 GiB page, if the kernel can reserve one now. */
    write_long(pool1g, 1);
    if (read_long(pool1g) >= 1 && map_ours(&bufs[3], GiB) == 0 && bufs[3].r.backing == ALPHACORE_MEM_HUGE_1G) {
        bufs[3].fill_ms = fill(bufs[3].p);
        for (int r = 0; r < ROUNDS; r++) bufs[3].ns[r] = chase(bufs[3].p);
    } else {
        printf("  (no 1 GiB page could be reserved: that row is skipped)\n");
        unmap(&bufs[3]);
    }
    double med[4] = {0};
    printf("  %-26s %12s %16s\n", "memory", "ns/access", "fault-in 1 GiB");
    for (int i = 0; i < 4; i++) {
        if (!bufs[i].p && i != 3 && bufs[i].ns[0] == 0) continue;
        if (bufs[i].ns[0] == 0) continue;
        med[i] = median(bufs[i].ns, ROUNDS);
        printf("  %-26s %12.1f %13.0f ms\n", bufs[i].name, med[i], bufs[i].touch_ms);
    }
    unmap(&bufs[3]);
    write_long(pool1g, saved1g);
    if (med[0] > 0 && med[2] > 0) printf("  ours / raw MAP_HUGETLB      ratio %.3f (goal <= 1.05)\n", med[0] / med[2]);
    if (med[0] > 0 && med[1] > 0) printf("  raw 4 KiB / ours           speedup %.2fx (goal >= 1.4)\n", med[1] / med[0]);
    if (med[3] > 0 && med[1] > 0) printf("  raw 4 KiB / ours 1 GiB     speedup %.2fx\n", med[1] / med[3]);
    free(perm);
}

/* ---- 2. ladder decision ---- */

static long read_pool_by_hand(void) {
    static const char *files[] = {
        "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages",
        "/sys/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages",
        "/sys/kernel/mm/hugepages/hugepages-2048kB/surplus_hugepages",
        "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_overcommit_hugepages"};
    long v[4];
    for (int i = 0; i < 4; i++) v[i] = read_long(files[i]);
    return v[0] - v[1] + v[2] - v[3];
}

#define DECISIONS 20000

/* The decision for `size`, median of DECISIONS calls. With `fresh`, each call follows the
 * allocation and free of a 2 MiB hugetlb region (untimed, not touched), which voids the
 * library's snapshot of the pool counters: every counter the decision needs is read again. */
static void bench_decision(const char *what, size_t size, int fresh) {
    static double ours[DECISIONS], peer[DECISIONS], cpu[DECISIONS];
    alphacore_region r, h;
    alphacore_mem_opts o = ALPHACORE_MEM_OPTS_INIT, ho = ALPHACORE_MEM_OPTS_INIT;
    ho.flags = ALPHACORE_MEM_REQUIRE_HUGE;
    ho.page_size = 2 * MiB;
    volatile long s = 0;
    for (int i = 0; i < DECISIONS; i++) {
        if (fresh && alphacore_mem_alloc(2 * MiB, &ho, &h) == 0) alphacore_mem_free(&h);
        uint64_t c0 = cpu_now();
        uint64_t t0 = now();
        int rc = alphacore_mem_plan(size, &o, &r);
        uint64_t t1 = now();
        cpu[i] = (double)(cpu_now() - c0) / 1e3;
        s += read_pool_by_hand();
        uint64_t t2 = now();
        ours[i] = (double)(t1 - t0) / 1e3;
        peer[i] = (double)(t2 - t1) / 1e3;
        if (rc != 0) { printf("plan failed: %s\n", alphacore_strerror(rc)); return; }
    }
    double mo = median(ours, DECISIONS), mp = median(peer, DECISIONS), mc = median(cpu, DECISIONS);
    printf("  %-46s -> %-4s %6.2f us (cpu %5.2f us)   by hand %6.2f us   ratio %.2f\n", what,
           r.backing == 0 ? "1G" : r.backing == 1 ? "2M" : r.backing == 2 ? "THP" : "4K", mo, mc, mp, mo / mp);
}

/* ---- 3. alloc + prefault 2 MiB ---- */

#define ALLOCS 2000

static void bench_alloc(int have_pool) {
    static double ours[ALLOCS], peer[ALLOCS];
    alphacore_mem_opts o = ALPHACORE_MEM_OPTS_INIT;
    o.flags = ALPHACORE_MEM_PREFAULT;
    alphacore_region r;
    int backing = -1;
    for (int i = 0; i < ALLOCS; i++) {
        uint64_t t0 = now();
        int rc = alphacore_mem_alloc(2 * MiB, &o, &r);
        uint64_t t1 = now();
        if (rc != 0) { printf("alloc failed: %s\n", alphacore_strerror(rc)); return; }
        backing = r.backing;
        alphacore_mem_free(&r);
        uint64_t t2 = now();
        int flags = MAP_PRIVATE | MAP_ANONYMOUS | (have_pool ? MAP_HUGETLB | (21 << MAP_HUGE_SHIFT) : 0);
        char *p = mmap(NULL, 2 * MiB, PROT_READ | PROT_WRITE, flags, -1, 0);
        if (p != MAP_FAILED) madvise(p, 2 * MiB, MADV_POPULATE_WRITE);
        uint64_t t3 = now();
        if (p != MAP_FAILED) munmap(p, 2 * MiB);
        ours[i] = (double)(t1 - t0) / 1e3;
        peer[i] = (double)(t3 - t2) / 1e3;
    }
    printf("\n3. alloc + prefault 2 MiB (%d times, median; ours got backing %d)\n", ALLOCS, backing);
    double mo = median(ours, ALLOCS), mp = median(peer, ALLOCS);
    printf("  alphacore_mem_alloc(PREFAULT) %8.1f us   mmap(%s)+MADV_POPULATE_WRITE %8.1f us   ratio %.2f (goal < 110 us)\n",
           mo, have_pool ? "MAP_HUGETLB" : "4 KiB", mp, mo / mp);
}

int main(int argc, char **argv) {
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) quick = 1;
        else if (strcmp(argv[i], "--raw-first") == 0) raw_first = 1;
    }
    /* Take turns on the pools with test runs (Tests/c/mem_sysctl.h). */
    int lock = open("/tmp/alphacore-hugepages.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (lock >= 0) flock(lock, LOCK_EX);
    saved2m = read_long(pool2m);
    saved1g = read_long(pool1g);
    atexit(restore_pools);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    /* 1 GiB for ours + 1 GiB for raw MAP_HUGETLB + slack. */
    long want = quick ? 8 : 1100;
    write_long(pool2m, want);
    long got = read_long(pool2m);
    int have_pool = got >= want;
    printf("memory benchmark: 2 MiB pool reserved for the run: %ld of %ld pages (restored at exit to %ld)\n",
           got, want, saved2m);
    if (!quick) bench_chase(have_pool);
    printf("\n2. ladder decision (alphacore_mem_plan, median of %d; goal < 5 us; cpu: this thread's\n"
           "   CPU time, with the clock's own cost; peer: open + read of the 4 pool files by hand)\n", DECISIONS);
    if (have_pool) {
        bench_decision("64 MiB, pool reserved, counters snapshot", quick ? 8 * MiB : 64 * MiB, 0);
        bench_decision("64 MiB, pool reserved, counters re-read", quick ? 8 * MiB : 64 * MiB, 1);
    }
    write_long(pool2m, 0);
    bench_decision("64 MiB, empty pools (a no is always re-read)", 64 * MiB, 0);
    bench_decision("4 KiB (no huge tier fits, nothing read)", 4096, 0);
    write_long(pool2m, want);
    bench_alloc(have_pool);
    return 0;
}
