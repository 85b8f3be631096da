/* Memory regions through the installed library: the ladder with empty, short and reserved
 * pools, bad input, hostile environments (THP disabled, memlock limit without CAP_IPC_LOCK),
 * double and foreign frees, and no leaked mappings after thousands of regions.
 *
 * The huge-page pools are set as each case needs and restored afterwards even when a case
 * crashes: the cases run in a child process; the parent saves and restores the pools. */
#include "check.h"
#include "mem_sysctl.h"
#include <alphacore.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define MiB (1024ull * 1024)
#define GiB (1024ull * MiB)

static const char *pool_path(uint64_t page) {
    return page == GiB ? "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages"
                       : "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages";
}

/* Sets a pool; returns the number of pages the kernel really gave. */
static long set_pool(uint64_t page, long n) {
    write_long(pool_path(page), n);
    return read_long(pool_path(page));
}

static int maps_lines(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    int n = 0, c;
    if (!f) return -1;
    while ((c = fgetc(f)) != EOF) if (c == '\n') n++;
    fclose(f);
    return n;
}

/* The tier a 2 MiB-or-larger request falls to when the hugetlb pools are short: THP where the
 * host allows it, else base pages (this machine: THP "madvise"; a CI host may differ). */
static int thp_mode_allows(void) {
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    char line[128] = "";
    if (f) { if (!fgets(line, sizeof line, f)) line[0] = 0; fclose(f); }
    return strstr(line, "[always]") != NULL || strstr(line, "[madvise]") != NULL;
}

static int fallback_tier(void) { return thp_mode_allows() ? ALPHACORE_MEM_THP : ALPHACORE_MEM_BASE; }

static void print_report(const alphacore_region *r) {
    char buf[2048];
    int n = alphacore_mem_report(r, buf, sizeof buf);
    if (n > 0 && getenv("VERBOSE")) printf("%s", buf);
}

static void test_pools(void) {
    int n = alphacore_hugepage_pools(NULL, 0);
    CHECK(n >= 2);   /* 1 GiB and 2 MiB globally, and node 0's */
    alphacore_hugepage_pool pools[16];
    int m = alphacore_hugepage_pools(pools, 16);
    CHECK_EQ_INT(m, n);
    CHECK_EQ_INT(alphacore_hugepage_pools(NULL, 3), -EINVAL);
    int seen2m = 0;
    for (int i = 0; i < m && i < 16; i++) {
        if (pools[i].page_size == 2 * MiB && pools[i].node == -1) {
            seen2m = 1;
            CHECK_EQ_INT(pools[i].total, read_long(pool_path(2 * MiB)));
            CHECK(pools[i].usable <= pools[i].free + pools[i].overcommit);
        }
    }
    CHECK(seen2m);
    CHECK_EQ_INT(pools[0].page_size, GiB);  /* largest first */
}

