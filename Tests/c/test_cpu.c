/* CPU placement through the installed header and .so: topology, cpulists, pinning, NUMA
 * policy, bad input, fixture trees (ALPHACORE_SYSROOT in forked children). The library's own
 * output is captured for the whole run: it must write nothing to stdout or stderr. */
#include <alphacore.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* Tests/fixtures, found from this source file's path (Tests/c/run.sh compiles it by its
 * absolute path), or ALPHACORE_TEST_FIXTURES. */
static char fixtures[4096];
static int skipped;

static void affinity_text(char *buf, size_t cap) {
    int n = alphacore_thread_affinity(buf, cap);
    if (n < 0) snprintf(buf, cap, "error %d", n);
}

static int detail_has(const char *needle) { return strstr(alphacore_last_detail(), needle) != NULL; }

static void test_cpulists(void) {
    uint64_t w[4];
    CHECK_EQ_INT(alphacore_cpulist_parse("0-3,8,10-11", w, 4), 7);
    CHECK(w[0] == 0xD0F && w[1] == 0 && w[3] == 0);
    CHECK_EQ_INT(alphacore_cpulist_parse("64,255", w, 4), 2);
    CHECK(w[0] == 0 && w[1] == 1 && w[3] == (1ull << 63));
    char buf[64];
    CHECK_EQ_INT(alphacore_cpulist_format(w, 4, buf, sizeof buf), 6);
    CHECK_STREQ(buf, "64,255");
    uint64_t v[2] = {0xF0F, 0x3};
    CHECK_EQ_INT(alphacore_cpulist_format(v, 2, buf, sizeof buf), 14);
    CHECK_STREQ(buf, "0-3,8-11,64-65");
    /* snprintf-style: too-short buffers are cut and NUL-terminated; size query with NULL. */
    CHECK_EQ_INT(alphacore_cpulist_format(v, 2, buf, 5), 14);
    CHECK_STREQ(buf, "0-3,");
    CHECK_EQ_INT(alphacore_cpulist_format(v, 2, NULL, 0), 14);
    CHECK_EQ_INT(alphacore_cpulist_format(v, 2, NULL, 8), -EINVAL);
    CHECK_EQ_INT(alphacore_cpulist_format(NULL, 0, buf, sizeof buf), 0);
    CHECK_STREQ(buf, "");
    CHECK_EQ_INT(alphacore_cpulist_format(NULL, 1, buf, sizeof buf), -EINVAL);

    const char *bad[] = {"", "3-1", "1,,2", "a", "1,", ",", "-1", "1-", " 1", "1 ", "0x1", "1:2", "1-2-3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        w[0] = 0x55;
        CHECK_EQ_INT(alphacore_cpulist_parse(bad[i], w, 4), -EINVAL);
        CHECK(w[0] == 0x55); /* untouched on failure */
        CHECK(alphacore_last_detail()[0] != 0);
    }
    CHECK_EQ_INT(alphacore_cpulist_parse("99999999999", w, 4), -ERANGE);
    CHECK(detail_has("99999999999"));
    CHECK_EQ_INT(alphacore_cpulist_parse("256", w, 4), -ERANGE);
    CHECK(detail_has("needs 5 words"));
    CHECK_EQ_INT(alphacore_cpulist_parse(NULL, w, 4), -EINVAL);
    CHECK_EQ_INT(alphacore_cpulist_parse("1", NULL, 4), -EINVAL);
    CHECK_EQ_INT(alphacore_cpulist_parse("1", NULL, 0), -ERANGE);
}

/* Random strings over the cpulist and role-spec alphabet: every call returns a count or
 * -EINVAL/-ERANGE (never crashes), and what parses formats back to a list that parses to the
 * same words. Deterministic (fixed seed). */
