/* Issue 18's hostile-input findings 2, 4, 5 and 6 (finding 3, errno, is Tests/c/test_errno.c),
 * each case in a forked child under an alarm so that a crash or a hang fails that case only.
 *
 *   2. a sysfs whose cpu/possible is 0-1048575: a reload finishes within 1 s;
 *   4. struct_size smaller than the first published struct is -EINVAL for every options struct;
 *   5. strings with a documented maximum are read with strnlen(max + 1): an unterminated string
 *      of max + 1 bytes ending at a PROT_NONE page is refused, never read past;
 *   6. memory: a changed page_size or fd is -EINVAL; a copy frees the region once; unlinking
 *      another user's region is -EACCES, as its page says. */
#include <alphacore.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#include "hostile.h"

/* Runs fn in a child under an alarm; a signal, a timeout or a non-zero exit fails it. */
static void run_case(const char *name, int (*fn)(void), unsigned seconds) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) { CHECK(!"fork"); return; }
    if (pid == 0) { alarm(seconds); int rc = fn(); fflush(NULL); _exit(rc); }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (WIFSIGNALED(st)) {
        int sig = WTERMSIG(st);
        if (sig == SIGALRM) fprintf(stderr, "%s: HUNG (still running after %u s)\n", name, seconds);
        else fprintf(stderr, "%s: CRASHED with signal %d (%s)\n", name, sig, strsignal(sig));
        CHECK(!"case crashed or hung");
    } else if (WEXITSTATUS(st) == 77) {
        check_passed++;   /* skipped with a printed reason */
    } else {
        if (WEXITSTATUS(st) != 0) fprintf(stderr, "%s: failed\n", name);
        CHECK(WEXITSTATUS(st) == 0);
    }
}

/* ---- 2: a huge possible set ------------------------------------------------------------------ */

static char fixture[64];

static void put(const char *rel, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", fixture, rel);
    for (char *p = path + strlen(fixture) + 1; *p; p++) {
        if (*p == '/') { *p = 0; mkdir(path, 0755); *p = '/'; }
    }
    FILE *f = fopen(path, "w");
    if (f) { fputs(text, f); fclose(f); }
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st; (void)flag; (void)ftw;
    return remove(path);
}

/* A tree that claims 1,048,576 possible CPUs and has directories for two. */
static void make_huge_tree(int with_online, int with_nodes) {
    put("sys/devices/system/cpu/possible", "0-1048575\n");
    put("sys/devices/system/cpu/present", "0-1048575\n");
    if (with_online) put("sys/devices/system/cpu/online", "0-1048575\n");
    for (int c = 0; c < 2; c++) {
        char rel[256];
        snprintf(rel, sizeof rel, "sys/devices/system/cpu/cpu%d/topology/thread_siblings_list", c);
        put(rel, c == 0 ? "0\n" : "1\n");
        snprintf(rel, sizeof rel, "sys/devices/system/cpu/cpu%d/topology/core_id", c);
        put(rel, c == 0 ? "0\n" : "1\n");
    }
    if (with_nodes) {
        put("sys/devices/system/node/online", "0-1048575\n");
        put("sys/devices/system/node/possible", "0-1048575\n");
        put("sys/devices/system/node/node0/cpulist", "0-1048575\n");
    }
    put("proc/self/status", "Name:\ttest\nCpus_allowed_list:\t0-1048575\n");
}

static int reload_within_a_second(int with_online, int with_nodes) {
    make_huge_tree(with_online, with_nodes);
    setenv("ALPHACORE_SYSROOT", fixture, 1);
    double t0 = cpu_s();
    int rc = alphacore_topology_reload();
    double took = cpu_s() - t0;
    EXPECT(rc == 0);
    if (took >= 1.0) { fprintf(stderr, "reload took %.3f s of CPU (bound 1 s)\n", took); return 1; }
    printf("  reload over possible 0-1048575 (online file %d, node lists %d): %.3f s of CPU\n", with_online, with_nodes, took);
    char buf[256];
    EXPECT(alphacore_topology_list(ALPHACORE_CPUS_POSSIBLE, buf, sizeof buf) > 0);
    EXPECT(strcmp(buf, "0-8191") == 0);            /* ids above NR_CPUS' 8191 are ignored */
    alphacore_cpu_info info = ALPHACORE_CPU_INFO_INIT;
    EXPECT(alphacore_cpu_info_get(1, &info) == 0 && info.core_id == 1 && info.online == 1);
    EXPECT(alphacore_cpu_info_get(5000, &info) == 0 && info.core_id == -1);   /* no directory */
    EXPECT(alphacore_cpu_siblings(5000, buf, sizeof buf) > 0 && strcmp(buf, "5000") == 0);
    EXPECT_ERR(alphacore_cpu_info_get(8192, &info), EINVAL);
    return 0;
}

