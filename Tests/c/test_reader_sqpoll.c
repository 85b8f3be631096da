/* The reader with ALPHACORE_READER_SQPOLL through the installed header and library: the kernel
 * submission thread is really there (setup flags, the iou-sqp thread of this process, pinned
 * to the CPU asked for), and data moves through it with every byte checked: many streams, a
 * consumer that holds buffers (ENOBUFS re-arms), pipes, and a storm of streams whose end
 * arrives together with their last bytes (the case where Linux 6.18's multishot recv can miss
 * the end; the reader's hang-up watch must hand every end out, after the last byte). A bad
 * SQPOLL CPU is refused with its reason, and AUTO falls back to epoll saying why.
 * If the kernel refuses SQPOLL itself, the test says so with the errno and skips. */
#include "reader_util.h"
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include "check.h"

#define SETUP_SQPOLL (1u << 1)         /* IORING_SETUP_SQPOLL */
#define SETUP_SQ_AFF (1u << 2)         /* IORING_SETUP_SQ_AFF */
#define SETUP_DEFER_TASKRUN (1u << 13) /* IORING_SETUP_DEFER_TASKRUN */
#define MAXN 128   /* <= RU_MAXN */

static int sq_cpu;

static uint32_t ring_flags = ALPHACORE_READER_SQPOLL;   /* 0: the default DEFER_TASKRUN ring */

static alphacore_reader *make_sqpoll(uint32_t backend, uint32_t count, uint32_t size, int *rc_out) {
    alphacore_reader_opts o = ALPHACORE_READER_OPTS_INIT;
    o.backend = backend;
    o.flags = ring_flags;
    o.sqpoll_cpu = sq_cpu;
    o.sqpoll_idle_ms = 50;   /* let the thread fall asleep between tests: the wake-up path runs too */
    o.capacity = 256;
    o.buf_count = count;
    o.buf_size = size;
    alphacore_reader *r = NULL;
    *rc_out = alphacore_reader_create(&o, &r);
    return *rc_out == 0 ? r : NULL;
}

/* The iou-sqp-<pid> kernel thread among this process's threads: its tid, and whether its
 * affinity is exactly {cpu}. Returns the number of such threads. */
static int find_sqpoll_threads(int cpu, int *pinned) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int found = 0;
    *pinned = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[300], comm[64] = {0};
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fgets(comm, sizeof comm, f) && strncmp(comm, "iou-sqp-", 8) == 0) {
            found++;
            cpu_set_t set;
            CPU_ZERO(&set);
            if (sched_getaffinity((pid_t)atoi(e->d_name), sizeof set, &set) == 0 && CPU_COUNT(&set) == 1 &&
                CPU_ISSET(cpu, &set))
                (*pinned)++;
        }
        fclose(f);
    }
    closedir(d);
    return found;
}

enum { KIND_TCP, KIND_UNIX, KIND_PIPE };

static void open_stream(int kind, int *rx, int *tx) {
    int sv[2] = {-1, -1};
    if (kind == KIND_TCP) {
        CHECK_EQ_INT(tcp_pair(rx, tx), 0);
        return;
    }
    if (kind == KIND_UNIX) CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    else CHECK_EQ_INT(pipe(sv), 0);
    *rx = sv[0];
    *tx = sv[1];
}

/* Polls until every stream ended (or a poll of 2 s brings nothing: a lost end). */
static void drain(alphacore_reader *r, int n, const int *rx, stream_check *sc, int hold, int *lost, int *enobufs) {
    static alphacore_completion out[256], held[2048];
    int nheld = 0, ended = 0;
    while (ended < n) {
        uint64_t t0 = mono_ns();
        int got = alphacore_reader_poll(r, out, 256, 1, 0, 2000000000);
        if (got == -ENOBUFS) {
            (*enobufs)++;
            CHECK(nheld > 0);
            alphacore_reader_release(r, held, (uint32_t)nheld);
            nheld = 0;
            continue;
        }
        CHECK(got >= 0);
        if (got < 0) {
            fprintf(stderr, "poll: %s (%s)\n", alphacore_strerror(got), alphacore_last_detail());
            break;
        }
        if (got == 0 && mono_ns() - t0 < 1900000000ull) continue;   /* an early 0: allowed (alphacore_reader_poll(3)) */
        if (got == 0) {   /* 2 s without a completion while ends are missing */
            *lost = n - ended;
            break;
        }
        for (int k = 0; k < got; k++) {
            int i = (int)out[k].user_data;
            CHECK(i >= 0 && i < n);
            if (i < 0 || i >= n) continue;
            CHECK_EQ_INT(out[k].fd, rx[i]);
            CHECK_EQ_INT(sc[i].ended, 0);   /* nothing after the end */
            check_bytes(&sc[i], (uint32_t)i, &out[k]);
            if (out[k].result <= 0) ended++;
        }
        if (hold > 0) {
            for (int k = 0; k < got; k++) held[nheld++] = out[k];
            if (nheld >= hold) {
                alphacore_reader_release(r, held, (uint32_t)nheld);
                nheld = 0;
            }
        } else {
            CHECK(alphacore_reader_release(r, out, (uint32_t)got) >= 0);
        }
    }
    if (nheld > 0) alphacore_reader_release(r, held, (uint32_t)nheld);
}