static void test_bad_input(void) {
    alphacore_region r;
    alphacore_mem_opts o = ALPHACORE_MEM_OPTS_INIT;
    CHECK_EQ_INT(alphacore_mem_alloc(0, NULL, &r), -EINVAL);
    CHECK(strstr(alphacore_last_detail(), "size is 0") != NULL);
    CHECK_EQ_INT(alphacore_mem_alloc(SIZE_MAX, NULL, &r), -EOVERFLOW);
    CHECK_EQ_INT(alphacore_mem_alloc(SIZE_MAX / 2 - 100, NULL, &r), -EOVERFLOW);
    CHECK_EQ_INT(alphacore_mem_alloc(4096, NULL, NULL), -EINVAL);
    o.flags = 0x100;
    CHECK_EQ_INT(alphacore_mem_alloc(4096, &o, &r), -EINVAL);
    CHECK(strstr(alphacore_last_detail(), "unknown flags") != NULL);
    o.flags = 0;
    o.node = 7;   /* a node this single-node machine lacks */
    CHECK_EQ_INT(alphacore_mem_alloc(4096, &o, &r), -EINVAL);
    CHECK(strstr(alphacore_last_detail(), "node 7 does not exist") != NULL);
    o.node = -5;
    CHECK_EQ_INT(alphacore_mem_alloc(4096, &o, &r), -EINVAL);
    o.node = ALPHACORE_MEM_NODE_LOCAL;
    o.page_size = 65536;
    CHECK_EQ_INT(alphacore_mem_alloc(4096, &o, &r), -EINVAL);
    o.page_size = 0;
    o.reserved[1] = 1;
    CHECK_EQ_INT(alphacore_mem_alloc(4096, &o, &r), -EINVAL);
    o.reserved[1] = 0;
    /* A newer, longer struct with a non-zero unknown tail: E2BIG; zero tail: fine. */
    struct { alphacore_mem_opts o; uint64_t extra; } big = { ALPHACORE_MEM_OPTS_INIT, 1 };
    big.o.struct_size = sizeof big;
    CHECK_EQ_INT(alphacore_mem_alloc(4096, &big.o, &r), -E2BIG);
    big.extra = 0;
    CHECK_EQ_INT(alphacore_mem_alloc(4096, &big.o, &r), 0);
    CHECK_EQ_INT(alphacore_mem_free(&r), 0);
    o.struct_size = 2;
    CHECK_EQ_INT(alphacore_mem_alloc(4096, &o, &r), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_free(NULL), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_report(NULL, NULL, 0), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_plan(0, NULL, &r), -EINVAL);
}

static void test_empty_pool(void) {
    CHECK_EQ_INT(set_pool(2 * MiB, 0), 0);
    CHECK_EQ_INT(set_pool(GiB, 0), 0);
    alphacore_region r;
    alphacore_mem_opts o = ALPHACORE_MEM_OPTS_INIT;
    o.flags = ALPHACORE_MEM_REQUIRE_HUGE;
    CHECK_EQ_INT(alphacore_mem_alloc(4 * MiB, &o, &r), -ENOMEM);
    CHECK(strstr(alphacore_last_detail(), "REQUIRE_HUGE") != NULL);
    /* Without REQUIRE_HUGE: THP (verified in smaps), with the reasons for the better tiers. */
    o.flags = ALPHACORE_MEM_PREFAULT;
    CHECK_EQ_INT(alphacore_mem_alloc(4 * MiB, &o, &r), 0);
    print_report(&r);
    CHECK_EQ_INT(r.backing, fallback_tier());
    CHECK_EQ_INT(r.refused[ALPHACORE_MEM_HUGE_1G], -ERANGE);
    CHECK_EQ_INT(r.refused[ALPHACORE_MEM_HUGE_2M], -ENOMEM);
    if (thp_mode_allows()) {
        CHECK_EQ_INT(r.refused[ALPHACORE_MEM_THP], 0);
        CHECK(r.huge_bytes > 0 && r.huge_bytes <= 4 * MiB);   /* from smaps; all of it here */
        CHECK_EQ_INT(r.page_size, 2 * MiB);
    } else {
        printf("test_mem: THP is off on this host: checking the refusal instead\n");
        CHECK_EQ_INT(r.refused[ALPHACORE_MEM_THP], -EOPNOTSUPP);
    }
    CHECK_EQ_INT(r.node, 0);
    CHECK(r.flags & ALPHACORE_REGION_PREFAULTED);
    CHECK_EQ_INT((uintptr_t)r.addr % (2 * MiB), 0);
    memset(r.addr, 0xab, r.size);
    char text[2048];
    int n = alphacore_mem_report(&r, text, sizeof text);
    CHECK(n > 0 && (size_t)n < sizeof text);
    CHECK(strstr(text, "2 MiB hugetlb: refused (ENOMEM)") != NULL);
    CHECK(strstr(text, thp_mode_allows() ? "mapped in transparent huge pages" : "transparent huge pages: refused") != NULL);
    CHECK_EQ_INT(alphacore_mem_report(&r, NULL, 0), n);   /* size query */
    CHECK_EQ_INT(alphacore_mem_free(&r), 0);
    /* The plan says the same without mapping. */
    CHECK_EQ_INT(alphacore_mem_plan(4 * MiB, NULL, &r), 0);
    CHECK_EQ_INT(r.backing, fallback_tier());
    CHECK(r.addr == NULL);
    CHECK_EQ_INT(r.refused[ALPHACORE_MEM_HUGE_2M], -ENOMEM);
    /* Asking for 2 MiB pages explicitly for a small size still refuses with the pool reason. */
    o.page_size = 2 * MiB;
    o.flags = ALPHACORE_MEM_NO_THP;
    CHECK_EQ_INT(alphacore_mem_alloc(100, &o, &r), 0);
    CHECK_EQ_INT(r.backing, ALPHACORE_MEM_BASE);
    CHECK_EQ_INT(r.refused[ALPHACORE_MEM_HUGE_1G], -ECANCELED);
    CHECK_EQ_INT(r.refused[ALPHACORE_MEM_HUGE_2M], -ENOMEM);
    CHECK_EQ_INT(r.refused[ALPHACORE_MEM_THP], -ECANCELED);
    CHECK_EQ_INT(r.size, 4096);
    CHECK_EQ_INT(alphacore_mem_free(&r), 0);
}

