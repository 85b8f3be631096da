/* errno across every export (issue 18, finding 3). The header promises that the library never
 * changes errno. Every exported function is called here, on success and on failures that reach
 * a system call (bad fds, missing files, refused permissions, impossible sizes), with errno set
 * to a sentinel before the call; errno must still hold it after.
 *
 * Coverage cannot drift: `exports[]` below lists every function of the header (Tests/abi/
 * check_abi.sh diffs it against the header's list), and each one must have been called at least
 * once through KEEP, which records the name it called. */
#include <alphacore.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define SENTINEL 7777

/* The exported functions of alphacore.h, one per line (check_abi.sh reads this block). */
static const char *const exports[] = {
    /* BEGIN EXPORTS */
    "alphacore_version_number", "alphacore_version_string", "alphacore_strerror", "alphacore_last_detail",
    "alphacore_now_ns", "alphacore_cycles", "alphacore_cycles_to_ns", "alphacore_cycles_per_second",
    "alphacore_hist_create", "alphacore_hist_destroy", "alphacore_hist_copy", "alphacore_hist_footprint",
    "alphacore_hist_record", "alphacore_hist_record_n", "alphacore_hist_record_atomic",
    "alphacore_hist_record_corrected", "alphacore_hist_record_batch", "alphacore_hist_value_at_percentile",
    "alphacore_hist_value_at_percentiles", "alphacore_hist_min", "alphacore_hist_max", "alphacore_hist_mean",
    "alphacore_hist_stddev", "alphacore_hist_mean_stddev", "alphacore_hist_total_count",
    "alphacore_hist_count_at_value", "alphacore_hist_reset", "alphacore_hist_add",
    "alphacore_hist_format_percentiles", "alphacore_hist_encode", "alphacore_hist_encode_level",
    "alphacore_hist_decode", "alphacore_hist_set_times", "alphacore_hist_get_times",
    "alphacore_recorder_create", "alphacore_recorder_destroy", "alphacore_recorder_record",
    "alphacore_recorder_record_batch", "alphacore_recorder_sample", "alphacore_hist_log_header",
    "alphacore_hist_log_interval", "alphacore_hist_log_reader_create", "alphacore_hist_log_reader_destroy",
    "alphacore_hist_log_reader_next",
    "alphacore_topology_reload", "alphacore_topology_list", "alphacore_topology_mask",
    "alphacore_cpus_allowed_source", "alphacore_cpu_node", "alphacore_cpu_info_get", "alphacore_cpu_siblings",
    "alphacore_node_cpus", "alphacore_node_memory", "alphacore_node_distance", "alphacore_cpulist_parse",
    "alphacore_cpulist_format", "alphacore_pin_thread", "alphacore_pin_thread_list", "alphacore_pin_pthread",
    "alphacore_pin_verify", "alphacore_current_cpu", "alphacore_thread_affinity", "alphacore_affinity_save",
    "alphacore_affinity_restore", "alphacore_affinity_free", "alphacore_numa_status",
    "alphacore_mem_policy_set", "alphacore_mem_bind", "alphacore_mem_node_of", "alphacore_roles_set",
    "alphacore_pin_role", "alphacore_role_cpus", "alphacore_set_nice", "alphacore_set_realtime",
    "alphacore_thread_name_set", "alphacore_thread_name_get",
    "alphacore_mem_alloc", "alphacore_mem_free", "alphacore_mem_plan", "alphacore_mem_report",
    "alphacore_mem_shared_create", "alphacore_mem_shared_open", "alphacore_mem_shared_unlink",
    "alphacore_hugepage_pools",
    "alphacore_reader_create", "alphacore_reader_destroy", "alphacore_reader_info", "alphacore_reader_add",
    "alphacore_reader_remove", "alphacore_reader_poll", "alphacore_reader_release", "alphacore_reader_poll_copy",
    "alphacore_read_batch", "alphacore_reader_stats",
    "alphacore_doctor_run",
    "alphacore_channel_create", "alphacore_channel_destroy", "alphacore_channel_unlink", "alphacore_channel_claim",
    "alphacore_channel_commit", "alphacore_channel_publish", "alphacore_channel_heartbeat", "alphacore_channel_open",
    "alphacore_channel_reader_close", "alphacore_channel_poll", "alphacore_channel_poll_copy",
    "alphacore_channel_reader_check", "alphacore_channel_wait", "alphacore_channel_reader_info",
    "alphacore_channel_reader_hist",
    "alphacore_metrics_create", "alphacore_metrics_destroy", "alphacore_metrics_add_hist",
    "alphacore_metrics_add_recorder", "alphacore_metrics_add_reader", "alphacore_metrics_counter",
    "alphacore_metrics_gauge", "alphacore_metrics_add_host", "alphacore_metrics_add_thread",
    "alphacore_metrics_remove", "alphacore_metrics_write", "alphacore_metrics_serve",
    "alphacore_metrics_server_port", "alphacore_metrics_server_stop",
    /* END EXPORTS */
};
#define N_EXPORTS (sizeof exports / sizeof exports[0])
static int called[N_EXPORTS];