/* n streams of `total` bytes written by a producer thread while the reader polls. */
static void test_streams(int kind, int n, uint64_t total, uint32_t count, uint32_t size, int hold) {
    int rc;
    alphacore_reader *r = make_sqpoll(ALPHACORE_READER_IO_URING, count, size, &rc);
    CHECK_EQ_INT(rc, 0);
    if (!r) return;
    producer p = {.n = n, .total = total, .seed = 11u + (unsigned)n, .close_when_done = 1};
    int rx[MAXN];
    for (int i = 0; i < n; i++) {
        open_stream(kind, &rx[i], &p.tx[i]);
        CHECK_EQ_INT(alphacore_reader_add(r, rx[i], (uint64_t)i), 0);
    }
    pthread_t th;
    pthread_create(&th, NULL, produce, &p);
    static stream_check sc[MAXN];
    memset(sc, 0, sizeof sc);
    int lost = 0, enobufs = 0;
    drain(r, n, rx, sc, hold, &lost, &enobufs);
    pthread_join(th, NULL);
    CHECK_EQ_INT(lost, 0);
    uint64_t bad = 0, wrong = 0;
    for (int i = 0; i < n; i++) {
        bad += sc[i].bad;
        if (sc[i].got != total || sc[i].ended != 1 || sc[i].end_result != 0) wrong++;
        close(rx[i]);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(wrong, 0);
    alphacore_reader_counters st = {.struct_size = sizeof st};
    CHECK_EQ_INT(alphacore_reader_stats(r, &st), 0);
    CHECK_EQ_INT(st.bytes, total * (uint64_t)n);
    CHECK_EQ_INT(st.eofs, n);
    CHECK_EQ_INT(st.buffers_held, 0);
    printf("  sqpoll %-4s %3d streams x %6llu B, bufs %3u x %4u, hold %3d: %llu completions, %llu syscalls, "
           "%llu enobufs, %llu rearms, %d poll ENOBUFS\n",
           kind == KIND_TCP ? "tcp" : kind == KIND_UNIX ? "unix" : "pipe", n, (unsigned long long)total, count, size, hold,
           (unsigned long long)st.completions, (unsigned long long)st.syscalls, (unsigned long long)st.enobufs,
           (unsigned long long)st.rearms, enobufs);
    alphacore_reader_destroy(r);
}

/* Ends that arrive with the last bytes: every stream gets a few bytes and is closed before
 * the reader runs, round after round. Every end must come out, once, after all the bytes. */
static void test_end_storm(int kind) {
    int rc;
    alphacore_reader *r = make_sqpoll(ALPHACORE_READER_IO_URING, 256, 4096, &rc);
    CHECK_EQ_INT(rc, 0);
    if (!r) return;
    enum { N = 96, ROUNDS = 12 };
    int lost_total = 0;
    uint64_t ends = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int rx[N], tx[N];
        static stream_check sc[N];
        memset(sc, 0, sizeof sc);
        uint64_t len[N];
        for (int i = 0; i < N; i++) {
            open_stream(kind, &rx[i], &tx[i]);
            CHECK_EQ_INT(alphacore_reader_add(r, rx[i], (uint64_t)i), 0);
        }
        for (int i = 0; i < N; i++) {
            uint8_t buf[3000];
            len[i] = 1 + (uint64_t)((round * 131 + i * 37) % 2900);
            fill_pattern(buf, (uint32_t)i, 0, (size_t)len[i]);
            CHECK_EQ_INT(write_all(tx[i], buf, (size_t)len[i]), 0);
            close(tx[i]);
        }
        int lost = 0, enobufs = 0;
        drain(r, N, rx, sc, 0, &lost, &enobufs);
        lost_total += lost;
        for (int i = 0; i < N; i++) {
            CHECK_EQ_INT(sc[i].got, len[i]);
            CHECK_EQ_INT(sc[i].bad, 0);
            CHECK_EQ_INT(sc[i].ended, 1);
            CHECK_EQ_INT(sc[i].end_result, 0);
            ends += (uint64_t)sc[i].ended;
            CHECK_EQ_INT(alphacore_reader_remove(r, rx[i]), 0);
            close(rx[i]);
        }
    }
    CHECK_EQ_INT(lost_total, 0);
    printf("  %s %-4s end storm: %d rounds x %d streams closed right after their last bytes: %llu ends, %d lost\n",
           ring_flags ? "sqpoll" : "default", kind == KIND_TCP ? "tcp" : kind == KIND_UNIX ? "unix" : "pipe", ROUNDS, N, (unsigned long long)ends, lost_total);
    alphacore_reader_destroy(r);
}