static void test_pool_2m(void) {
    long got = set_pool(2 * MiB, 4);
    if (got < 4) { printf("test_mem: SKIP 2 MiB pool cases: the kernel gave %ld of 4 pages\n", got); return; }
    alphacore_region r, big;
    alphacore_mem_opts o = ALPHACORE_MEM_OPTS_INIT;
    o.flags = ALPHACORE_MEM_PREFAULT;
    CHECK_EQ_INT(alphacore_mem_alloc(3 * MiB, &o, &r), 0);
    print_report(&r);
    CHECK_EQ_INT(r.backing, ALPHACORE_MEM_HUGE_2M);
    CHECK_EQ_INT(r.page_size, 2 * MiB);
    CHECK_EQ_INT(r.size, 4 * MiB);
    CHECK_EQ_INT(r.requested, 3 * MiB);
    CHECK_EQ_INT(r.huge_bytes, 4 * MiB);
    CHECK_EQ_INT(r.node, 0);
    CHECK_EQ_INT(r.refused[ALPHACORE_MEM_HUGE_1G], -ERANGE);
    CHECK_EQ_INT(r.refused[ALPHACORE_MEM_HUGE_2M], 0);
    memset(r.addr, 1, r.size);
    /* The pool now has 2 usable pages: 8 MiB does not fit -> THP, refused 2 MiB with ENOMEM. */
    CHECK_EQ_INT(alphacore_mem_alloc(8 * MiB, &o, &big), 0);
    CHECK_EQ_INT(big.backing, fallback_tier());
    CHECK_EQ_INT(big.refused[ALPHACORE_MEM_HUGE_2M], -ENOMEM);
    CHECK_EQ_INT(alphacore_mem_free(&big), 0);
    o.flags = ALPHACORE_MEM_REQUIRE_HUGE;
    CHECK_EQ_INT(alphacore_mem_alloc(8 * MiB, &o, &big), -ENOMEM);
    CHECK(strstr(alphacore_last_detail(), "usable") != NULL);
    /* Explicit node 0, strict: bound and verified. */
    o.flags = ALPHACORE_MEM_PREFAULT | ALPHACORE_MEM_NODE_STRICT;
    o.node = 0;
    CHECK_EQ_INT(alphacore_mem_alloc(4 * MiB, &o, &big), 0);
    CHECK_EQ_INT(big.backing, ALPHACORE_MEM_HUGE_2M);
    CHECK_EQ_INT(big.node, 0);
    CHECK(big.flags & ALPHACORE_REGION_NODE_BOUND);
    CHECK_EQ_INT(alphacore_mem_free(&big), 0);
    /* Lock as root (CAP_IPC_LOCK). */
    o.flags = ALPHACORE_MEM_LOCK;
    o.node = ALPHACORE_MEM_NODE_LOCAL;
    CHECK_EQ_INT(alphacore_mem_alloc(2 * MiB, &o, &big), 0);
    CHECK(big.flags & ALPHACORE_REGION_LOCKED);
    CHECK_EQ_INT(alphacore_mem_free(&big), 0);

    /* Double free, a copy freed after the original, a forged region. */
    alphacore_region copy = r;
    CHECK_EQ_INT(alphacore_mem_free(&r), 0);
    CHECK(r.addr == NULL);
    CHECK_EQ_INT(alphacore_mem_free(&r), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_free(&copy), -EINVAL);
    alphacore_region forged = copy;
    forged.cookie ^= 0x5555;
    CHECK_EQ_INT(alphacore_mem_free(&forged), -EINVAL);
    memset(&forged, 0xff, sizeof forged);
    CHECK_EQ_INT(alphacore_mem_free(&forged), -EINVAL);
    /* A live region whose fields were changed is refused too (and stays live). */
    CHECK_EQ_INT(alphacore_mem_alloc(2 * MiB, NULL, &r), 0);
    copy = r;
    copy.size += 4096;
    CHECK_EQ_INT(alphacore_mem_free(&copy), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_free(&r), 0);
    set_pool(2 * MiB, 0);
}