/* Marks the export named at the start of `text` ("alphacore_x(args)") as called. */
static void mark(const char *text) {
    size_t n = strcspn(text, "( ");
    for (size_t i = 0; i < N_EXPORTS; i++)
        if (strlen(exports[i]) == n && strncmp(exports[i], text, n) == 0) { called[i] = 1; return; }
    fprintf(stderr, "test_errno: %.*s is not in exports[]\n", (int)n, text);
    check_failed++;
}

/* Calls `call` with errno = SENTINEL; errno must be SENTINEL afterwards. Arguments must not
 * touch errno themselves (compute them before). */
#define KEEP(call) do { \
    mark(#call); \
    errno = SENTINEL; \
    (void)(call); \
    int keep_e_ = errno; \
    if (keep_e_ == SENTINEL) check_passed++; \
    else { check_failed++; fprintf(stderr, "%s:%d: %s changed errno to %d (%s)\n", __FILE__, __LINE__, #call, \
                                   keep_e_, strerror(keep_e_)); } \
} while (0)

static void core_and_clock(void) {
    KEEP(alphacore_version_number());
    KEEP(alphacore_version_string());
    KEEP(alphacore_strerror(-EINVAL));
    KEEP(alphacore_strerror(-123456));
    KEEP(alphacore_last_detail());
    KEEP(alphacore_now_ns());
    KEEP(alphacore_cycles());
    KEEP(alphacore_cycles_to_ns(1000));
    KEEP(alphacore_cycles_per_second());
}

