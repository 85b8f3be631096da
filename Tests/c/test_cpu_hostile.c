/* CPU placement in hostile environments, for real (no fixtures):
 *   - a cgroup cpuset (v1 or v2, wherever the cpuset controller is) that excludes a CPU: a
 *     child process moved into it before, and after, the library loaded its topology;
 *   - a seccomp filter that makes the NUMA system calls fail with ENOSYS, and with EPERM;
 *   - a process without CAP_SYS_NICE (setpriv), and a cgroup with no real-time budget.
 * Each scenario runs in a child process. Everything written to stdout and stderr during the
 * run is captured: the library must write nothing (only failing checks would). Scenarios this
 * machine cannot stage are skipped with the reason printed at the end. */
#include <alphacore.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static char skips[4096];
static int c0 = -1, c1 = -1;   /* first and last allowed CPU */

static void skip(const char *what, const char *why) {
    size_t n = strlen(skips);
    snprintf(skips + n, sizeof skips - n, "  skipped %s: %s\n", what, why);
}

#define FCHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: child check failed: %s (rc detail: %s)\n", \
                                            __FILE__, __LINE__, #c, alphacore_last_detail()); return 1; } } while (0)

static int has(const char *needle) { return strstr(alphacore_last_detail(), needle) != NULL; }

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t n = write(fd, text, strlen(text));
    int e = n < 0 ? -errno : 0;
    close(fd);
    return e;
}

static int read_file(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0) return -1;
    buf[n] = 0;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) buf[--n] = 0;
    return (int)n;
}

/* The mount point of a cgroup hierarchy: v1 with `controller` in its super options, or (when
 * controller is NULL) the cgroup2 mount. */
static int find_mount(const char *controller, char *out, size_t cap) {
    FILE *f = fopen("/proc/self/mountinfo", "r");
    if (!f) return -1;
    char line[1024];
    int found = -1;
    while (found < 0 && fgets(line, sizeof line, f)) {
        char *dash = strstr(line, " - ");
        if (!dash) continue;
        char mp[512], fstype[64], source[256], opts[512];
        if (sscanf(line, "%*s %*s %*s %*s %511s", mp) != 1) continue;
        if (sscanf(dash + 3, "%63s %255s %511s", fstype, source, opts) != 3) continue;
        if (controller == NULL && strcmp(fstype, "cgroup2") == 0) {
            snprintf(out, cap, "%s", mp);
            found = 0;
        } else if (controller && strcmp(fstype, "cgroup") == 0) {
            for (char *tok = strtok(opts, ","); tok; tok = strtok(NULL, ","))
                if (strcmp(tok, controller) == 0) { snprintf(out, cap, "%s", mp); found = 0; }
        }
    }
    fclose(f);
    return found;
}

/* A fresh cgroup for the cpuset test; returns its path (and version) or "" with a reason. */
static char cg_dir[600];
static int cg_version;

static void cgroup_cleanup(void) {
    if (cg_dir[0]) { rmdir(cg_dir); cg_dir[0] = 0; }
}