static void test_pool_1g(void) {
    long got = set_pool(GiB, 1);
    if (got < 1) { printf("test_mem: SKIP 1 GiB case: the kernel could not reserve a 1 GiB page\n"); return; }
    alphacore_region r;
    alphacore_mem_opts o = ALPHACORE_MEM_OPTS_INIT;
    o.flags = ALPHACORE_MEM_PREFAULT;
    CHECK_EQ_INT(alphacore_mem_alloc(GiB, &o, &r), 0);
    CHECK_EQ_INT(r.backing, ALPHACORE_MEM_HUGE_1G);
    CHECK_EQ_INT(r.page_size, GiB);
    CHECK_EQ_INT((uintptr_t)r.addr % GiB, 0);
    ((volatile char *)r.addr)[GiB - 1] = 1;
    CHECK_EQ_INT(alphacore_mem_free(&r), 0);
    set_pool(GiB, 0);
}

/* HugetlbPages of /proc/self/status: the huge pages this process maps (kB). */
static long hugetlb_kb_held(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "HugetlbPages: %ld kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb;
}

static void test_no_leak(void) {
    long got = set_pool(2 * MiB, 2);
    int before = maps_lines();
    alphacore_mem_opts o = ALPHACORE_MEM_OPTS_INIT;
    int failures = 0;
    for (int i = 0; i < 3000; i++) {
        alphacore_region r;
        size_t size = (i % 3 == 0) ? 4096 * (size_t)(1 + i % 7) : (i % 3 == 1) ? 2 * MiB : 4 * MiB;
        o.flags = (i % 5 == 0) ? ALPHACORE_MEM_PREFAULT : 0;
        if (alphacore_mem_alloc(size, &o, &r) != 0) { failures++; continue; }
        ((volatile char *)r.addr)[0] = 1;
        if (alphacore_mem_free(&r) != 0) failures++;
    }
    CHECK_EQ_INT(failures, 0);
    CHECK_EQ_INT(maps_lines(), before);
    /* No huge page kept: this process holds none (its own count; the pool's free count also
     * moves with whatever else on the machine maps huge pages meanwhile). */
    if (got >= 2) CHECK_EQ_INT(hugetlb_kb_held(), 0);
    /* Many live at once, then freed. */
    enum { N = 1000 };
    static alphacore_region rs[N];
    int ok = 0;
    for (int i = 0; i < N; i++) ok += alphacore_mem_alloc(8192, NULL, &rs[i]) == 0;
    CHECK_EQ_INT(ok, N);
    for (int i = 0; i < N; i++) ok -= alphacore_mem_free(&rs[i]) == 0;
    CHECK_EQ_INT(ok, 0);
    CHECK_EQ_INT(maps_lines(), before);
    set_pool(2 * MiB, 0);
}