static void histograms(void) {
    alphacore_hist *h = NULL, *c = NULL, *d = NULL;
    KEEP(alphacore_hist_create(1, 1000000, 3, &h));
    KEEP(alphacore_hist_create(0, 1, 9, &c));                      /* refused */
    KEEP(alphacore_hist_create(1, INT64_MAX, 5, &c));              /* large: mmap may refuse */
    alphacore_hist_destroy(c);
    c = NULL;
    KEEP(alphacore_hist_copy(h, &c));
    KEEP(alphacore_hist_copy(NULL, &c));
    KEEP(alphacore_hist_footprint(h));
    KEEP(alphacore_hist_footprint(NULL));
    KEEP(alphacore_hist_record(h, 5));
    KEEP(alphacore_hist_record(h, -1));
    KEEP(alphacore_hist_record(NULL, 5));
    KEEP(alphacore_hist_record_n(h, 7, 3));
    KEEP(alphacore_hist_record_n(h, 7, -3));
    KEEP(alphacore_hist_record_atomic(h, 9));
    KEEP(alphacore_hist_record_atomic(h, INT64_MAX));
    KEEP(alphacore_hist_record_corrected(h, 100, 10));
    KEEP(alphacore_hist_record_corrected(h, -100, 10));
    int64_t vals[3] = {1, 2, 3};
    KEEP(alphacore_hist_record_batch(h, vals, 3));
    KEEP(alphacore_hist_record_batch(h, NULL, 3));
    KEEP(alphacore_hist_value_at_percentile(h, 50.0));
    KEEP(alphacore_hist_value_at_percentile(h, 101.0));
    double ps[2] = {50, 99};
    int64_t out[2];
    KEEP(alphacore_hist_value_at_percentiles(h, ps, out, 2));
    KEEP(alphacore_hist_value_at_percentiles(h, ps, NULL, 2));
    KEEP(alphacore_hist_min(h));
    KEEP(alphacore_hist_max(NULL));
    KEEP(alphacore_hist_mean(h));
    KEEP(alphacore_hist_stddev(NULL));
    double mean, sd;
    KEEP(alphacore_hist_mean_stddev(h, &mean, &sd));
    KEEP(alphacore_hist_mean_stddev(h, NULL, NULL));
    KEEP(alphacore_hist_total_count(h));
    KEEP(alphacore_hist_count_at_value(h, 5));
    KEEP(alphacore_hist_count_at_value(h, -5));
    KEEP(alphacore_hist_add(c, h));
    KEEP(alphacore_hist_add(NULL, h));
    char buf[16384];
    KEEP(alphacore_hist_format_percentiles(h, 5, 1.0, buf, sizeof buf));
    KEEP(alphacore_hist_format_percentiles(h, 0, 1.0, buf, sizeof buf));
    KEEP(alphacore_hist_encode(h, buf, sizeof buf));
    KEEP(alphacore_hist_encode(h, NULL, 5));
    KEEP(alphacore_hist_encode_level(h, 9, buf, sizeof buf));
    KEEP(alphacore_hist_encode_level(h, 99, buf, sizeof buf));
    int64_t n = alphacore_hist_encode(h, buf, sizeof buf);
    KEEP(alphacore_hist_decode(buf, n > 0 ? (size_t)n : 0, &d));
    alphacore_hist_destroy(d);
    d = NULL;
    KEEP(alphacore_hist_decode("!!!!", 4, &d));
    KEEP(alphacore_hist_set_times(h, 1, 2));
    int64_t s, e;
    KEEP(alphacore_hist_get_times(h, &s, &e));
    KEEP(alphacore_hist_get_times(NULL, &s, &e));
    char line[4096];
    KEEP(alphacore_hist_log_header(1, 1, line, sizeof line));
    KEEP(alphacore_hist_log_interval(h, "tag", 0, 1.0, line, sizeof line));
    KEEP(alphacore_hist_log_interval(h, "bad,tag", 0, 1.0, line, sizeof line));
    KEEP(alphacore_hist_reset(h));
    KEEP(alphacore_hist_reset(NULL));
    KEEP(alphacore_hist_destroy(c));
    KEEP(alphacore_hist_destroy(h));
    KEEP(alphacore_hist_destroy(NULL));
}

static void recorder_and_log(void) {
    alphacore_recorder *r = NULL;
    alphacore_hist *h = NULL;
    KEEP(alphacore_recorder_create(1, 1000000, 3, &r));
    alphacore_recorder *refused = NULL;
    KEEP(alphacore_recorder_create(5, 1, 3, &refused));
    alphacore_hist_create(1, 1000000, 3, &h);
    KEEP(alphacore_recorder_record(r, 5));
    KEEP(alphacore_recorder_record(r, -5));
    int64_t vals[2] = {1, 2};
    KEEP(alphacore_recorder_record_batch(r, vals, 2));
    KEEP(alphacore_recorder_record_batch(r, NULL, 2));
    KEEP(alphacore_recorder_sample(r, h));
    KEEP(alphacore_recorder_sample(r, NULL));
    KEEP(alphacore_recorder_destroy(r));

    char text[8192];
    int64_t n = alphacore_hist_log_header(0, 0, text, sizeof text);
    int64_t m = alphacore_hist_log_interval(h, NULL, 0, 1.0, text + n, sizeof text - (size_t)n);
    alphacore_hist_log_reader *lr = NULL;
    KEEP(alphacore_hist_log_reader_create(text, (size_t)(n + m), &lr));
    alphacore_hist *got = NULL;
    alphacore_hist_log_entry entry = {.struct_size = sizeof entry};
    KEEP(alphacore_hist_log_reader_next(lr, &got, &entry));
    KEEP(alphacore_hist_log_reader_next(lr, &got, &entry));        /* the end */
    KEEP(alphacore_hist_log_reader_next(NULL, &got, &entry));
    KEEP(alphacore_hist_log_reader_destroy(lr));
    lr = NULL;
    KEEP(alphacore_hist_log_reader_create("#garbage\n1,2,3,4\n", 17, &lr));
    alphacore_hist_log_reader_destroy(lr);
    alphacore_hist_destroy(h);
}