static int make_cpuset_cgroup(char *why, size_t cap) {
    char mp[512], buf[256], path[700];
    if (find_mount("cpuset", mp, sizeof mp) == 0) {
        cg_version = 1;
    } else if (find_mount(NULL, mp, sizeof mp) == 0) {
        cg_version = 2;
        snprintf(path, sizeof path, "%s/cgroup.subtree_control", mp);
        if (read_file(path, buf, sizeof buf) < 0 || !strstr(buf, "cpuset")) {
            snprintf(why, cap, "the cgroup2 root at %s does not delegate the cpuset controller", mp);
            return -1;
        }
    } else {
        snprintf(why, cap, "no cgroup hierarchy with the cpuset controller is mounted");
        return -1;
    }
    snprintf(cg_dir, sizeof cg_dir, "%s/alphacore-test-%d-%08x", mp, (int)getpid(), (unsigned)random_u32());
    if (mkdir(cg_dir, 0755) != 0) {
        snprintf(why, cap, "cannot create %s: %s (cgroup fs not writable)", cg_dir, strerror(errno));
        cg_dir[0] = 0;
        return -1;
    }
    atexit(cgroup_cleanup);
    char cpus[16];
    snprintf(cpus, sizeof cpus, "%d", c0);
    snprintf(path, sizeof path, "%s/cpuset.cpus", cg_dir);
    int e = write_file(path, cpus);
    if (e == 0 && cg_version == 1) {
        /* v1 needs mems before a task may join: copy the parent's. */
        snprintf(path, sizeof path, "%s/cpuset.mems", mp);
        if (read_file(path, buf, sizeof buf) > 0) {
            snprintf(path, sizeof path, "%s/cpuset.mems", cg_dir);
            e = write_file(path, buf);
        }
    }
    if (e != 0) {
        snprintf(why, cap, "cannot configure %s: %s", cg_dir, strerror(-e));
        cgroup_cleanup();
        return -1;
    }
    return 0;
}

static int move_into(const char *dir, pid_t pid) {
    char path[700], text[32];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    snprintf(text, sizeof text, "%d", (int)pid);
    return write_file(path, text);
}

/* Runs body in a child: `before` runs first, then the parent moves the child into `dir`, then
 * `after` runs. Returns the child's exit status (0 = all checks passed). */
static int in_moved_child(const char *dir, int (*before)(void), int (*after)(void)) {
    int go[2], ready[2];
    if (pipe(go) != 0 || pipe(ready) != 0) return 99;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        char c = 0;
        int rc = before ? before() : 0;
        if (write(ready[1], &c, 1) != 1) _exit(98);
        if (read(go[0], &c, 1) != 1) _exit(97);
        _exit(rc ? rc : after());
    }
    char c = 0;
    int status = 0;
    if (read(ready[0], &c, 1) != 1) { waitpid(pid, &status, 0); return 96; }
    int e = move_into(dir, pid);
    if (e != 0) fprintf(stderr, "moving %d into %s: %s\n", (int)pid, dir, strerror(-e));
    if (write(go[1], &c, 1) != 1) e = -EPIPE;
    waitpid(pid, &status, 0);
    close(go[0]); close(go[1]); close(ready[0]); close(ready[1]);
    if (e != 0) return 95;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

static char c0s[16], c1s[16], pair[40];

/* A process that starts inside the narrowed cpuset. */
static int fresh_in_cpuset(void) {
    char buf[512], before[64], after[64];
    /* The fork copied the parent's cached topology: read it as a new process would. */
    FCHECK(alphacore_topology_reload() == 0);
    FCHECK(alphacore_topology_list(ALPHACORE_CPUS_ALLOWED, buf, sizeof buf) > 0);
    FCHECK(strcmp(buf, c0s) == 0);
    FCHECK(alphacore_cpus_allowed_source(buf, sizeof buf) > 0);
    char want[64];
    snprintf(want, sizeof want, "cgroup v%d cpuset %d", cg_version, c0);
    FCHECK(strstr(buf, want) != NULL);
    FCHECK(strstr(buf, "alphacore-test-") != NULL);
    alphacore_thread_affinity(before, sizeof before);
    FCHECK(alphacore_pin_thread(c1) == -EINVAL);
    snprintf(want, sizeof want, "cpu %d is not in the allowed set %d (cgroup v%d cpuset", c1, c0, cg_version);
    FCHECK(has(want));
    FCHECK(alphacore_pin_thread_list(pair) == -EINVAL);
    FCHECK(has("not in the allowed set"));
    char spec[64];
    snprintf(spec, sizeof spec, "collector=%d", c1);
    FCHECK(alphacore_roles_set(spec) == -EINVAL);
    alphacore_thread_affinity(after, sizeof after);
    FCHECK(strcmp(before, after) == 0);
    FCHECK(alphacore_pin_thread(c0) == 0);
    FCHECK(alphacore_current_cpu() == c0 && alphacore_pin_verify() == 1);
    return 0;
}