static void test_random_lists(void) {
    const char alphabet[] = "0123456789,,--;=ab \t9";
    unsigned seed = 12345;
    int bad_rc = 0, round_trip = 0, parsed = 0;
    for (int i = 0; i < 50000; i++) {
        char text[24];
        seed = seed * 1103515245u + 12345u;
        int len = (int)((seed >> 16) % 20);
        for (int k = 0; k < len; k++) {
            seed = seed * 1103515245u + 12345u;
            text[k] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        text[len] = 0;
        uint64_t w[4] = {0}, w2[4] = {0};
        int rc = alphacore_cpulist_parse(text, w, 4);
        if (rc >= 0) {
            parsed++;
            char back[512];
            int n = alphacore_cpulist_format(w, 4, back, sizeof back);
            if (n <= 0 || alphacore_cpulist_parse(back, w2, 4) != rc || memcmp(w, w2, sizeof w) != 0) round_trip++;
        } else if (rc != -EINVAL && rc != -ERANGE) {
            bad_rc++;
        }
        rc = alphacore_roles_set(text);
        if (rc != 0 && rc != -EINVAL && rc != -ERANGE) bad_rc++;
    }
    CHECK_EQ_INT(bad_rc, 0);
    CHECK_EQ_INT(round_trip, 0);
    CHECK(parsed > 100);
}

static void test_topology(void) {
    char possible[256], online[256], allowed[256], src[1024];
    CHECK(alphacore_topology_list(ALPHACORE_CPUS_POSSIBLE, possible, sizeof possible) > 0);
    CHECK(alphacore_topology_list(ALPHACORE_CPUS_ONLINE, online, sizeof online) > 0);
    CHECK(alphacore_topology_list(ALPHACORE_CPUS_ALLOWED, allowed, sizeof allowed) > 0);
    CHECK(alphacore_topology_list(ALPHACORE_CPUS_ISOLATED, NULL, 0) >= 0);
    CHECK(alphacore_cpus_allowed_source(src, sizeof src) > 0);
    CHECK(strstr(src, "online") != NULL);
    CHECK_EQ_INT(alphacore_topology_list(99, possible, sizeof possible), -EINVAL);
    CHECK_EQ_INT(alphacore_topology_list(-1, NULL, 0), -EINVAL);

    /* The same sets as glibc sees them. */
    cpu_set_t mine;
    CHECK_EQ_INT(sched_getaffinity(0, sizeof mine, &mine), 0);
    int nwords = alphacore_topology_mask(ALPHACORE_CPUS_ALLOWED, NULL, 0);
    CHECK(nwords >= 1);
    uint64_t mask[16] = {0};
    CHECK_EQ_INT(alphacore_topology_mask(ALPHACORE_CPUS_ALLOWED, mask, 16), nwords);
    for (int c = 0; c < 64; c++) CHECK_EQ_INT((mask[0] >> c) & 1, CPU_ISSET(c, &mine) ? 1 : 0);
    long nconf = sysconf(_SC_NPROCESSORS_CONF);
    uint64_t pw[16] = {0};
    alphacore_topology_mask(ALPHACORE_CPUS_POSSIBLE, pw, 16);
    CHECK(__builtin_popcountll(pw[0]) >= nconf || nconf > 64);

    /* Node of each online CPU, matching sysfs. */
    for (int c = 0; c < nconf && c < 64; c++) {
        int node = alphacore_cpu_node(c);
        char path[128];
        snprintf(path, sizeof path, "/sys/devices/system/node/node%d/cpu%d", node, c);
        CHECK(node >= 0);
        CHECK(access(path, F_OK) == 0);
    }
    CHECK_EQ_INT(alphacore_cpu_node(-1), -EINVAL);
    CHECK(detail_has("negative"));
    CHECK_EQ_INT(alphacore_cpu_node(INT_MAX), -EINVAL);
    CHECK(detail_has("past the possible CPUs"));

    alphacore_cpu_info info = ALPHACORE_CPU_INFO_INIT;
    CHECK_EQ_INT(alphacore_cpu_info_get(0, &info), 0);
    CHECK_EQ_INT(info.struct_size, sizeof info);
    CHECK(info.online == 1 && info.node == alphacore_cpu_node(0) && info.smt_count >= 1 && info.core_id >= 0);
    CHECK_EQ_INT(alphacore_cpu_info_get(0, NULL), -EINVAL);
    CHECK_EQ_INT(alphacore_cpu_info_get(-3, &info), -EINVAL);
    /* An older, shorter struct: only its bytes are written. */
    struct { uint32_t size; int32_t cpu; int32_t online; int32_t guard; } old = {12, -9, -9, 0x7777};
    CHECK_EQ_INT(alphacore_cpu_info_get(0, (alphacore_cpu_info *)(void *)&old), 0);
    CHECK(old.size == 12 && old.cpu == 0 && old.online == 1 && old.guard == 0x7777);

    char sib[64];
    CHECK(alphacore_cpu_siblings(0, sib, sizeof sib) > 0);
    CHECK(strchr(sib, '0') != NULL);
    char ncpus[64];
    CHECK(alphacore_node_cpus(0, ncpus, sizeof ncpus) > 0);
    CHECK_EQ_INT(alphacore_node_cpus(1000, ncpus, sizeof ncpus), -ENOENT);
    uint64_t total = 0, freeb = 0;
    CHECK_EQ_INT(alphacore_node_memory(0, &total, &freeb), 0);
    CHECK(total > (64ull << 20) && freeb <= total);
    CHECK_EQ_INT(alphacore_node_memory(0, NULL, NULL), 0);
    CHECK_EQ_INT(alphacore_node_distance(0, 0), 10);
    CHECK_EQ_INT(alphacore_node_distance(0, 1000), -ENOENT);
    CHECK_EQ_INT(alphacore_topology_reload(), 0);
}

static void test_pinning(void) {
    char before[256], after[256];
    affinity_text(before, sizeof before);
    CHECK_EQ_INT(alphacore_pin_verify(), -ENOENT);
    CHECK(detail_has("not been pinned"));

    /* Bad CPUs: negative errno, a detail, affinity unchanged. */
    int bad[] = {-1, -1000, INT_MIN, 4096, INT_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(alphacore_pin_thread(bad[i]), -EINVAL);
        affinity_text(after, sizeof after);
        CHECK_STREQ(after, before);
    }
    CHECK_EQ_INT(alphacore_pin_thread(-1), -EINVAL);
    CHECK(detail_has("cpu -1 is negative"));
    const char *badlists[] = {"", "3-1", "1,,2", "99999999999", "a", "0-4095", NULL};
    for (size_t i = 0; i < sizeof badlists / sizeof badlists[0]; i++) {
        int rc = alphacore_pin_thread_list(badlists[i]);
        CHECK(rc == -EINVAL || rc == -ERANGE);
        affinity_text(after, sizeof after);
        CHECK_STREQ(after, before);
    }

    alphacore_affinity *saved = NULL;
    CHECK_EQ_INT(alphacore_affinity_save(&saved), 0);
    CHECK(saved != NULL);
    CHECK_EQ_INT(alphacore_affinity_save(NULL), -EINVAL);

    uint64_t allowed[16] = {0};
    alphacore_topology_mask(ALPHACORE_CPUS_ALLOWED, allowed, 16);
    int last = 63 - __builtin_clzll(allowed[0]);
    CHECK_EQ_INT(alphacore_pin_thread(last), 0);
    CHECK_EQ_INT(alphacore_current_cpu(), last);
    CHECK_EQ_INT(sched_getcpu(), last);
    CHECK_EQ_INT(alphacore_pin_verify(), 1);
    cpu_set_t got;
    sched_getaffinity(0, sizeof got, &got);
    CHECK_EQ_INT(CPU_COUNT(&got), 1);
    CHECK(CPU_ISSET(last, &got));
    char text[64];
    affinity_text(text, sizeof text);
    char want[16];
    snprintf(want, sizeof want, "%d", last);
    CHECK_STREQ(text, want);

    /* Someone else moves the thread (a raw sched_setaffinity, as taskset would): verify says 0. */
    int first = __builtin_ctzll(allowed[0]);
    if (first != last) {
        cpu_set_t other;
        CPU_ZERO(&other);
        CPU_SET(first, &other);
        CHECK_EQ_INT(sched_setaffinity(0, sizeof other, &other), 0);
        CHECK_EQ_INT(alphacore_pin_verify(), 0);
        /* A list pin over the whole allowed set, then verify is 1 wherever it runs. */
        char all[256];
        alphacore_topology_list(ALPHACORE_CPUS_ALLOWED, all, sizeof all);
        CHECK_EQ_INT(alphacore_pin_thread_list(all), 0);
        CHECK_EQ_INT(alphacore_pin_verify(), 1);
        affinity_text(text, sizeof text);
        CHECK_STREQ(text, all);
    } else {
        skipped++; /* one allowed CPU: nowhere to move to */
    }

    /* Restore puts the original mask and pin record back. */
    CHECK_EQ_INT(alphacore_affinity_restore(saved), 0);
    affinity_text(after, sizeof after);
    CHECK_STREQ(after, before);
    CHECK_EQ_INT(alphacore_pin_verify(), -ENOENT);
    CHECK_EQ_INT(alphacore_affinity_restore(NULL), -EINVAL);
    alphacore_affinity_free(saved);
    alphacore_affinity_free(NULL);
}

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static void *parked(void *arg) {
    (void)arg;
    pthread_mutex_lock(&gate);
    pthread_mutex_unlock(&gate);
    return NULL;
}

static void test_pin_other_thread(void) {
    uint64_t allowed[16] = {0};
    alphacore_topology_mask(ALPHACORE_CPUS_ALLOWED, allowed, 16);
    int last = 63 - __builtin_clzll(allowed[0]);
    char list[16];
    snprintf(list, sizeof list, "%d", last);
    pthread_t t;
    pthread_mutex_lock(&gate);
    CHECK_EQ_INT(pthread_create(&t, NULL, parked, NULL), 0);
    CHECK_EQ_INT(alphacore_pin_pthread(t, list), 0);
    cpu_set_t got;
    CHECK_EQ_INT(pthread_getaffinity_np(t, sizeof got, &got), 0);
    CHECK_EQ_INT(CPU_COUNT(&got), 1);
    CHECK(CPU_ISSET(last, &got));
    CHECK_EQ_INT(alphacore_pin_pthread(t, "4095"), -EINVAL);
    CHECK_EQ_INT(alphacore_pin_pthread(t, NULL), -EINVAL);
    CHECK_EQ_INT(pthread_getaffinity_np(t, sizeof got, &got), 0);
    CHECK(CPU_COUNT(&got) == 1 && CPU_ISSET(last, &got));
    pthread_mutex_unlock(&gate);
    pthread_join(t, NULL);
}

static int numa_refused;   /* errno of a raw get_mempolicy probe (seccomp, no CONFIG_NUMA) */

static void test_numa(void) {
    int status = alphacore_numa_status();
    int probe_mode = 0;
    numa_refused = syscall(__NR_get_mempolicy, &probe_mode, NULL, 0, NULL, 0) == 0 ? 0 : errno;
    if (numa_refused) {
        /* This host refuses the NUMA calls: the library must say so, not place memory. */
        CHECK_EQ_INT(status, numa_refused == ENOSYS ? ALPHACORE_NUMA_UNAVAILABLE : ALPHACORE_NUMA_DENIED);
        CHECK_EQ_INT(alphacore_mem_policy_set(ALPHACORE_MPOL_LOCAL, NULL), -numa_refused);
        return;
    }
    CHECK(status == ALPHACORE_NUMA_SINGLE_NODE || status == ALPHACORE_NUMA_AVAILABLE);
    long page = sysconf(_SC_PAGESIZE);
    char *p = mmap(NULL, (size_t)page * 4, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    CHECK_EQ_INT(alphacore_mem_node_of(p), -ENOENT);
    CHECK(detail_has("not present"));
    p[0] = 1;
    CHECK_EQ_INT(alphacore_mem_node_of(p), 0);
    CHECK_EQ_INT(alphacore_mem_node_of(NULL), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_bind(p + page, (size_t)page, ALPHACORE_MPOL_BIND, "0", ALPHACORE_MBIND_STRICT), 0);
    p[page] = 1;
    CHECK_EQ_INT(alphacore_mem_node_of(p + page), 0);
    CHECK_EQ_INT(alphacore_mem_bind(p + 2 * page, (size_t)page, ALPHACORE_MPOL_INTERLEAVE, "0", 0), 0);
    CHECK_EQ_INT(alphacore_mem_bind(p + 2 * page, (size_t)page, ALPHACORE_MPOL_PREFERRED, "0", 0), 0);
    CHECK_EQ_INT(alphacore_mem_bind(p + 2 * page, (size_t)page, ALPHACORE_MPOL_LOCAL, NULL, 0), 0);
    CHECK_EQ_INT(alphacore_mem_bind(p + 1, 10, ALPHACORE_MPOL_BIND, "0", 0), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_bind(p, (size_t)page, ALPHACORE_MPOL_BIND, "7", 0), -EINVAL);
    CHECK(detail_has("do not exist"));
    CHECK_EQ_INT(alphacore_mem_bind(p, (size_t)page, ALPHACORE_MPOL_BIND, "", 0), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_bind(p, (size_t)page, ALPHACORE_MPOL_BIND, "0", 0x80), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_bind(p, (size_t)page, 42, "0", 0), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_bind(NULL, (size_t)page, ALPHACORE_MPOL_BIND, "0", 0), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_bind(p, 0, ALPHACORE_MPOL_BIND, "0", 0), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_bind(p, (size_t)page, ALPHACORE_MPOL_PREFERRED, "0,0-1", 0), -EINVAL);
    munmap(p, (size_t)page * 4);
    /* Unmapped now. */
    CHECK_EQ_INT(alphacore_mem_node_of(p), -EFAULT);

    CHECK_EQ_INT(alphacore_mem_policy_set(ALPHACORE_MPOL_BIND, "0"), 0);
    int mode = -1;
    unsigned long nodes = 0;
    CHECK_EQ_INT(syscall(__NR_get_mempolicy, &mode, &nodes, 65, NULL, 0), 0);
    CHECK(mode == 2 && nodes == 1);
    CHECK_EQ_INT(alphacore_mem_policy_set(ALPHACORE_MPOL_LOCAL, ""), 0);
    CHECK_EQ_INT(syscall(__NR_get_mempolicy, &mode, &nodes, 65, NULL, 0), 0);
    CHECK_EQ_INT(mode, 4);
    CHECK_EQ_INT(alphacore_mem_policy_set(ALPHACORE_MPOL_LOCAL, "0"), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_policy_set(ALPHACORE_MPOL_INTERLEAVE, NULL), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_policy_set(-1, NULL), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_policy_set(ALPHACORE_MPOL_BIND, "1-"), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_policy_set(ALPHACORE_MPOL_DEFAULT, NULL), 0);
}

static void test_roles_and_priority(void) {
    char buf[256];
    uint64_t allowed[16] = {0};
    alphacore_topology_mask(ALPHACORE_CPUS_ALLOWED, allowed, 16);
    int first = __builtin_ctzll(allowed[0]), last = 63 - __builtin_clzll(allowed[0]);
    char before[256], after[256];
    affinity_text(before, sizeof before);

    /* Nothing set and ALPHACORE_CPUS unset. */
    unsetenv("ALPHACORE_CPUS");
    CHECK_EQ_INT(alphacore_pin_role("collector"), -ENOENT);
    CHECK(detail_has("ALPHACORE_CPUS"));
    CHECK_EQ_INT(alphacore_roles_set(NULL), -ENOENT);

    /* Bad specs: overlaps, unknown roles, CPUs outside the allowed set, malformed. */
    const char *bad[] = {"", "collector", "a=0;a=0", "a=0;;b=1", "a=0;b=0", "a=4095", "a=3-1", "a=0 ", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = alphacore_roles_set(bad[i]);
        CHECK(rc == -EINVAL || rc == -ENOENT);
        CHECK(alphacore_last_detail()[0] != 0);
    }
    CHECK_EQ_INT(alphacore_roles_set("a=0-1;b=1"), -EINVAL);
    CHECK(detail_has("overlap on cpus 1"));
    CHECK_EQ_INT(alphacore_roles_set("a=4095"), -EINVAL);
    CHECK(detail_has("past the possible CPUs"));
    CHECK_EQ_INT(alphacore_roles_set("a=99999999999"), -ERANGE);

    /* From the environment on first use. */
    char spec[128];
    snprintf(spec, sizeof spec, "collector=%d;network=%d", last, first);
    if (first == last) snprintf(spec, sizeof spec, "collector=%d", last);
    setenv("ALPHACORE_CPUS", spec, 1);
    CHECK_EQ_INT(alphacore_pin_role("collector"), last);
    CHECK_EQ_INT(alphacore_current_cpu(), last);
    CHECK_EQ_INT(alphacore_pin_verify(), 1);
    CHECK_EQ_INT(alphacore_pin_role("orderbook"), -ENOENT);
    CHECK(detail_has("unknown role"));
    CHECK_EQ_INT(alphacore_pin_role(NULL), -EINVAL);
    CHECK_EQ_INT(alphacore_role_cpus("collector", buf, sizeof buf), (int)strlen(buf));
    snprintf(after, sizeof after, "%d", last);
    CHECK_STREQ(buf, after);
    unsetenv("ALPHACORE_CPUS");

    /* A role over the whole allowed set hands out its CPUs in turn, then wraps. */
    char all[256], set[300];
    alphacore_topology_list(ALPHACORE_CPUS_ALLOWED, all, sizeof all);
    snprintf(set, sizeof set, "pool=%s", all);
    CHECK_EQ_INT(alphacore_roles_set(set), 0);
    int n = __builtin_popcountll(allowed[0]);
    int got0 = alphacore_pin_role("pool");
    CHECK_EQ_INT(got0, first);
    for (int i = 1; i < n; i++) CHECK(alphacore_pin_role("pool") > got0);
    CHECK_EQ_INT(alphacore_pin_role("pool"), first);
    /* A failing set keeps the previous spec. */
    CHECK_EQ_INT(alphacore_roles_set("pool=4095"), -EINVAL);
    CHECK(alphacore_role_cpus("pool", buf, sizeof buf) > 0);
    CHECK_STREQ(buf, all);

    /* Thread names. */
    CHECK_EQ_INT(alphacore_thread_name_set("collector-1"), 0);
    CHECK_EQ_INT(alphacore_thread_name_get(buf, sizeof buf), 11);
    CHECK_STREQ(buf, "collector-1");
    CHECK_EQ_INT(alphacore_thread_name_set("a-name-longer-than-15"), -ERANGE);
    CHECK_EQ_INT(alphacore_thread_name_get(buf, sizeof buf), 11);
    CHECK_EQ_INT(alphacore_thread_name_set(NULL), -EINVAL);

    /* Priority as root: bad arguments change nothing; FIFO and back. */
    CHECK_EQ_INT(alphacore_set_nice(20), -EINVAL);
    CHECK_EQ_INT(alphacore_set_nice(-21), -EINVAL);
    CHECK_EQ_INT(alphacore_set_realtime(ALPHACORE_SCHED_FIFO, 0), -EINVAL);
    CHECK_EQ_INT(alphacore_set_realtime(ALPHACORE_SCHED_FIFO, 100), -EINVAL);
    CHECK_EQ_INT(alphacore_set_realtime(ALPHACORE_SCHED_OTHER, 5), -EINVAL);
    CHECK_EQ_INT(alphacore_set_realtime(7, 1), -EINVAL);
    CHECK_EQ_INT(sched_getscheduler(0), SCHED_OTHER);
    CHECK_EQ_INT(alphacore_set_nice(3), 0);
    CHECK_EQ_INT(getpriority(PRIO_PROCESS, (id_t)gettid()), 3);
    CHECK_EQ_INT(alphacore_set_nice(0), 0);
    CHECK_EQ_INT(getpriority(PRIO_PROCESS, (id_t)gettid()), 0);
    (void)before;
}

/* In a child: point the library at a fixture tree and check what it reports. Exit status 0
 * when every check passed. */
static int fixture_child(const char *name, int (*body)(void)) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        char root[4200];
        snprintf(root, sizeof root, "%s/%s", fixtures, name);
        setenv("ALPHACORE_SYSROOT", root, 1);
        if (alphacore_topology_reload() != 0) _exit(100);
        _exit(body());
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 200;
}

#define FCHECK(c) do { if (!(c)) { fprintf(stderr, "fixture check failed: %s (line %d)\n", #c, __LINE__); return 1; } } while (0)

static int numa_fixture(void) {
    char buf[512];
    FCHECK(alphacore_topology_list(ALPHACORE_CPUS_POSSIBLE, buf, sizeof buf) == 3 && !strcmp(buf, "0-7"));
    FCHECK(alphacore_topology_list(ALPHACORE_CPUS_ONLINE, buf, sizeof buf) > 0 && !strcmp(buf, "0-6"));
    FCHECK(alphacore_topology_list(ALPHACORE_CPUS_ALLOWED, buf, sizeof buf) > 0 && !strcmp(buf, "0-4"));
    FCHECK(alphacore_topology_list(ALPHACORE_CPUS_ISOLATED, buf, sizeof buf) > 0 && !strcmp(buf, "4"));
    FCHECK(alphacore_topology_list(ALPHACORE_CPUS_NOHZ_FULL, buf, sizeof buf) > 0 && !strcmp(buf, "4"));
    FCHECK(alphacore_topology_list(ALPHACORE_NODES_ONLINE, buf, sizeof buf) > 0 && !strcmp(buf, "0,2-3"));
    FCHECK(alphacore_topology_list(ALPHACORE_NODES_WITH_MEMORY, buf, sizeof buf) > 0 && !strcmp(buf, "0,2"));
    FCHECK(alphacore_cpus_allowed_source(buf, sizeof buf) > 0 && strstr(buf, "cgroup v2 cpuset 0-4"));
    int want[] = {0, 0, 2, 2, 0, 2, 3};
    for (int c = 0; c < 7; c++) FCHECK(alphacore_cpu_node(c) == want[c]);
    FCHECK(alphacore_cpu_node(7) == -ENOENT);   /* offline: no node */
    FCHECK(alphacore_cpu_node(8) == -EINVAL);
    FCHECK(alphacore_node_distance(0, 2) == 21 && alphacore_node_distance(2, 3) == 31);
    FCHECK(alphacore_node_distance(1, 0) == -ENOENT);
    uint64_t total = 1, freeb = 1;
    FCHECK(alphacore_node_memory(3, &total, &freeb) == 0 && total == 0 && freeb == 0);
    FCHECK(alphacore_node_memory(2, &total, &freeb) == 0 && total == (8ull << 30) && freeb == (2ull << 30));
    FCHECK(alphacore_node_cpus(3, buf, sizeof buf) == 1 && !strcmp(buf, "6"));
    FCHECK(alphacore_cpu_siblings(2, buf, sizeof buf) == 3 && !strcmp(buf, "2-3"));
    FCHECK(alphacore_cpu_siblings(7, buf, sizeof buf) == -ENOENT);
    alphacore_cpu_info info = ALPHACORE_CPU_INFO_INIT;
    FCHECK(alphacore_cpu_info_get(4, &info) == 0);
    FCHECK(info.isolated == 1 && info.nohz_full == 1 && info.allowed == 1 && info.l3_id == 0 && info.smt_count == 1);
    FCHECK(alphacore_cpu_info_get(3, &info) == 0 && info.package_id == 1 && info.smt_count == 2 && info.l3_id == 1);
    FCHECK(alphacore_cpu_info_get(7, &info) == 0 && info.online == 0 && info.core_id == -1 && info.node == -1);
    /* Pinning is validated against the fixture's allowed set before any system call. */
    FCHECK(alphacore_pin_thread(5) == -EINVAL);
    FCHECK(strstr(alphacore_last_detail(), "cpu 5 is not in the allowed set 0-4 (cgroup v2 cpuset 0-4"));
    FCHECK(alphacore_pin_thread(7) == -EINVAL && strstr(alphacore_last_detail(), "offline"));
    FCHECK(alphacore_pin_thread(8) == -EINVAL && strstr(alphacore_last_detail(), "possible"));
    FCHECK(alphacore_pin_thread_list("3-6") == -EINVAL && strstr(alphacore_last_detail(), "cpus 5-6 are not in the allowed set 0-4"));
    FCHECK(alphacore_pin_thread_list("3-7") == -EINVAL && strstr(alphacore_last_detail(), "cpus 7 are offline"));
    /* Node masks sized from node/possible (0-3); node 3 has no memory. */
    FCHECK(alphacore_mem_policy_set(ALPHACORE_MPOL_BIND, "3") == -EINVAL && strstr(alphacore_last_detail(), "no memory"));
    FCHECK(alphacore_mem_policy_set(ALPHACORE_MPOL_BIND, "1") == -EINVAL && strstr(alphacore_last_detail(), "do not exist"));
    return 0;
}

static int container_fixture(void) {
    char buf[512];
    FCHECK(alphacore_topology_list(ALPHACORE_CPUS_ALLOWED, buf, sizeof buf) > 0 && !strcmp(buf, "1,3"));
    FCHECK(alphacore_cpus_allowed_source(buf, sizeof buf) > 0 && strstr(buf, "cgroup v1 cpuset 1,3"));
    FCHECK(alphacore_pin_thread(2) == -EINVAL);
    FCHECK(strstr(alphacore_last_detail(), "not in the allowed set 1,3 (cgroup v1 cpuset 1,3"));
    FCHECK(alphacore_cpu_node(3) == 0);
    FCHECK(alphacore_topology_list(ALPHACORE_CPUS_NOHZ_FULL, buf, sizeof buf) == 0);
    return 0;
}

static int missing_root(void) { return 0; }

int main(void) {
    const char *env = getenv("ALPHACORE_TEST_FIXTURES");
    if (env) {
        snprintf(fixtures, sizeof fixtures, "%s", env);
    } else {
        snprintf(fixtures, sizeof fixtures, "%s", __FILE__);
        char *slash = strrchr(fixtures, '/');
        if (slash) strcpy(slash, "/../fixtures"); else snprintf(fixtures, sizeof fixtures, "../fixtures");
    }

    /* Everything the library might print goes to a file we inspect at the end. */
    check_capture_begin();

    test_cpulists();
    {   /* in a child: a random spec that parses would stay installed */
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) { test_random_lists(); _exit(check_failed ? 1 : 0); }
        int st = 1;
        waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    test_topology();
    test_pinning();
    test_pin_other_thread();
    test_numa();
    {
        alphacore_affinity *saved = NULL;
        alphacore_affinity_save(&saved);
        test_roles_and_priority();
        alphacore_affinity_restore(saved);
        alphacore_affinity_free(saved);
    }
    CHECK_EQ_INT(fixture_child("numa", numa_fixture), 0);
    CHECK_EQ_INT(fixture_child("container", container_fixture), 0);
    /* A root with no sysfs: reload fails with ENOENT in the child (exit 100). */
    CHECK_EQ_INT(fixture_child("does-not-exist", missing_root), 100);

    CHECK_EQ_INT(check_capture_end(), 0);
    if (skipped) printf("test_cpu: %d check group(s) skipped: only one allowed CPU\n", skipped);
    if (numa_refused) printf("test_cpu: NUMA placement checks skipped: this host refuses get_mempolicy (%s)\n", strerror(numa_refused));
    return check_summary("test_cpu");
}