static int t_huge_possible(void) { return reload_within_a_second(1, 0); }
static int t_huge_possible_no_online(void) { return reload_within_a_second(0, 0); }
static int t_huge_possible_and_nodes(void) { return reload_within_a_second(1, 1); }

/* ---- 4: struct_size below the first version ------------------------------------------------- */

static int t_struct_size_small(void) {
    const uint32_t sizes[] = {4, 8, 12};
    alphacore_region r;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        alphacore_mem_opts m = ALPHACORE_MEM_OPTS_INIT;
        m.struct_size = sizes[i];
        EXPECT_ERR(alphacore_mem_alloc(4096, &m, &r), EINVAL);
        EXPECT_ERR(alphacore_mem_plan(4096, &m, &r), EINVAL);
        EXPECT_ERR(alphacore_mem_shared_open("ac-never-opened", &m, &r), EINVAL);
        alphacore_reader_opts ro = ALPHACORE_READER_OPTS_INIT;
        ro.struct_size = sizes[i];
        alphacore_reader *rd = NULL;
        EXPECT_ERR(alphacore_reader_create(&ro, &rd), EINVAL);
        alphacore_doctor_opts d = ALPHACORE_DOCTOR_OPTS_INIT;
        d.struct_size = sizes[i];
        EXPECT_ERR(alphacore_doctor_run(&d, NULL, 0, NULL), EINVAL);
    }
    return 0;
}

/* ---- 5: strings at a guard page ------------------------------------------------------------- */