/* The topology was loaded before the move: the kernel shrinks or refuses; the library says so. */
static int load_topology(void) {
    char buf[64];
    return alphacore_topology_list(ALPHACORE_CPUS_ALLOWED, buf, sizeof buf) > 0 && strcmp(buf, pair) == 0 ? 0 : 1;
}

static int stale_topology(void) {
    char before[64], after[64], buf[512];
    alphacore_thread_affinity(before, sizeof before);
    FCHECK(strcmp(before, c0s) == 0);      /* the move re-masked the process */
    FCHECK(alphacore_pin_thread_list(pair) == -EINVAL);
    FCHECK(has("the kernel applied only"));
    alphacore_thread_affinity(after, sizeof after);
    FCHECK(strcmp(after, before) == 0);
    FCHECK(alphacore_pin_thread(c1) == -EINVAL);
    FCHECK(has("the kernel refused"));
    alphacore_thread_affinity(after, sizeof after);
    FCHECK(strcmp(after, before) == 0);
    FCHECK(alphacore_topology_reload() == 0);
    FCHECK(alphacore_topology_list(ALPHACORE_CPUS_ALLOWED, buf, sizeof buf) > 0 && strcmp(buf, c0s) == 0);
    FCHECK(alphacore_pin_thread(c1) == -EINVAL && has("not in the allowed set"));
    return 0;
}

/* A thread pinned to c1, then its cgroup narrows to c0: pin_verify notices. */
static int pin_c1(void) { return alphacore_pin_thread(c1) == 0 && alphacore_pin_verify() == 1 ? 0 : 1; }
static int moved_off(void) {
    FCHECK(alphacore_current_cpu() == c0);
    FCHECK(alphacore_pin_verify() == 0);
    return 0;
}

static void test_cgroup_cpuset(void) {
    char why[800];
    if (c0 == c1) { skip("cgroup cpuset", "only one allowed CPU: nothing to exclude"); return; }
    if (make_cpuset_cgroup(why, sizeof why) != 0) { skip("cgroup cpuset", why); return; }
    CHECK_EQ_INT(in_moved_child(cg_dir, NULL, fresh_in_cpuset), 0);
    CHECK_EQ_INT(in_moved_child(cg_dir, load_topology, stale_topology), 0);
    CHECK_EQ_INT(in_moved_child(cg_dir, pin_c1, moved_off), 0);
    cgroup_cleanup();
    struct stat st;
    CHECK(stat(cg_dir, &st) != 0);
}

/* ---- seccomp ------------------------------------------------------------------------- */

static int numa_under_seccomp(int err) {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) return 90;
    int calls[] = {SCMP_SYS(get_mempolicy), SCMP_SYS(set_mempolicy), SCMP_SYS(mbind),
                   SCMP_SYS(move_pages), SCMP_SYS(migrate_pages)};
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
        if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO((unsigned)err), calls[i], 0) != 0) return 91;
    if (seccomp_load(ctx) != 0) return 92;
    seccomp_release(ctx);

    FCHECK(alphacore_numa_status() == (err == ENOSYS ? ALPHACORE_NUMA_UNAVAILABLE : ALPHACORE_NUMA_DENIED));
    const char *word = err == ENOSYS ? "ENOSYS" : "EPERM";
    FCHECK(alphacore_mem_policy_set(ALPHACORE_MPOL_LOCAL, NULL) == -err && has(word));
    FCHECK(alphacore_mem_policy_set(ALPHACORE_MPOL_BIND, "0") == -err && has(word));
    long page = sysconf(_SC_PAGESIZE);
    char *p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    FCHECK(p != MAP_FAILED);
    p[0] = 1;
    FCHECK(alphacore_mem_bind(p, (size_t)page, ALPHACORE_MPOL_BIND, "0", 0) == -err && has(word));
    FCHECK(alphacore_mem_node_of(p) == -err && has(word));
    /* The rest of the CPU calls do not need those system calls. */
    FCHECK(alphacore_cpu_node(c0) >= 0);
    FCHECK(alphacore_pin_thread(c0) == 0);
    return 0;
}