static void topology(void) {
    char buf[4096];
    uint64_t words[1024];
    KEEP(alphacore_topology_reload());
    KEEP(alphacore_topology_list(ALPHACORE_CPUS_ONLINE, buf, sizeof buf));
    KEEP(alphacore_topology_list(-1, buf, sizeof buf));
    KEEP(alphacore_topology_mask(ALPHACORE_CPUS_ALLOWED, words, 1024));
    KEEP(alphacore_topology_mask(ALPHACORE_CPUS_ALLOWED, NULL, 4));
    KEEP(alphacore_cpus_allowed_source(buf, sizeof buf));
    KEEP(alphacore_cpu_node(0));
    KEEP(alphacore_cpu_node(1 << 20));
    alphacore_cpu_info info = ALPHACORE_CPU_INFO_INIT;
    KEEP(alphacore_cpu_info_get(0, &info));
    KEEP(alphacore_cpu_info_get(-1, &info));
    KEEP(alphacore_cpu_siblings(0, buf, sizeof buf));
    KEEP(alphacore_cpu_siblings(1 << 20, buf, sizeof buf));
    KEEP(alphacore_node_cpus(0, buf, sizeof buf));
    KEEP(alphacore_node_cpus(4000, buf, sizeof buf));
    uint64_t total, free_bytes;
    KEEP(alphacore_node_memory(0, &total, &free_bytes));
    KEEP(alphacore_node_memory(-1, &total, &free_bytes));
    KEEP(alphacore_node_distance(0, 0));
    KEEP(alphacore_node_distance(0, 999));
    KEEP(alphacore_cpulist_parse("0-3,8", words, 1024));
    KEEP(alphacore_cpulist_parse("3-1", words, 1024));
    KEEP(alphacore_cpulist_format(words, 1, buf, sizeof buf));
    KEEP(alphacore_cpulist_format(NULL, 3, buf, sizeof buf));
    KEEP(alphacore_numa_status());
}

/* Placement calls change the calling thread: run them on a thread of their own. */
static void *placement_thread(void *arg) {
    (void)arg;
    char buf[4096];
    alphacore_affinity *saved = NULL;
    KEEP(alphacore_affinity_save(&saved));
    KEEP(alphacore_affinity_save(NULL));
    KEEP(alphacore_thread_affinity(buf, sizeof buf));
    int cpu = alphacore_current_cpu();
    KEEP(alphacore_current_cpu());
    KEEP(alphacore_pin_thread(cpu >= 0 ? cpu : 0));
    KEEP(alphacore_pin_thread(1 << 20));
    KEEP(alphacore_pin_verify());
    KEEP(alphacore_pin_thread_list(buf));
    KEEP(alphacore_pin_thread_list("100000"));
    KEEP(alphacore_pin_pthread(pthread_self(), buf));
    KEEP(alphacore_pin_pthread(pthread_self(), "bad"));
    KEEP(alphacore_affinity_restore(saved));
    KEEP(alphacore_affinity_restore(NULL));
    KEEP(alphacore_affinity_free(saved));
    KEEP(alphacore_mem_policy_set(ALPHACORE_MPOL_DEFAULT, NULL));
    KEEP(alphacore_mem_policy_set(ALPHACORE_MPOL_BIND, "4000"));
    KEEP(alphacore_mem_policy_set(12345, NULL));
    KEEP(alphacore_roles_set("hot=0"));
    KEEP(alphacore_roles_set("=broken"));
    KEEP(alphacore_pin_role("hot"));
    KEEP(alphacore_pin_role("absent"));
    KEEP(alphacore_role_cpus("hot", buf, sizeof buf));
    KEEP(alphacore_role_cpus("absent", buf, sizeof buf));
    KEEP(alphacore_set_nice(0));
    KEEP(alphacore_set_nice(100));
    KEEP(alphacore_set_realtime(ALPHACORE_SCHED_OTHER, 0));
    KEEP(alphacore_set_realtime(ALPHACORE_SCHED_FIFO, 1000));
    KEEP(alphacore_thread_name_set("errno-test"));
    KEEP(alphacore_thread_name_set("a name far longer than fifteen bytes"));
    KEEP(alphacore_thread_name_get(buf, sizeof buf));
    KEEP(alphacore_thread_name_get(NULL, 5));
    return NULL;
}