/* In a child: THP disabled for the process -> base pages, THP refused with EOPNOTSUPP. */
static void test_thp_disabled(void) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0) _exit(3);
        alphacore_region r;
        alphacore_mem_opts o = ALPHACORE_MEM_OPTS_INIT;
        o.flags = ALPHACORE_MEM_PREFAULT;
        if (alphacore_mem_alloc(4 * MiB, &o, &r) != 0) _exit(4);
        print_report(&r);
        int ok = r.backing == ALPHACORE_MEM_BASE && r.refused[ALPHACORE_MEM_THP] == -EOPNOTSUPP &&
                 r.huge_bytes == 0 && r.page_size == 4096;
        memset(r.addr, 7, r.size);
        if (alphacore_mem_free(&r) != 0) _exit(5);
        fflush(stdout);
        _exit(ok ? 0 : 6);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st));
    CHECK_EQ_INT(WEXITSTATUS(st), 0);
}

/* Run under setpriv without CAP_IPC_LOCK: the memlock limit decides, honestly reported. */
static int child_memlock(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long cap = ~0ull;
    while (f && fgets(line, sizeof line, f)) if (sscanf(line, "CapEff: %llx", &cap) == 1) break;
    if (f) fclose(f);
    CHECK((cap & (1ull << 14)) == 0);   /* CAP_IPC_LOCK really dropped */
    struct rlimit rl = { 65536, 65536 };
    CHECK_EQ_INT(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
    alphacore_region r;
    alphacore_mem_opts o = ALPHACORE_MEM_OPTS_INIT;
    o.flags = ALPHACORE_MEM_LOCK;
    CHECK_EQ_INT(alphacore_mem_alloc(MiB, &o, &r), -ENOMEM);
    CHECK(strstr(alphacore_last_detail(), "RLIMIT_MEMLOCK 65536") != NULL);
    CHECK_EQ_INT(alphacore_mem_alloc(16384, &o, &r), 0);
    CHECK(r.flags & ALPHACORE_REGION_LOCKED);
    CHECK_EQ_INT(alphacore_mem_free(&r), 0);
    rl.rlim_cur = rl.rlim_max = 0;
    CHECK_EQ_INT(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
    CHECK_EQ_INT(alphacore_mem_alloc(16384, &o, &r), -EPERM);
    CHECK(strstr(alphacore_last_detail(), "CAP_IPC_LOCK") != NULL);
    return check_summary("test_mem (memlock child)");
}

static void test_memlock(const char *self) {
    if (system("command -v setpriv >/dev/null 2>&1") != 0) {
        printf("test_mem: SKIP memlock case: setpriv (util-linux) is not installed\n");
        return;
    }
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock '%s' memlock-child", self);
    int st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int run_cases(const char *self) {
    test_pools();
    test_bad_input();
    test_empty_pool();
    test_pool_2m();
    test_pool_1g();
    test_thp_disabled();
    test_memlock(self);
    test_no_leak();
    return check_summary("test_mem");
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "memlock-child") == 0) return child_memlock();
    pool_lock();   /* held until exit, by the cases' child too */
    long saved2m = read_long(pool_path(2 * MiB)), saved1g = read_long(pool_path(GiB));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) { int rc = run_cases(argv[0]); fflush(stdout); _exit(rc); }
    int st = 0;
    waitpid(pid, &st, 0);
    /* Restore the pools whatever happened to the child. */
    if (saved2m >= 0) write_long(pool_path(2 * MiB), saved2m);
    if (saved1g >= 0) write_long(pool_path(GiB), saved1g);
    if (!WIFEXITED(st)) { printf("test_mem: cases died (status %d)\n0 passed, 1 failed\n", st); return 1; }
    return WEXITSTATUS(st);
}