static int child_seccomp_enosys(void) { return numa_under_seccomp(ENOSYS); }
static int child_seccomp_eperm(void) { return numa_under_seccomp(EPERM); }

static int run_child(int (*body)(void)) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) _exit(body());
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

/* ---- no CAP_SYS_NICE ------------------------------------------------------------------ */

/* Runs inside `setpriv --bounding-set=-sys_nice`: RLIMIT_NICE 0, RLIMIT_RTPRIO soft 0 hard 20. */
static int nocap_child(void) {
    char status[4096];
    FCHECK(read_file("/proc/thread-self/status", status, sizeof status) > 0);
    char *cap = strstr(status, "CapEff:");
    FCHECK(cap && !(strtoull(cap + 7, NULL, 16) & (1ull << 23)));

    /* The test may itself run niced (CI under `nice`): work relative to the starting value. */
    errno = 0;
    int start = getpriority(PRIO_PROCESS, (id_t)gettid());
    FCHECK(errno == 0 && start < 15);
    FCHECK(alphacore_set_nice(-5) == -EACCES);
    FCHECK(has("CAP_SYS_NICE (not in this thread's effective set)") && has("RLIMIT_NICE >= 25 (soft limit 0)"));
    FCHECK(getpriority(PRIO_PROCESS, (id_t)gettid()) == start);
    FCHECK(alphacore_set_nice(start + 5) == 0);
    FCHECK(alphacore_set_nice(start) == -EACCES);      /* undoing +5 is refused too */
    FCHECK(getpriority(PRIO_PROCESS, (id_t)gettid()) == start + 5);

    FCHECK(alphacore_set_realtime(ALPHACORE_SCHED_FIFO, 10) == -EPERM);
    FCHECK(has("RLIMIT_RTPRIO >= 10 (soft limit 0)") && has("CAP_SYS_NICE"));
    FCHECK(has("still SCHED_OTHER"));
    FCHECK(sched_getscheduler(0) == SCHED_OTHER);
    FCHECK(alphacore_set_realtime(ALPHACORE_SCHED_RR, 30) == -EPERM);
    FCHECK(sched_getscheduler(0) == SCHED_OTHER);

    /* With RLIMIT_RTPRIO 20 an unprivileged thread may take FIFO up to 20 (unless its cgroup
     * has no real-time budget, which the detail then names), but not 21. */
    struct rlimit rl = {0, 0};
    getrlimit(RLIMIT_RTPRIO, &rl);
    if (rl.rlim_max < 21) return 77;   /* the hard limit could not be raised (no CAP_SYS_RESOURCE) */
    rl.rlim_cur = 20;
    FCHECK(setrlimit(RLIMIT_RTPRIO, &rl) == 0);
    int rc = alphacore_set_realtime(ALPHACORE_SCHED_FIFO, 10);
    FCHECK(rc == 0 || (rc == -EPERM && has("real-time budget")));
    if (rc == 0) {
        FCHECK(sched_getscheduler(0) == SCHED_FIFO);
        FCHECK(alphacore_set_realtime(ALPHACORE_SCHED_FIFO, 21) == -EPERM && has("RLIMIT_RTPRIO >= 21 (soft limit 20)"));
        FCHECK(has("still SCHED_FIFO priority 10"));
        FCHECK(alphacore_set_realtime(ALPHACORE_SCHED_OTHER, 0) == 0);
        FCHECK(sched_getscheduler(0) == SCHED_OTHER);
    }
    return 0;
}

