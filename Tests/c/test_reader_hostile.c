/* The reader where io_uring is refused, for real: a seccomp filter that makes io_uring_setup
 * fail with EPERM (what container default profiles do), kernel.io_uring_disabled = 1 (set and
 * restored), and RLIMIT_MEMLOCK at 64 KiB without CAP_IPC_LOCK. Each runs in a child process;
 * AUTO must fall back to epoll, report the errno, the stage and the reason, and still deliver
 * every byte; IO_URING and NO_FALLBACK must fail with that errno. */
#include "reader_util.h"
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <dirent.h>
#include <grp.h>
#include <unistd.h>
#include "check.h"

/* A few socketpairs through the reader, every byte checked. */
static void stream_check_run(alphacore_reader *r) {
    enum { N = 8, TOTAL = 100000 };
    int rx[N] = {0}, tx[N] = {0};
    static uint8_t buf[TOTAL];
    for (int i = 0; i < N; i++) {
        int sv[2];
        CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        rx[i] = sv[0];
        tx[i] = sv[1];
        CHECK_EQ_INT(alphacore_reader_add(r, rx[i], (uint64_t)i), 0);
    }
    stream_check sc[N];
    memset(sc, 0, sizeof sc);
    uint64_t sent[N] = {0};
    int ended = 0;
    alphacore_completion out[64];
    uint64_t deadline = mono_ns() + 20000000000ull;
    while (ended < N && mono_ns() < deadline) {
        for (int i = 0; i < N; i++) {   /* write a little to each, close when done */
            if (sent[i] >= TOTAL) continue;
            size_t chunk = 7000 + (size_t)i * 100;
            if (chunk > TOTAL - sent[i]) chunk = TOTAL - sent[i];
            fill_pattern(buf, (uint32_t)i, sent[i], chunk);
            CHECK_EQ_INT(write_all(tx[i], buf, chunk), 0);
            sent[i] += chunk;
            if (sent[i] == TOTAL) close(tx[i]);
        }
        int got = alphacore_reader_poll(r, out, 64, 1, 0, 1000000000);
        CHECK(got >= 0);
        if (got < 0) break;
        for (int k = 0; k < got; k++) {
            check_bytes(&sc[out[k].user_data], (uint32_t)out[k].user_data, &out[k]);
            if (out[k].result <= 0) ended++;
        }
        alphacore_reader_release(r, out, (uint32_t)got);
    }
    CHECK_EQ_INT(ended, N);
    for (int i = 0; i < N; i++) {
        CHECK_EQ_INT(sc[i].got, TOTAL);
        CHECK_EQ_INT(sc[i].bad, 0);
        CHECK_EQ_INT(sc[i].end_result, 0);
        alphacore_reader_remove(r, rx[i]);
        close(rx[i]);
    }
}

/* AUTO falls back with errno `err` at `stage`, reason containing `why`; the strict modes fail. */
static void expect_fallback(int err, const char *stage, const char *why) {
    alphacore_reader_opts o = ALPHACORE_READER_OPTS_INIT;
    alphacore_reader *r = NULL;
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), 0);
    if (!r) return;
    alphacore_reader_details d = {.struct_size = sizeof d};
    CHECK_EQ_INT(alphacore_reader_info(r, &d), 0);
    CHECK_EQ_INT(d.backend, ALPHACORE_READER_EPOLL);
    CHECK_EQ_INT(d.requested, ALPHACORE_READER_AUTO);
    CHECK_EQ_INT(d.uring_errno, err);
    CHECK_STREQ(d.uring_stage, stage);
    CHECK(strstr(d.reason, why) != NULL);
    printf("    auto -> %s: %s\n", backend_name(d.backend), d.reason);
    stream_check_run(r);
    alphacore_reader_destroy(r);

    o.backend = ALPHACORE_READER_IO_URING;
    r = NULL;
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), -err);
    CHECK(r == NULL);
    CHECK(strstr(alphacore_last_detail(), stage) != NULL);
    o.backend = ALPHACORE_READER_AUTO;
    o.flags = ALPHACORE_READER_NO_FALLBACK;
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), -err);
    o.flags = 0;
    o.backend = ALPHACORE_READER_EPOLL;
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), 0);
    alphacore_reader_destroy(r);
}

/* Runs fn in a child; the child's failed checks become its exit status. */
static void in_child(const char *name, void (*fn)(void)) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        check_passed = check_failed = 0;
        fn();
        printf("  %s: %d passed, %d failed\n", name, check_passed, check_failed);
        fflush(stdout);
        _exit(check_failed > 100 ? 100 : check_failed);
    }
    int status = 0;
    CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 0);
}

static void seccomp_child(void) {
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {(unsigned short)(sizeof f / sizeof f[0]), f};
    CHECK_EQ_INT(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
    CHECK_EQ_INT(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0), 0);
    expect_fallback(EPERM, "io_uring_setup", "seccomp");
}

/* Removes `cap` from this process's effective and permitted sets. */
static void drop_capability(int cap) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    CHECK_EQ_INT(syscall(SYS_capget, &h, d), 0);
    d[cap / 32].effective &= ~(1u << (cap % 32));
    d[cap / 32].permitted &= ~(1u << (cap % 32));
    CHECK_EQ_INT(syscall(SYS_capset, &h, d), 0);
}

/* kernel.io_uring_disabled = 1 lets only CAP_SYS_ADMIN (or io_uring_group) make rings: this
 * child leaves the groups and drops CAP_SYS_ADMIN, and sees what an unprivileged process sees,
 * while every other process of the machine's (root) test runs keeps its io_uring. */