/* Fds removed after their peer hung up but before their end was handed out, their slots
 * reused at once by new fds (the hang-up watch must not keep stale entries), many times;
 * then a new stream still gets every byte and its end. */
static void test_remove_hung_up(void) {
    int rc;
    alphacore_reader *r = make_sqpoll(ALPHACORE_READER_IO_URING, 64, 4096, &rc);
    CHECK_EQ_INT(rc, 0);
    if (!r) return;
    alphacore_completion out[64];
    for (int k = 0; k < 400; k++) {
        int rx[4], tx[4];
        for (int i = 0; i < 4; i++) {
            open_stream(i == 3 ? KIND_PIPE : KIND_TCP, &rx[i], &tx[i]);
            CHECK_EQ_INT(alphacore_reader_add(r, rx[i], 100u + (uint64_t)i), 0);
            uint8_t b[100];
            fill_pattern(b, 9, 0, sizeof b);
            CHECK_EQ_INT(write_all(tx[i], b, sizeof b), 0);
            close(tx[i]);
        }
        for (int i = 0; i < 2; i++) {
            int got = alphacore_reader_poll(r, out, 64, 0, 0, 0);
            CHECK(got >= 0);
            if (got > 0) alphacore_reader_release(r, out, (uint32_t)got);
        }
        for (int i = 0; i < 4; i++) {
            CHECK_EQ_INT(alphacore_reader_remove(r, rx[i]), 0);
            close(rx[i]);
        }
    }
    int rx, tx;
    open_stream(KIND_TCP, &rx, &tx);
    CHECK_EQ_INT(alphacore_reader_add(r, rx, 0), 0);
    uint8_t b[5000];
    fill_pattern(b, 0, 0, sizeof b);
    CHECK_EQ_INT(write_all(tx, b, sizeof b), 0);
    close(tx);
    stream_check sc = {0};
    int lost = 0, enobufs = 0;
    drain(r, 1, &rx, &sc, 0, &lost, &enobufs);
    CHECK_EQ_INT(lost, 0);
    CHECK_EQ_INT(sc.got, sizeof b);
    CHECK_EQ_INT(sc.end_result, 0);
    CHECK_EQ_INT(sc.bad, 0);
    CHECK_EQ_INT(sc.ended, 1);
    close(rx);
    printf("  %s remove after hang-up: 400 x 4 fds removed before their end, slots reused; then a stream intact\n",
           ring_flags ? "sqpoll" : "default");
    alphacore_reader_destroy(r);
}