static void memory(void) {
    alphacore_region r, p;
    KEEP(alphacore_mem_alloc(1 << 20, NULL, &r));
    KEEP(alphacore_mem_bind(r.addr, 4096, ALPHACORE_MPOL_PREFERRED, "0", 0));
    KEEP(alphacore_mem_bind(r.addr, 4096, ALPHACORE_MPOL_BIND, "4000", 0));
    KEEP(alphacore_mem_node_of(r.addr));
    KEEP(alphacore_mem_node_of((const void *)(uintptr_t)8));          /* unmapped: EFAULT inside */
    char buf[4096];
    KEEP(alphacore_mem_report(&r, buf, sizeof buf));
    alphacore_region copy = r;
    copy.cookie ^= 1;
    KEEP(alphacore_mem_free(&copy));                                     /* forged: refused */
    KEEP(alphacore_mem_free(&r));
    KEEP(alphacore_mem_free(&r));                                        /* second free */
    KEEP(alphacore_mem_alloc((size_t)1 << 46, NULL, &r));              /* 64 TiB: ENOMEM */
    KEEP(alphacore_mem_plan(1 << 21, NULL, &p));
    alphacore_mem_opts o = ALPHACORE_MEM_OPTS_INIT;
    o.flags = ALPHACORE_MEM_REQUIRE_HUGE;
    o.page_size = (uint64_t)1 << 30;
    KEEP(alphacore_mem_alloc(1 << 30, &o, &r));                         /* 1 GiB hugetlb: usually none */
    if (r.addr) alphacore_mem_free(&r);
    char name[64];
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(name, sizeof name, "/ac-errno-%d-%ld", (int)getpid(), (long)ts.tv_nsec);
    KEEP(alphacore_mem_shared_open(name, NULL, &r));                     /* ENOENT from shm_open */
    KEEP(alphacore_mem_shared_create(name, 4096, NULL, &r));
    KEEP(alphacore_mem_shared_create(name, 4096, NULL, &p));             /* EEXIST */
    KEEP(alphacore_mem_shared_open(name, NULL, &p));
    alphacore_mem_free(&p);
    alphacore_mem_free(&r);
    KEEP(alphacore_mem_shared_unlink(name));
    KEEP(alphacore_mem_shared_unlink(name));                             /* ENOENT */
    alphacore_hugepage_pool pools[16];
    KEEP(alphacore_hugepage_pools(pools, 16));
    KEEP(alphacore_hugepage_pools(NULL, 16));
}