/* `len` copies of `c` (no NUL) ending exactly at an inaccessible page. */
static const char *at_guard(size_t len, char c) {
    long page = sysconf(_SC_PAGESIZE);
    size_t pages = (len + (size_t)page - 1) / (size_t)page + 1;
    char *m = mmap(NULL, pages * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return NULL;
    mprotect(m + (pages - 1) * (size_t)page, (size_t)page, PROT_NONE);
    char *p = m + (pages - 1) * (size_t)page - len;
    memset(p, c, len);
    return p;
}

static int t_thread_name(void) {
    const char *s = at_guard(ALPHACORE_THREAD_NAME_MAX + 1, 'n');
    EXPECT(s != NULL);
    EXPECT_ERR(alphacore_thread_name_set(s), ERANGE);
    /* 15 bytes and the NUL at the page's end: accepted. */
    char *ok = (char *)at_guard(ALPHACORE_THREAD_NAME_MAX + 1, 'n');
    ok[ALPHACORE_THREAD_NAME_MAX] = 0;
    EXPECT(alphacore_thread_name_set(ok) == 0);
    return 0;
}

static int t_cpulists(void) {
    const char *s = at_guard(ALPHACORE_CPULIST_MAX + 1, '1');
    EXPECT(s != NULL);
    uint64_t words[4];
    EXPECT_ERR(alphacore_cpulist_parse(s, words, 4), EINVAL);
    EXPECT_ERR(alphacore_pin_thread_list(s), EINVAL);
    EXPECT_ERR(alphacore_pin_pthread(pthread_self(), s), EINVAL);
    EXPECT_ERR(alphacore_mem_policy_set(ALPHACORE_MPOL_BIND, s), EINVAL);
    static char page[1 << 16] __attribute__((aligned(4096)));
    EXPECT_ERR(alphacore_mem_bind(page, 4096, ALPHACORE_MPOL_BIND, s, 0), EINVAL);
    return 0;
}

static int t_roles(void) {
    const char *spec = at_guard(ALPHACORE_ROLES_SPEC_MAX + 1, 'a');
    const char *role = at_guard(ALPHACORE_ROLE_NAME_MAX + 1, 'a');
    EXPECT(spec && role);
    EXPECT_ERR(alphacore_roles_set(spec), EINVAL);
    char buf[64];
    EXPECT_ERR(alphacore_pin_role(role), EINVAL);
    EXPECT_ERR(alphacore_role_cpus(role, buf, sizeof buf), EINVAL);
    return 0;
}

static int t_doctor_strings(void) {
    alphacore_doctor_opts o = ALPHACORE_DOCTOR_OPTS_INIT;
    o.cpus = at_guard(ALPHACORE_CPULIST_MAX + 1, '1');
    EXPECT(o.cpus != NULL);
    EXPECT_ERR(alphacore_doctor_run(&o, NULL, 0, NULL), EINVAL);
    o.cpus = NULL;
    o.hugepages = at_guard(ALPHACORE_HUGEPAGES_SPEC_MAX + 1, '2');
    EXPECT(o.hugepages != NULL);
    EXPECT_ERR(alphacore_doctor_run(&o, NULL, 0, NULL), EINVAL);
    return 0;
}

static int t_shm_names(void) {
    const char *s = at_guard(ALPHACORE_SHM_NAME_MAX + 1, 'x');
    EXPECT(s != NULL);
    alphacore_region r;
    EXPECT_ERR(alphacore_mem_shared_create(s, 4096, NULL, &r), EINVAL);
    EXPECT_ERR(alphacore_mem_shared_open(s, NULL, &r), EINVAL);
    EXPECT_ERR(alphacore_mem_shared_unlink(s), EINVAL);
    return 0;
}

/* ---- 6: memory docs and code agree ----------------------------------------------------------- */

static int t_free_checks_fields(void) {
    alphacore_region r;
    EXPECT(alphacore_mem_alloc(1 << 16, NULL, &r) == 0);
    alphacore_region changed = r;
    changed.page_size = r.page_size == 4096 ? (1u << 21) : 4096;
    EXPECT_ERR(alphacore_mem_free(&changed), EINVAL);
    changed = r;
    changed.fd = 0;
    EXPECT_ERR(alphacore_mem_free(&changed), EINVAL);
    changed = r;
    changed.size += 4096;
    EXPECT_ERR(alphacore_mem_free(&changed), EINVAL);
    ((volatile char *)r.addr)[0] = 1;           /* still mapped */
    /* A copy is the same region: it frees it, once. */
    alphacore_region copy = r;
    EXPECT(alphacore_mem_free(&copy) == 0);
    EXPECT(copy.addr == NULL);
    EXPECT_ERR(alphacore_mem_free(&r), EINVAL);
    return 0;
}

static char shm_name[64];

static int t_unlink_other_users_region(void) {
    if (geteuid() != 0) {
        printf("  skipped: another user's region needs root to create one and drop to another uid\n");
        return 77;
    }
    alphacore_mem_opts o = ALPHACORE_MEM_OPTS_INIT;
    o.page_size = 4096;    /* base pages: the file is in /dev/shm */
    alphacore_region r;
    EXPECT(alphacore_mem_shared_create(shm_name, 4096, &o, &r) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
        int rc = alphacore_mem_shared_unlink(shm_name);
        _exit(rc == -EACCES ? 0 : (rc == -EPERM ? 1 : 2));
    }
    int st = 0;
    waitpid(pid, &st, 0);
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 100;
    alphacore_mem_free(&r);
    EXPECT(alphacore_mem_shared_unlink(shm_name) == 0);   /* the owner can */
    if (code == 1) fprintf(stderr, "unlink of another user's region returned -EPERM (documented: -EACCES)\n");
    EXPECT(code == 0);
    return 0;
}

int main(void) {
    snprintf(fixture, sizeof fixture, "/tmp/ac-topo-%d-XXXXXX", (int)getpid());
    if (!mkdtemp(fixture)) { perror("mkdtemp"); return 1; }
    run_case("2: possible 0-1048575, online the same", t_huge_possible, 5);
    nftw(fixture, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    mkdir(fixture, 0700);
    run_case("2: possible 0-1048575, no online file", t_huge_possible_no_online, 5);
    nftw(fixture, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    mkdir(fixture, 0700);
    run_case("2: possible and node lists 0-1048575", t_huge_possible_and_nodes, 5);
    nftw(fixture, rm_entry, 16, FTW_DEPTH | FTW_PHYS);

    run_case("4: struct_size below the first version", t_struct_size_small, 10);

    run_case("5: thread name at a guard page", t_thread_name, 5);
    run_case("5: cpulists and node lists at a guard page", t_cpulists, 5);
    run_case("5: role spec and role names at a guard page", t_roles, 5);
    run_case("5: doctor cpus and hugepages at a guard page", t_doctor_strings, 10);
    run_case("5: shared region names at a guard page", t_shm_names, 5);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(shm_name, sizeof shm_name, "ac-b18-%d-%ld", (int)getpid(), (long)ts.tv_nsec);
    run_case("6: free checks addr, size, page_size, fd; a copy frees once", t_free_checks_fields, 5);
    run_case("6: unlink of another user's region is -EACCES", t_unlink_other_users_region, 10);
    alphacore_mem_shared_unlink(shm_name);   /* in case a failed case left it */
    return check_summary("test_boundary_hostile");
}