static void disabled_child(void) {
    CHECK_EQ_INT(setgroups(0, NULL), 0);
    CHECK_EQ_INT(setgid(65534), 0);
    drop_capability(CAP_SYS_ADMIN);
    expect_fallback(EPERM, "io_uring_setup", "io_uring_disabled = 1");
}

static void memlock_child(void) {
    /* Without CAP_IPC_LOCK the ring's memory counts against RLIMIT_MEMLOCK. */
    drop_capability(CAP_IPC_LOCK);
    struct rlimit lim = {64 * 1024, 64 * 1024};
    CHECK_EQ_INT(setrlimit(RLIMIT_MEMLOCK, &lim), 0);
    expect_fallback(ENOMEM, "io_uring_setup", "RLIMIT_MEMLOCK is 65536 bytes");
    /* A small ring still fits: the reader takes io_uring when it can. */
    alphacore_reader_opts o = ALPHACORE_READER_OPTS_INIT;
    o.capacity = 16;
    o.buf_count = 64;
    alphacore_reader *r = NULL;
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), 0);
    alphacore_reader_details det = {.struct_size = sizeof det};
    CHECK_EQ_INT(alphacore_reader_info(r, &det), 0);
    printf("    small ring under 64 KiB memlock -> %s (sq %u, cq %u) %s\n", backend_name(det.backend),
           det.sq_entries, det.cq_entries, det.reason);
    CHECK_EQ_INT(det.backend, ALPHACORE_READER_IO_URING);
    stream_check_run(r);
    alphacore_reader_destroy(r);
}

static char saved_disabled[16];
static const char *disabled_path = "/proc/sys/kernel/io_uring_disabled";

static int write_sysctl(const char *value) {
    FILE *f = fopen(disabled_path, "w");
    if (!f) return -1;
    int ok = fputs(value, f) >= 0;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

static void restore_disabled(void) {
    if (saved_disabled[0]) write_sysctl(saved_disabled);
}

/* Issue 18, finding 7b: the reader refuses its own fds (the io_uring ring, the hang-up epoll
 * set, the epoll backend's set) with -EINVAL. They are found as the fds create opened. */
static void fd_set_now(unsigned char *seen, int cap) {
    memset(seen, 0, (size_t)cap);
    DIR *d = opendir("/proc/self/fd");
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (fd > 0 && fd < cap && fd != dirfd(d)) seen[fd] = 1;   /* not the listing's own fd */
    }
    closedir(d);
}

static void test_own_fds(uint32_t backend) {
    enum { CAP = 65536 };
    static unsigned char before[CAP], after[CAP];
    fd_set_now(before, CAP);
    alphacore_reader_opts o = ALPHACORE_READER_OPTS_INIT;
    o.backend = backend;
    o.buf_count = 16;
    alphacore_reader *r = NULL;
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), 0);
    if (!r) return;
    fd_set_now(after, CAP);
    int refused = 0, internal = 0;
    for (int fd = 0; fd < CAP; fd++) {
        if (!after[fd] || before[fd]) continue;
        char path[64], link[256] = {0};
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        if (readlink(path, link, sizeof link - 1) < 0) continue;
        if (!strstr(link, "io_uring") && !strstr(link, "eventpoll")) continue;
        internal++;
        int rc = alphacore_reader_add(r, fd, 1);
        CHECK_EQ_INT(rc, -EINVAL);
        if (rc == -EINVAL) {
            refused++;
            CHECK(strstr(alphacore_last_detail(), "own") != NULL);
        }
    }
    /* io_uring: the ring and the hang-up set; epoll: its set. */
    CHECK(internal >= (backend == ALPHACORE_READER_IO_URING ? 2 : 1));
    printf("  %s: %d internal fds, %d refused with -EINVAL\n", backend_name(backend), internal, refused);
    alphacore_reader_destroy(r);
}

int main(void) {
    raise_nofile();
    test_own_fds(ALPHACORE_READER_IO_URING);
    test_own_fds(ALPHACORE_READER_EPOLL);
    in_child("seccomp EPERM on io_uring_setup", seccomp_child);
    /* The machine-wide lock of the tests that change a sysctl (Tests/c/mem_sysctl.h): two runs at
     * once would otherwise save each other's "2" and leave io_uring disabled for everyone. */
    int sysctl_lock = open("/tmp/alphacore-hugepages.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (sysctl_lock >= 0) flock(sysctl_lock, LOCK_EX);
    FILE *f = fopen(disabled_path, "r");
    if (!f || !fgets(saved_disabled, sizeof saved_disabled, f)) {
        printf("  SKIP io_uring_disabled: %s is not readable on this kernel\n", disabled_path);
    } else {
        atexit(restore_disabled);   /* restored even if a check below fails */
        if (write_sysctl("1") != 0) {
            printf("  SKIP io_uring_disabled: cannot write %s (%s)\n", disabled_path, strerror(errno));
            saved_disabled[0] = 0;
        } else {
            in_child("kernel.io_uring_disabled = 1 without CAP_SYS_ADMIN", disabled_child);
            restore_disabled();
            char now[16] = {0};
            FILE *g = fopen(disabled_path, "r");
            CHECK(g && fgets(now, sizeof now, g));
            if (g) fclose(g);
            CHECK_STREQ(now, saved_disabled);
        }
    }
    if (f) fclose(f);
    if (sysctl_lock >= 0) close(sysctl_lock);
    in_child("RLIMIT_MEMLOCK 64 KiB without CAP_IPC_LOCK", memlock_child);
    return check_summary("test_reader_hostile");
}