static void reader_with(uint32_t backend) {
    alphacore_reader_opts o = ALPHACORE_READER_OPTS_INIT;
    o.backend = backend;
    alphacore_reader *r = NULL;
    KEEP(alphacore_reader_create(&o, &r));
    if (!r) return;   /* io_uring refused here: the epoll run covers the functions */
    int fds[2];
    if (pipe(fds) != 0) { CHECK(!"pipe"); return; }
    int devnull = open("/dev/null", O_RDONLY);
    KEEP(alphacore_reader_add(r, fds[0], 1));
    KEEP(alphacore_reader_add(r, 1 << 20, 2));                          /* EBADF from the kernel */
    KEEP(alphacore_reader_add(r, devnull, 3));                           /* not pollable: EPERM */
    KEEP(alphacore_reader_add(r, fds[0], 1));                            /* EEXIST */
    ssize_t w = write(fds[1], "hello", 5);
    (void)w;
    alphacore_completion out[8];
    KEEP(alphacore_reader_poll(r, out, 8, 1, 0, 1000000000));
    KEEP(alphacore_reader_release(r, out, 1));
    KEEP(alphacore_reader_release(r, NULL, 3));
    char copy[8192];
    w = write(fds[1], "again", 5);
    KEEP(alphacore_reader_poll_copy(r, out, 8, copy, sizeof copy, 1, 0, 1000000000));
    KEEP(alphacore_reader_poll(r, out, 8, 1, 0, 0));                     /* nothing: timeout */
    KEEP(alphacore_reader_poll(r, NULL, 8, 1, 0, 0));
    alphacore_reader_details d = {.struct_size = sizeof d};
    KEEP(alphacore_reader_info(r, &d));
    alphacore_reader_counters s = {.struct_size = sizeof s};
    KEEP(alphacore_reader_stats(r, &s));
    KEEP(alphacore_reader_stats(r, NULL));
    KEEP(alphacore_reader_remove(r, fds[0]));
    KEEP(alphacore_reader_remove(r, fds[0]));                            /* ENOENT */
    int bfds[2] = {devnull, 1 << 20};
    KEEP(alphacore_read_batch(r, bfds, NULL, 2, out, 1000000000));
    KEEP(alphacore_read_batch(r, NULL, NULL, 2, out, 0));
    KEEP(alphacore_reader_destroy(r));
    KEEP(alphacore_reader_destroy(NULL));
    close(fds[0]);
    close(fds[1]);
    close(devnull);
}

static void doctor(void) {
    char *buf = malloc(1 << 16);
    alphacore_doctor_summary s;
    KEEP(alphacore_doctor_run(NULL, buf, 1 << 16, &s));
    alphacore_doctor_opts o = ALPHACORE_DOCTOR_OPTS_INIT;
    o.cpus = "100000";
    KEEP(alphacore_doctor_run(&o, buf, 1 << 16, &s));
    free(buf);
}

static void channel(void) {
    char name[64], missing[64];
    snprintf(name, sizeof name, "errno-ch-%d-%ld", (int)getpid(), (long)time(NULL));
    snprintf(missing, sizeof missing, "errno-none-%d-%ld", (int)getpid(), (long)time(NULL));
    alphacore_channel_opts o = ALPHACORE_CHANNEL_OPTS_INIT;
    o.capacity = 8192; o.max_msg = 64;
    o.flags = ALPHACORE_CHANNEL_BACKPRESSURE | ALPHACORE_CHANNEL_NONBLOCK;
    alphacore_channel *ch = NULL, *other = NULL;
    alphacore_channel_reader *rd = NULL, *none = NULL;
    KEEP(alphacore_channel_create(name, &o, &ch));
    KEEP(alphacore_channel_create(name, &o, &other));              /* EEXIST */
    KEEP(alphacore_channel_create("a/b", NULL, &other));
    KEEP(alphacore_channel_open(missing, NULL, &none));            /* ENOENT */
    KEEP(alphacore_channel_open(name, NULL, &rd));
    void *p = NULL;
    KEEP(alphacore_channel_claim(ch, 8, &p));
    KEEP(alphacore_channel_commit(ch, p));
    KEEP(alphacore_channel_commit(ch, p));                         /* not claimed */
    KEEP(alphacore_channel_claim(ch, 1000, &p));
    for (int i = 0; i < 200; i++) KEEP(alphacore_channel_publish(ch, "0123456789", 10)); /* EAGAIN + liveness */
    KEEP(alphacore_channel_heartbeat(ch));
    alphacore_channel_msg m[8];
    char buf[512];
    KEEP(alphacore_channel_poll(rd, m, 8));
    KEEP(alphacore_channel_poll(rd, NULL, 8));
    KEEP(alphacore_channel_poll_copy(rd, m, 8, buf, sizeof buf));
    KEEP(alphacore_channel_reader_check(rd));
    KEEP(alphacore_channel_wait(rd, 1000));
    KEEP(alphacore_channel_wait(rd, -7));
    alphacore_channel_reader_details d = {.struct_size = sizeof d};
    KEEP(alphacore_channel_reader_info(rd, &d));                   /* liveness: kill, /proc */
    KEEP(alphacore_channel_reader_hist(rd));
    KEEP(alphacore_channel_reader_close(rd));
    KEEP(alphacore_channel_destroy(ch));
    KEEP(alphacore_channel_unlink(name));
    KEEP(alphacore_channel_unlink(name));                          /* ENOENT */
}