static void test_no_cap_sys_nice(void) {
    if (access("/usr/bin/setpriv", X_OK) != 0) { skip("no CAP_SYS_NICE", "setpriv (util-linux) is not installed"); return; }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        /* The suite may run niced (nice -n 19 on a shared machine): the child needs room for +5,
         * and root may still lower its own nice before the capability is dropped. */
        if (getpriority(PRIO_PROCESS, 0) > 10) setpriority(PRIO_PROCESS, 0, 10);
        struct rlimit nice0 = {0, 0}, rt = {0, 40};
        setrlimit(RLIMIT_NICE, &nice0);
        setrlimit(RLIMIT_RTPRIO, &rt);
        char self[512];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) _exit(93);
        self[n] = 0;
        execl("/usr/bin/setpriv", "setpriv", "--inh-caps=-all", "--bounding-set=-sys_nice", "--",
              self, "nocap", (char *)NULL);
        _exit(94);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
    if (rc == 77) {
        skip("RLIMIT_RTPRIO > 0 without CAP_SYS_NICE",
             "the RLIMIT_RTPRIO hard limit cannot be raised here (no CAP_SYS_RESOURCE); the refusals were tested");
        rc = 0;
    }
    CHECK_EQ_INT(rc, 0);
}

/* ---- a cgroup without real-time budget ---------------------------------------------- */

static int rt_without_budget(void) {
    FCHECK(alphacore_set_realtime(ALPHACORE_SCHED_FIFO, 1) == -EPERM);
    FCHECK(has("cpu.rt_runtime_us is 0") && has("no real-time budget"));
    FCHECK(sched_getscheduler(0) == SCHED_OTHER);
    return 0;
}

static void test_rt_budget(void) {
    char mp[512], dir[700], path[800], buf[64];
    if (find_mount("cpu", mp, sizeof mp) != 0) { skip("real-time budget 0", "no cgroup v1 cpu controller (RT group budgets exist only there)"); return; }
    snprintf(path, sizeof path, "%s/cpu.rt_runtime_us", mp);
    if (read_file(path, buf, sizeof buf) < 0) { skip("real-time budget 0", "the kernel has no RT group scheduling (no cpu.rt_runtime_us)"); return; }
    snprintf(dir, sizeof dir, "%s/alphacore-rt-%d-%08x", mp, (int)getpid(), (unsigned)random_u32());
    if (mkdir(dir, 0755) != 0) { skip("real-time budget 0", "cannot create a cpu cgroup (cgroup fs not writable)"); return; }
    snprintf(path, sizeof path, "%s/cpu.rt_runtime_us", dir);
    if (read_file(path, buf, sizeof buf) < 0 || strcmp(buf, "0") != 0) write_file(path, "0");
    CHECK_EQ_INT(in_moved_child(dir, NULL, rt_without_budget), 0);
    CHECK_EQ_INT(rmdir(dir), 0);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "nocap") == 0) return nocap_child();

    uint64_t allowed[16] = {0};
    alphacore_topology_mask(ALPHACORE_CPUS_ALLOWED, allowed, 16);
    c0 = __builtin_ctzll(allowed[0]);
    c1 = 63 - __builtin_clzll(allowed[0]);
    snprintf(c0s, sizeof c0s, "%d", c0);
    snprintf(c1s, sizeof c1s, "%d", c1);
    snprintf(pair, sizeof pair, "%d,%d", c0, c1);
    if (c1 == c0 + 1) snprintf(pair, sizeof pair, "%d-%d", c0, c1);

    check_capture_begin();

    if (geteuid() != 0) {
        skip("cgroup, no-CAP_SYS_NICE and RT budget scenarios", "not running as root");
    } else {
        test_cgroup_cpuset();
        test_no_cap_sys_nice();
        test_rt_budget();
    }
    CHECK_EQ_INT(run_child(child_seccomp_enosys), 0);
    CHECK_EQ_INT(run_child(child_seccomp_eperm), 0);

    CHECK_EQ_INT(check_capture_end(), 0);
    if (skips[0]) printf("test_cpu_hostile:\n%s", skips);
    return check_summary("test_cpu_hostile");
}
