/* Named shared regions across processes: a region created here is opened by name in a freshly
 * exec'd process (this program re-executed in its "peer" role, knowing only the name), which
 * checks the creator's bytes and writes an answer back. Covers /dev/shm (no hugetlbfs mount)
 * and a hugetlbfs mount with 2 MiB pages (mounted for the test on a temporary directory and
 * unmounted afterwards, like the pool, whatever happens to the cases). */
#include "check.h"
#include "mem_sysctl.h"
#include <alphacore.h>
#include <errno.h>
#include <sched.h>
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MiB (1024ull * 1024)
static const char *pool2m = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages";
static const char *self_path;

static int count_dir(const char *path) {
    DIR *d = opendir(path);
    int n = 0;
    if (!d) return -1;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

/* Runs this program as the peer: it opens `name`, checks byte i == (i * 7) & 0xff for the first
 * 64 KiB, writes 0x5a at offset size-1, and exits 0 on success. */
static int run_peer(const char *name, int expect_backing) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        char backing[16];
        snprintf(backing, sizeof backing, "%d", expect_backing);
        execl(self_path, self_path, "peer", name, backing, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int peer_main(const char *name, int expect_backing) {
    alphacore_region r;
    alphacore_mem_opts o = ALPHACORE_MEM_OPTS_INIT;
    o.flags = ALPHACORE_MEM_PREFAULT;
    int rc = alphacore_mem_shared_open(name, &o, &r);
    if (rc != 0) { fprintf(stderr, "peer: open: %s (%s)\n", alphacore_strerror(rc), alphacore_last_detail()); return 2; }
    if (r.backing != expect_backing) { fprintf(stderr, "peer: backing %d\n", r.backing); return 3; }
    if (!(r.flags & ALPHACORE_REGION_SHARED)) return 4;
    const unsigned char *p = r.addr;
    for (size_t i = 0; i < 65536; i++) if (p[i] != (unsigned char)(i * 7)) return 5;
    ((unsigned char *)r.addr)[r.size - 1] = 0x5a;
    return alphacore_mem_free(&r) == 0 ? 0 : 6;
}

static void fill(alphacore_region *r) {
    unsigned char *p = r->addr;
    for (size_t i = 0; i < 65536; i++) p[i] = (unsigned char)(i * 7);
}

static void test_names(void) {
    alphacore_region r;
    CHECK_EQ_INT(alphacore_mem_shared_create(NULL, 4096, NULL, &r), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_shared_create("", 4096, NULL, &r), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_shared_create("../etc", 4096, NULL, &r), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_shared_create(".hidden", 4096, NULL, &r), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_shared_create("a/b", 4096, NULL, &r), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_shared_create("ok-name", 0, NULL, &r), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_shared_create("ok-name", 4096, NULL, NULL), -EINVAL);
    CHECK_EQ_INT(alphacore_mem_shared_open("no-such-region-here", NULL, &r), -ENOENT);
    CHECK_EQ_INT(alphacore_mem_shared_unlink("no-such-region-here"), -ENOENT);
    CHECK_EQ_INT(alphacore_mem_shared_unlink(NULL), -EINVAL);
}

static void test_shm(void) {
    char name[64], shm_path[128];
    snprintf(name, sizeof name, "acsh-test-shm-%d-%08x", (int)getpid(), (unsigned)random_u32());
    snprintf(shm_path, sizeof shm_path, "/dev/shm/alphacore.%s", name);
    alphacore_mem_shared_unlink(name);
    alphacore_region r;
    alphacore_mem_opts o = ALPHACORE_MEM_OPTS_INIT;
    o.flags = ALPHACORE_MEM_PREFAULT;
    int hugetlbfs_mounted = system("grep -q ' hugetlbfs ' /proc/mounts") == 0;
    CHECK_EQ_INT(alphacore_mem_shared_create(name, 4 * MiB, &o, &r), 0);
    CHECK(r.flags & ALPHACORE_REGION_SHARED);
    CHECK(r.fd >= 0);
    if (!hugetlbfs_mounted) {
        /* The pool has 4 pages but no hugetlbfs mount can hold the file: ENOENT, then /dev/shm. */
        CHECK(r.backing == ALPHACORE_MEM_BASE || r.backing == ALPHACORE_MEM_THP);
        CHECK_EQ_INT(r.refused[ALPHACORE_MEM_HUGE_2M], -ENOENT);
    } else {
        printf("test_mem_shared: SKIP the no-mount refusal: this host has a hugetlbfs mount\n");
        CHECK_EQ_INT(alphacore_mem_free(&r), 0);
        CHECK_EQ_INT(alphacore_mem_shared_unlink(name), 0);
        o.page_size = 4096;   /* /dev/shm with base pages, whatever the mounts */
        CHECK_EQ_INT(alphacore_mem_shared_create(name, 4 * MiB, &o, &r), 0);
        CHECK_EQ_INT(r.backing, ALPHACORE_MEM_BASE);
    }
    char text[2048];
    alphacore_mem_report(&r, text, sizeof text);
    CHECK(strstr(text, shm_path) != NULL);
    struct stat st;
    CHECK_EQ_INT(stat(shm_path, &st), 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    CHECK_EQ_INT(st.st_size, 4 * MiB);
    fill(&r);
    alphacore_region again;
    CHECK_EQ_INT(alphacore_mem_shared_create(name, 4096, &o, &again), -EEXIST);
    CHECK_EQ_INT(run_peer(name, r.backing), 0);
    CHECK_EQ_INT(((unsigned char *)r.addr)[r.size - 1], 0x5a);   /* the peer's write */
    CHECK_EQ_INT(alphacore_mem_shared_unlink(name), 0);
    CHECK_EQ_INT(alphacore_mem_shared_open(name, NULL, &again), -ENOENT);
    ((unsigned char *)r.addr)[0] = 1;   /* still mapped after unlink */
    CHECK_EQ_INT(alphacore_mem_free(&r), 0);
    CHECK_EQ_INT(alphacore_mem_free(&r), -EINVAL);
}

/* Without /proc (a container that hides it) the unnamed file is named through AT_EMPTY_PATH:
 * in a child with its own mount namespace and an empty tmpfs over /proc. */
static void test_no_proc(void) {
    pid_t pid = fork();
    if (pid == 0) {
        if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0
            || mount("none", "/proc", "tmpfs", 0, NULL) != 0) _exit(77);
        char name[64], path[128];
        snprintf(name, sizeof name, "acsh-test-noproc-%d-%08x", (int)getpid(), (unsigned)random_u32());
        snprintf(path, sizeof path, "/dev/shm/alphacore.%s", name);
        alphacore_mem_opts o = ALPHACORE_MEM_OPTS_INIT;
        o.page_size = 4096;
        alphacore_region r;
        int rc = alphacore_mem_shared_create(name, 8192, &o, &r);
        struct stat st;
        int named = rc == 0 && stat(path, &st) == 0 && st.st_size == 8192;
        if (rc == 0) alphacore_mem_free(&r);
        unlink(path);
        if (rc != 0) fprintf(stderr, "without /proc: %d (%s)\n", rc, alphacore_last_detail());
        _exit(named ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
        printf("test_mem_shared: SKIP the no-/proc case: cannot make a mount namespace (%s)\n", strerror(errno));
        return;
    }
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_hugetlbfs(const char *mnt) {
    char name[64];
    snprintf(name, sizeof name, "acsh-test-huge-%d-%08x", (int)getpid(), (unsigned)random_u32());
    alphacore_region r;
    alphacore_mem_opts o = ALPHACORE_MEM_OPTS_INIT;
    o.flags = ALPHACORE_MEM_PREFAULT;
    CHECK_EQ_INT(alphacore_mem_shared_create(name, 4 * MiB, &o, &r), 0);
    CHECK_EQ_INT(r.backing, ALPHACORE_MEM_HUGE_2M);
    CHECK_EQ_INT(r.page_size, 2 * MiB);
    char path[512];
    snprintf(path, sizeof path, "%s/alphacore.%s", mnt, name);
    struct stat st;
    CHECK_EQ_INT(stat(path, &st), 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    fill(&r);
    CHECK_EQ_INT(run_peer(name, ALPHACORE_MEM_HUGE_2M), 0);
    CHECK_EQ_INT(((unsigned char *)r.addr)[r.size - 1], 0x5a);
    /* The pool (4 pages) is used by this region: REQUIRE_HUGE for more is ENOMEM, no file left. */
    o.flags = ALPHACORE_MEM_REQUIRE_HUGE;
    alphacore_region big;
    int files = count_dir(mnt);
    CHECK_EQ_INT(alphacore_mem_shared_create("acsh-test-big", 8 * MiB, &o, &big), -ENOMEM);
    CHECK_EQ_INT(count_dir(mnt), files);
    CHECK_EQ_INT(alphacore_mem_free(&r), 0);
    CHECK_EQ_INT(alphacore_mem_shared_unlink(name), 0);
    CHECK_EQ_INT(count_dir(mnt), 2);   /* . and .. */
    /* Leak check: create/free/unlink many times; fds and mappings return. */
    int fds = count_dir("/proc/self/fd");
    o.flags = 0;
    int bad = 0;
    for (int i = 0; i < 200; i++) {
        if (alphacore_mem_shared_create(name, 2 * MiB, &o, &r) != 0) { bad++; continue; }
        bad += r.backing != ALPHACORE_MEM_HUGE_2M;
        bad += alphacore_mem_free(&r) != 0;
        bad += alphacore_mem_shared_unlink(name) != 0;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(count_dir("/proc/self/fd"), fds);
}

static int run_cases(const char *mnt) {
    test_names();
    test_shm();   /* before the mount: /dev/shm */
    test_no_proc();
    if (mnt) {
        if (mount("none", mnt, "hugetlbfs", 0, "pagesize=2M,mode=0700") == 0) test_hugetlbfs(mnt);
        else printf("test_mem_shared: SKIP hugetlbfs case: mount failed (%s)\n", strerror(errno));
    }
    return check_summary("test_mem_shared");
}

int main(int argc, char **argv) {
    self_path = argv[0];
    if (argc == 4 && strcmp(argv[1], "peer") == 0) return peer_main(argv[2], atoi(argv[3]));
    pool_lock();   /* held until exit, by the cases' child too */
    long saved = read_long(pool2m);
    write_long(pool2m, 4);
    char mnt[] = "/tmp/alphacore-hugetlbfs-XXXXXX";
    const char *dir = NULL;
    if (read_long(pool2m) >= 4 && mkdtemp(mnt)) {
        dir = mnt;
    } else {
        printf("test_mem_shared: SKIP hugetlbfs case: no 2 MiB pages could be reserved\n");
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) { int rc = run_cases(dir); fflush(stdout); _exit(rc); }
    int st = 0;
    waitpid(pid, &st, 0);
    if (dir) { umount2(dir, MNT_DETACH); rmdir(dir); }   /* whatever the cases did */
    write_long(pool2m, saved);
    if (!WIFEXITED(st)) { printf("test_mem_shared: cases died (status %d)\n0 passed, 1 failed\n", st); return 1; }
    return WEXITSTATUS(st);
}