static void metrics(void) {
    alphacore_metrics *m = NULL, *none = NULL;
    alphacore_metrics_server *srv = NULL;
    alphacore_hist *h = NULL;
    alphacore_recorder *rec = NULL;
    alphacore_reader *rd = NULL;
    uint64_t *c = NULL;
    int64_t *g = NULL;
    char *buf = malloc(1 << 16);
    alphacore_hist_create(1, 1000000, 3, &h);
    alphacore_recorder_create(1, 1000000, 3, &rec);
    alphacore_reader_create(NULL, &rd);
    KEEP(alphacore_metrics_create(&m));
    KEEP(alphacore_metrics_create(NULL));                                 /* EINVAL */
    KEEP(alphacore_metrics_add_hist(m, "h", "", NULL, NULL, h, NULL));
    KEEP(alphacore_metrics_add_hist(m, "h-", "", NULL, NULL, h, NULL));   /* EINVAL */
    KEEP(alphacore_metrics_add_recorder(m, "r", "", NULL, NULL, rec, NULL));
    KEEP(alphacore_metrics_add_recorder(m, "r", "", NULL, NULL, rec, NULL)); /* EEXIST */
    KEEP(alphacore_metrics_add_reader(m, "x=\"1\"", rd));
    KEEP(alphacore_metrics_add_reader(m, "x=1", rd));                    /* EINVAL */
    KEEP(alphacore_metrics_counter(m, "c", "", NULL, NULL, &c));
    KEEP(alphacore_metrics_counter(m, "c", "", NULL, NULL, &c));          /* EEXIST */
    KEEP(alphacore_metrics_gauge(m, "g", "", NULL, NULL, &g));
    KEEP(alphacore_metrics_gauge(none, "g", "", NULL, NULL, &g));         /* EINVAL */
    KEEP(alphacore_metrics_add_host(m, NULL));                           /* 0 or ENOENT */
    KEEP(alphacore_metrics_add_thread(m, "t", NULL));
    KEEP(alphacore_metrics_add_thread(m, "t", "bad"));                   /* EINVAL */
    KEEP(alphacore_metrics_write(m, ALPHACORE_METRICS_PROTOBUF, buf, 1 << 16));
    KEEP(alphacore_metrics_write(m, 99, buf, 1 << 16));                  /* EINVAL */
    alphacore_metrics_server *bad = NULL;
    KEEP(alphacore_metrics_serve(m, "10.0.0.1:0", NULL, &bad));          /* EINVAL */
    KEEP(alphacore_metrics_serve(m, "127.0.0.1:0", NULL, &srv));
    KEEP(alphacore_metrics_server_port(srv));
    KEEP(alphacore_metrics_server_stop(srv));
    KEEP(alphacore_metrics_server_port(srv));                            /* EINVAL: stopped */
    KEEP(alphacore_metrics_server_stop(srv));                            /* EINVAL */
    KEEP(alphacore_metrics_remove(m, h));
    KEEP(alphacore_metrics_remove(m, h));                                /* ENOENT */
    KEEP(alphacore_metrics_destroy(m));
    KEEP(alphacore_metrics_destroy(NULL));
    alphacore_reader_destroy(rd);
    alphacore_recorder_destroy(rec);
    alphacore_hist_destroy(h);
    free(buf);
}

int main(void) {
    channel();
    metrics();
    core_and_clock();
    histograms();
    recorder_and_log();
    topology();
    pthread_t t;
    if (pthread_create(&t, NULL, placement_thread, NULL) == 0) pthread_join(t, NULL);
    else CHECK(!"pthread_create");
    memory();
    reader_with(ALPHACORE_READER_EPOLL);
    reader_with(ALPHACORE_READER_IO_URING);
    doctor();
    for (size_t i = 0; i < N_EXPORTS; i++) {
        if (!called[i]) { fprintf(stderr, "test_errno: %s was never called\n", exports[i]); check_failed++; }
    }
    return check_summary("test_errno");
}