int main(void) {
    raise_nofile();
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    sq_cpu = ncpu > 1 ? 1 : 0;
    int rc;
    alphacore_reader *r = make_sqpoll(ALPHACORE_READER_IO_URING, 64, 4096, &rc);
    if (!r) {
        /* The kernel (or a seccomp filter, or io_uring_disabled) refuses: say exactly why. */
        printf("SKIP test_reader_sqpoll: SQPOLL on CPU %d refused: %s (errno %d): %s\n", sq_cpu, alphacore_strerror(rc),
               -rc, alphacore_last_detail());
        return check_summary("test_reader_sqpoll");
    }
    alphacore_reader_details d = {.struct_size = sizeof d};
    CHECK_EQ_INT(alphacore_reader_info(r, &d), 0);
    CHECK_EQ_INT(d.backend, ALPHACORE_READER_IO_URING);
    CHECK_EQ_INT(d.uring_errno, 0);
    CHECK(d.flags & ALPHACORE_READER_SQPOLL);
    CHECK(d.setup_flags & SETUP_SQPOLL);
    CHECK(d.setup_flags & SETUP_SQ_AFF);
    CHECK(!(d.setup_flags & SETUP_DEFER_TASKRUN));   /* the two are exclusive */
    char want[64];
    snprintf(want, sizeof want, "SQPOLL thread on CPU %d", sq_cpu);
    CHECK(strstr(d.reason, want) != NULL);
    /* The kernel thread exists, and only while the ring does. */
    int pinned = 0;
    int threads = find_sqpoll_threads(sq_cpu, &pinned);
    CHECK_EQ_INT(threads, 1);
    CHECK_EQ_INT(pinned, 1);
    printf("  SQPOLL ring: setup flags 0x%x, %d iou-sqp thread pinned to CPU %d; reason: %s\n", d.setup_flags, threads,
           sq_cpu, d.reason);
    alphacore_reader_destroy(r);
    for (int i = 0; i < 100 && find_sqpoll_threads(sq_cpu, &pinned) > 0; i++) usleep(10000);
    CHECK_EQ_INT(find_sqpoll_threads(sq_cpu, &pinned), 0);

    /* AUTO with SQPOLL: io_uring, SQPOLL in effect. */
    r = make_sqpoll(ALPHACORE_READER_AUTO, 64, 4096, &rc);
    CHECK_EQ_INT(rc, 0);
    if (r) {
        CHECK_EQ_INT(alphacore_reader_info(r, &d), 0);
        CHECK_EQ_INT(d.backend, ALPHACORE_READER_IO_URING);
        CHECK(d.flags & ALPHACORE_READER_SQPOLL);
        alphacore_reader_destroy(r);
    }

    /* A CPU that does not exist: io_uring refuses it with EINVAL and the reader says which
     * CPU; AUTO falls back to epoll, reports the refusal and drops the flag. */
    alphacore_reader_opts o = ALPHACORE_READER_OPTS_INIT;
    o.backend = ALPHACORE_READER_IO_URING;
    o.flags = ALPHACORE_READER_SQPOLL;
    o.sqpoll_cpu = 4000;
    r = NULL;
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), -EINVAL);
    CHECK(r == NULL);
    CHECK(strstr(alphacore_last_detail(), "CPU 4000") != NULL);
    o.backend = ALPHACORE_READER_AUTO;
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), 0);
    if (r) {
        CHECK_EQ_INT(alphacore_reader_info(r, &d), 0);
        CHECK_EQ_INT(d.backend, ALPHACORE_READER_EPOLL);
        CHECK_EQ_INT(d.uring_errno, EINVAL);
        CHECK_STREQ(d.uring_stage, "io_uring_setup");
        CHECK(strstr(d.reason, "CPU 4000") != NULL);
        CHECK(!(d.flags & ALPHACORE_READER_SQPOLL));
        alphacore_reader_destroy(r);
    }

    /* Data through the SQPOLL ring. */
    test_streams(KIND_TCP, 64, 200000, 256, 4096, 0);
    test_streams(KIND_TCP, 16, 150000, 32, 2048, 24);   /* holds most buffers: ENOBUFS, re-arms */
    test_streams(KIND_UNIX, 12, 150000, 64, 2048, 0);
    test_streams(KIND_PIPE, 12, 100000, 64, 4096, 0);
    test_end_storm(KIND_TCP);
    test_end_storm(KIND_UNIX);
    test_end_storm(KIND_PIPE);
    test_remove_hung_up();
    /* The same storms and removals on the default ring (DEFER_TASKRUN), for comparison. */
    ring_flags = 0;
    test_end_storm(KIND_TCP);
    test_end_storm(KIND_PIPE);
    test_remove_hung_up();
    return check_summary("test_reader_sqpoll");
}
