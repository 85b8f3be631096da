/* The batched reader through the installed header and library, on both backends: every byte
 * of every stream verified (pattern by stream and offset), end of stream, resets, buffers the
 * consumer does not give back (ENOBUFS must lose nothing), pipes, remove and re-add, fds
 * closed while added, and every bad argument. */
#include "reader_util.h"
#include <pthread.h>
#include <sys/stat.h>
#include "check.h"

#define MAXN 256
static int use_unix;   /* AF_UNIX socketpairs instead of loopback TCP */

static alphacore_reader *make_reader(uint32_t backend, uint32_t count, uint32_t size) {
    alphacore_reader_opts o = ALPHACORE_READER_OPTS_INIT;
    o.backend = backend;
    o.buf_count = count;
    o.buf_size = size;
    ru_apply_profile(&o);
    alphacore_reader *r = NULL;
    int rc = alphacore_reader_create(&o, &r);
    CHECK_EQ_INT(rc, 0);
    if (rc != 0) fprintf(stderr, "create: %s (%s)\n", alphacore_strerror(rc), alphacore_last_detail());
    alphacore_reader_details d = {.struct_size = sizeof d};
    CHECK_EQ_INT(alphacore_reader_info(r, &d), 0);
    CHECK_EQ_INT(d.backend, backend);
    CHECK_EQ_INT(d.requested, backend);
    CHECK_EQ_INT(d.uring_errno, 0);
    return r;
}

/* N streams of `total` bytes each, read to the end; `hold` completions kept unreleased at a
 * time to press on the buffer pool. */
static void test_streams(uint32_t backend, int n, uint64_t total, uint32_t count, uint32_t size, int hold, int reset) {
    alphacore_reader *r = make_reader(backend, count, size);
    if (!r) return;
    producer p = {.n = n, .total = total, .seed = 7u + (unsigned)n, .reset_at_end = reset};
    int rx[MAXN];
    for (int i = 0; i < n; i++) {
        if (use_unix) {
            int sv[2];
            CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
            rx[i] = sv[0];
            p.tx[i] = sv[1];
        } else {
            CHECK_EQ_INT(tcp_pair(&rx[i], &p.tx[i]), 0);
        }
        CHECK_EQ_INT(alphacore_reader_add(r, rx[i], 1000u + (uint64_t)i), 0);
    }
    pthread_t th;
    pthread_create(&th, NULL, produce, &p);
    static stream_check sc[MAXN];
    memset(sc, 0, sizeof sc);
    static alphacore_completion out[512], held[4096];
    int nheld = 0, ended = 0, enobufs = 0, bad_ud = 0;
    uint64_t deadline = mono_ns() + 60000000000ull;
    while (ended < n && mono_ns() < deadline) {
        int got = alphacore_reader_poll(r, out, 512, 1, 0, 1000000000);
        if (got == -ENOBUFS) {
            enobufs++;
            CHECK(nheld > 0);
            CHECK_EQ_INT(alphacore_reader_release(r, held, (uint32_t)nheld), nheld);
            nheld = 0;
            continue;
        }
        CHECK(got >= 0);
        if (got < 0) {
            fprintf(stderr, "poll: %s (%s)\n", alphacore_strerror(got), alphacore_last_detail());
            break;
        }
        for (int k = 0; k < got; k++) {
            uint64_t ud = out[k].user_data;
            if (ud < 1000 || ud >= 1000u + (uint64_t)n) { bad_ud++; continue; }
            int i = (int)(ud - 1000);
            CHECK_EQ_INT(out[k].fd, rx[i]);
            check_bytes(&sc[i], (uint32_t)i, &out[k]);
            if (out[k].result <= 0) {
                ended++;
                CHECK_EQ_INT(out[k].buf_id, ALPHACORE_NO_BUFFER);
                CHECK(out[k].data == NULL);
            } else {
                CHECK(out[k].buf_id < count);
                CHECK(out[k].result <= (int32_t)size);
            }
        }
        if (hold > 0) {
            for (int k = 0; k < got; k++) held[nheld++] = out[k];
            if (nheld >= hold || nheld > 4096 - 512) {
                alphacore_reader_release(r, held, (uint32_t)nheld);
                nheld = 0;
            }
        } else {
            CHECK(alphacore_reader_release(r, out, (uint32_t)got) >= 0);
        }
    }
    if (nheld > 0) alphacore_reader_release(r, held, (uint32_t)nheld);
    pthread_join(th, NULL);
    CHECK_EQ_INT(ended, n);
    CHECK_EQ_INT(bad_ud, 0);
    uint64_t bad = 0, short_streams = 0, wrong_end = 0;
    for (int i = 0; i < n; i++) {
        bad += sc[i].bad;
        if (reset) {
            /* A reset may discard bytes still in flight: what arrived must be a correct prefix. */
            if (sc[i].got > total) short_streams++;
            if (sc[i].end_result != 0 && sc[i].end_result != -ECONNRESET) wrong_end++;
        } else {
            if (sc[i].got != total) short_streams++;
            if (sc[i].end_result != 0 || sc[i].ended != 1) wrong_end++;
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(short_streams, 0);
    CHECK_EQ_INT(wrong_end, 0);
    alphacore_reader_counters st = {.struct_size = sizeof st};
    CHECK_EQ_INT(alphacore_reader_stats(r, &st), 0);
    uint64_t sum = 0;
    for (int i = 0; i < n; i++) sum += sc[i].got;
    CHECK_EQ_INT(st.bytes, sum);
    CHECK_EQ_INT(st.buffers_held, 0);
    CHECK_EQ_INT(st.fds, n);
    if (!reset) CHECK_EQ_INT(st.eofs, n);
    printf("  %-8s %s %3d streams x %7llu B, bufs %4u x %5u, hold %4d%s: %llu completions, %llu syscalls, "
           "%llu enobufs, %llu rearms, %d poll ENOBUFS\n",
           backend_name(backend), use_unix ? "unix" : "tcp ", n, (unsigned long long)total, count, size, hold, reset ? ", reset" : "",
           (unsigned long long)st.completions, (unsigned long long)st.syscalls, (unsigned long long)st.enobufs,
           (unsigned long long)st.rearms, enobufs);
    for (int i = 0; i < n; i++) {
        CHECK_EQ_INT(alphacore_reader_remove(r, rx[i]), 0);
        close(rx[i]);
    }
    CHECK_EQ_INT(alphacore_reader_remove(r, rx[0]), -ENOENT);
    alphacore_reader_destroy(r);
}

/* A consumer that never gives buffers back: poll says -ENOBUFS, nothing is lost, and the
 * streams resume when the buffers return. */
static void test_never_release(uint32_t backend) {
    alphacore_reader *r = make_reader(backend, 8, 256);
    if (!r) return;
    enum { N = 4, TOTAL = 64 * 1024 };
    int rx[N] = {0}, tx[N] = {0};
    static uint8_t buf[TOTAL];
    for (int i = 0; i < N; i++) {
        tcp_pair(&rx[i], &tx[i]);
        CHECK_EQ_INT(alphacore_reader_add(r, rx[i], (uint64_t)i), 0);
        fill_pattern(buf, (uint32_t)i, 0, TOTAL);
        CHECK_EQ_INT(write_all(tx[i], buf, TOTAL), 0);   /* fits in the socket buffers */
        close(tx[i]);
    }
    stream_check sc[N];
    memset(sc, 0, sizeof sc);
    alphacore_completion held[8], out[8];
    int nheld = 0, saw_enobufs = 0, ended = 0;
    uint64_t progress = mono_ns();
    for (int round = 0; round < 100000 && ended < N; round++) {
        int got = alphacore_reader_poll(r, out, 8, 1, 0, 1000000000);
        /* A poll may return 0 before its timeout (alphacore_reader_poll(3)): only 5 s without
         * a completion is a stall. */
        if (got == 0 && mono_ns() - progress < 5000000000ull) continue;
        progress = mono_ns();
        if (got == -ENOBUFS) {
            saw_enobufs++;
            CHECK_EQ_INT(nheld, 8);
            /* Stay stuck a while: more polls, still ENOBUFS, nothing lost. */
            CHECK_EQ_INT(alphacore_reader_poll(r, out, 8, 1, 0, 1000000), -ENOBUFS);
            CHECK_EQ_INT(alphacore_reader_release(r, held, (uint32_t)nheld), nheld);
            /* The same ids again: not held any more. */
            CHECK_EQ_INT(alphacore_reader_release(r, held, 1), -EINVAL);
            nheld = 0;
            continue;
        }
        CHECK(got > 0);
        if (got <= 0) break;
        for (int k = 0; k < got; k++) {
            check_bytes(&sc[out[k].user_data], (uint32_t)out[k].user_data, &out[k]);
            if (out[k].result <= 0) ended++;
            else held[nheld++] = out[k];
        }
    }
    CHECK(saw_enobufs > 0);
    CHECK_EQ_INT(ended, N);
    for (int i = 0; i < N; i++) {
        CHECK_EQ_INT(sc[i].got, TOTAL);
        CHECK_EQ_INT(sc[i].bad, 0);
        CHECK_EQ_INT(sc[i].end_result, 0);
        close(rx[i]);
    }
    alphacore_reader_release(r, held, (uint32_t)nheld);
    printf("  %-8s never-release: %d ENOBUFS stalls, every byte arrived\n", backend_name(backend), saw_enobufs);
    alphacore_reader_destroy(r);
}

/* Pipes, remove while data flows, re-add, an fd closed while added, timeouts. */
static void test_fds(uint32_t backend) {
    alphacore_reader *r = make_reader(backend, 64, 4096);
    if (!r) return;
    alphacore_completion out[64];
    /* A pipe (blocking: the reader never blocks on it). */
    int pp[2];
    CHECK_EQ_INT(pipe(pp), 0);
    CHECK_EQ_INT(alphacore_reader_add(r, pp[0], 77), 0);
    uint8_t msg[10000];
    fill_pattern(msg, 5, 0, sizeof msg);
    CHECK_EQ_INT(write_all(pp[1], msg, sizeof msg), 0);
    close(pp[1]);
    stream_check sc = {0};
    uint64_t progress = mono_ns();
    for (int i = 0; i < 100 && !sc.ended; i++) {
        int got = alphacore_reader_poll(r, out, 64, 1, 0, 1000000000);
        if (got == 0 && mono_ns() - progress < 5000000000ull) continue;   /* an early 0: allowed */
        progress = mono_ns();
        CHECK(got > 0);
        if (got <= 0) break;
        for (int k = 0; k < got; k++) {
            CHECK_EQ_INT(out[k].user_data, 77);
            check_bytes(&sc, 5, &out[k]);
        }
        alphacore_reader_release(r, out, (uint32_t)got);
    }
    CHECK_EQ_INT(sc.got, sizeof msg);
    CHECK_EQ_INT(sc.bad, 0);
    CHECK_EQ_INT(sc.end_result, 0);
    CHECK_EQ_INT(alphacore_reader_remove(r, pp[0]), 0);
    close(pp[0]);

    /* Timeout: nothing ready gives 0 after about the timeout, not an error. */
    int rx = -1, tx = -1;
    tcp_pair(&rx, &tx);
    CHECK_EQ_INT(alphacore_reader_add(r, rx, 1), 0);
    uint64_t t0 = mono_ns();
    CHECK_EQ_INT(alphacore_reader_poll(r, out, 64, 1, 0, 20000000), 0);
    uint64_t dt = mono_ns() - t0;
    CHECK(dt >= 19000000 && dt < 500000000);
    CHECK_EQ_INT(alphacore_reader_poll(r, out, 64, 1, 0, 0), 0);
    CHECK_EQ_INT(alphacore_reader_poll(r, out, 64, 0, 0, -1), 0);   /* min_complete 0: no wait */
    /* Already added. */
    CHECK_EQ_INT(alphacore_reader_add(r, rx, 2), -EEXIST);
    /* Remove while data is in flight, then add again: the new registration sees new data only
     * after what the old one left behind was dropped or read; bytes are never duplicated. */
    CHECK_EQ_INT(write_all(tx, "abc", 3), 0);
    CHECK_EQ_INT(alphacore_reader_remove(r, rx), 0);
    CHECK_EQ_INT(alphacore_reader_add(r, rx, 3), 0);
    CHECK_EQ_INT(write_all(tx, "def", 3), 0);
    char seen[16] = {0};
    size_t nseen = 0;
    for (int i = 0; i < 50 && nseen < 6; i++) {
        int got = alphacore_reader_poll(r, out, 64, 1, 0, 100000000);
        for (int k = 0; k < got; k++) {
            CHECK_EQ_INT(out[k].user_data, 3);
            if (out[k].result > 0 && nseen + (size_t)out[k].result <= sizeof seen) {
                memcpy(seen + nseen, out[k].data, (size_t)out[k].result);
                nseen += (size_t)out[k].result;
            }
        }
        alphacore_reader_release(r, out, (uint32_t)(got > 0 ? got : 0));
        if (nseen >= 3 && strstr(seen, "def")) break;
    }
    /* "abc" may have been read under the old registration and dropped at remove, or still be
     * in the socket: either way the bytes come in order and "def" arrives. */
    CHECK(strcmp(seen, "abcdef") == 0 || strcmp(seen, "def") == 0);

    /* Closed while added: other fds go on; remove still works and frees the number. */
    int rx2 = -1, tx2 = -1;
    tcp_pair(&rx2, &tx2);
    CHECK_EQ_INT(alphacore_reader_add(r, rx2, 9), 0);
    close(rx);
    CHECK_EQ_INT(write_all(tx2, "xyz", 3), 0);
    int got = 0, x = 0;
    for (int i = 0; i < 20 && !x; i++) {
        got = alphacore_reader_poll(r, out, 64, 1, 0, 100000000);
        for (int k = 0; k < got; k++) if (out[k].user_data == 9 && out[k].result == 3) x = 1;
        alphacore_reader_release(r, out, (uint32_t)(got > 0 ? got : 0));
    }
    CHECK(x);
    CHECK_EQ_INT(alphacore_reader_remove(r, rx), 0);
    CHECK_EQ_INT(alphacore_reader_remove(r, rx), -ENOENT);
    close(tx);
    /* Not open / not a stream. */
    CHECK_EQ_INT(alphacore_reader_add(r, check_dead_fd(), 1), -EBADF);   /* not rx: its number may be reused */
    CHECK_EQ_INT(alphacore_reader_add(r, -1, 1), -EBADF);
    CHECK_EQ_INT(alphacore_reader_add(r, 1 << 30, 1), -EBADF);
    char path[] = "/tmp/alphacore-reader-XXXXXX";
    int f = mkstemp(path);
    CHECK_EQ_INT(alphacore_reader_add(r, f, 1), -EINVAL);
    close(f);
    unlink(path);
    /* A listening socket: added, then its read fails for that fd alone. */
    CHECK_EQ_INT(alphacore_reader_add(r, ru_listener, 55), 0);
    CHECK_EQ_INT(alphacore_reader_remove(r, ru_listener), 0);
    CHECK_EQ_INT(alphacore_reader_remove(r, rx2), 0);
    close(rx2);
    close(tx2);
    alphacore_reader_destroy(r);
}

static void test_capacity(uint32_t backend) {
    alphacore_reader_opts o = ALPHACORE_READER_OPTS_INIT;
    o.backend = backend;
    o.capacity = 4;
    o.buf_count = 16;
    alphacore_reader *r = NULL;
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), 0);
    if (!r) return;
    int rx[5] = {-1, -1, -1, -1, -1}, tx[5] = {-1, -1, -1, -1, -1};
    for (int i = 0; i < 5; i++) tcp_pair(&rx[i], &tx[i]);
    for (int i = 0; i < 4; i++) CHECK_EQ_INT(alphacore_reader_add(r, rx[i], (uint64_t)i), 0);
    CHECK_EQ_INT(alphacore_reader_add(r, rx[4], 4), -ENOSPC);
    CHECK_EQ_INT(alphacore_reader_remove(r, rx[0]), 0);
    alphacore_completion out[4];
    alphacore_reader_poll(r, out, 4, 0, 0, 0);   /* lets the cancelled read finish */
    CHECK_EQ_INT(alphacore_reader_add(r, rx[4], 4), 0);
    for (int i = 0; i < 5; i++) { close(rx[i]); close(tx[i]); }
    alphacore_reader_destroy(r);
}

static void test_bad_args(void) {
    alphacore_reader *r = NULL;
    alphacore_completion out[4];
    alphacore_reader_opts o = ALPHACORE_READER_OPTS_INIT;
    CHECK_EQ_INT(alphacore_reader_create(&o, NULL), -EINVAL);
    o.buf_count = 3;
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), -EINVAL);
    o.buf_count = 65536;
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), -EINVAL);
    o = (alphacore_reader_opts)ALPHACORE_READER_OPTS_INIT;
    o.capacity = 0;
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), -EINVAL);
    o.capacity = 4000000000u;
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), -EINVAL);
    o = (alphacore_reader_opts)ALPHACORE_READER_OPTS_INIT;
    o.buf_size = 100;
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), -EINVAL);
    o.buf_size = 0;
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), -EINVAL);
    o = (alphacore_reader_opts)ALPHACORE_READER_OPTS_INIT;
    o.backend = 9;
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), -EINVAL);
    o = (alphacore_reader_opts)ALPHACORE_READER_OPTS_INIT;
    o.flags = 1u << 20;
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), -EINVAL);
    o = (alphacore_reader_opts)ALPHACORE_READER_OPTS_INIT;
    o.reserved[2] = 1;
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), -EINVAL);
    o = (alphacore_reader_opts)ALPHACORE_READER_OPTS_INIT;
    o.framing = ALPHACORE_FRAME_FIXED;   /* frame_size 0 */
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), -EINVAL);
    o.frame_size = 8192;                 /* larger than a buffer */
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), -EINVAL);
    o = (alphacore_reader_opts)ALPHACORE_READER_OPTS_INIT;
    o.framing = 99;
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), -EINVAL);
    struct { alphacore_reader_opts o; uint64_t extra; } big = {ALPHACORE_READER_OPTS_INIT, 1};
    big.o.struct_size = sizeof big;
    CHECK_EQ_INT(alphacore_reader_create(&big.o, &r), -E2BIG);
    big.extra = 0;
    CHECK_EQ_INT(alphacore_reader_create(&big.o, &r), 0);
    alphacore_reader_destroy(r);
    r = NULL;
    /* Smaller than the first published struct (0.1: the whole struct) is EINVAL (issue 18,
     * finding 4); NULL options are the defaults. */
    o = (alphacore_reader_opts)ALPHACORE_READER_OPTS_INIT;
    o.struct_size = 8;
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), -EINVAL);
    CHECK_EQ_INT(alphacore_reader_create(NULL, &r), 0);
    alphacore_reader_details d = {.struct_size = sizeof d};
    CHECK_EQ_INT(alphacore_reader_info(r, &d), 0);
    CHECK_EQ_INT(d.buf_count, 2048);
    CHECK_EQ_INT(d.capacity, 1024);
    CHECK(strlen(d.reason) > 0);
    /* NULL handles and arrays, max 0, bad counts and timeouts. */
    CHECK_EQ_INT(alphacore_reader_poll(NULL, out, 4, 1, 0, 0), -EINVAL);
    CHECK_EQ_INT(alphacore_reader_poll(r, NULL, 4, 1, 0, 0), -EINVAL);
    CHECK_EQ_INT(alphacore_reader_poll(r, out, 0, 0, 0, 0), -EINVAL);
    CHECK_EQ_INT(alphacore_reader_poll(r, out, 4, 5, 0, 0), -EINVAL);
    CHECK_EQ_INT(alphacore_reader_poll(r, out, 4, 1, -1, 0), -EINVAL);
    CHECK_EQ_INT(alphacore_reader_poll(r, out, 4, 1, 0, -2), -EINVAL);
    CHECK_EQ_INT(alphacore_reader_poll(r, out, 4, 1, 0, INT64_MIN), -EINVAL);
    CHECK_EQ_INT(alphacore_reader_poll(r, out, 4, 1, 0, 0), 0);
    CHECK_EQ_INT(alphacore_reader_release(r, NULL, 3), -EINVAL);
    CHECK_EQ_INT(alphacore_reader_release(r, NULL, 0), 0);
    CHECK_EQ_INT(alphacore_reader_release(NULL, out, 1), -EINVAL);
    alphacore_completion fake = {0};
    fake.buf_id = 5;   /* not held */
    CHECK_EQ_INT(alphacore_reader_release(r, &fake, 1), -EINVAL);
    fake.buf_id = 0xFFFFFFF0u;
    CHECK_EQ_INT(alphacore_reader_release(r, &fake, 1), -EINVAL);
    fake.buf_id = ALPHACORE_NO_BUFFER;
    CHECK_EQ_INT(alphacore_reader_release(r, &fake, 1), 0);
    CHECK_EQ_INT(alphacore_reader_add(NULL, 0, 0), -EINVAL);
    CHECK_EQ_INT(alphacore_reader_remove(NULL, 0), -EINVAL);
    CHECK_EQ_INT(alphacore_reader_remove(r, -5), -ENOENT);
    CHECK_EQ_INT(alphacore_reader_info(NULL, &d), -EINVAL);
    CHECK_EQ_INT(alphacore_reader_info(r, NULL), -EINVAL);
    d.struct_size = 2;
    CHECK_EQ_INT(alphacore_reader_info(r, &d), -EINVAL);
    alphacore_reader_counters st = {.struct_size = sizeof st};
    CHECK_EQ_INT(alphacore_reader_stats(NULL, &st), -EINVAL);
    CHECK_EQ_INT(alphacore_reader_stats(r, NULL), -EINVAL);
    /* A shorter (older) counters struct: only its bytes are written. */
    struct { uint32_t struct_size, fds; uint64_t polls; uint64_t guard; } small = {16, 0, 0, 0x5A5A5A5A5A5A5A5Aull};
    CHECK_EQ_INT(alphacore_reader_stats(r, (alphacore_reader_counters *)(void *)&small), 0);
    CHECK(small.polls > 0);
    CHECK_EQ_INT(small.guard, 0x5A5A5A5A5A5A5A5Aull);
    uint8_t buf[8192];
    CHECK_EQ_INT(alphacore_reader_poll_copy(r, out, 4, NULL, 8192, 1, 0, 0), -EINVAL);
    CHECK_EQ_INT(alphacore_reader_poll_copy(r, out, 4, buf, 100, 1, 0, 0), -EINVAL);
    CHECK_EQ_INT(alphacore_reader_poll_copy(r, out, 4, buf, sizeof buf, 1, 0, 0), 0);
    alphacore_reader_destroy(r);
    alphacore_reader_destroy(NULL);
    CHECK_EQ_INT(sizeof(alphacore_completion), 32);
}

int main(void) {
    raise_nofile();
    test_bad_args();
    uint32_t backends[2] = {ALPHACORE_READER_IO_URING, ALPHACORE_READER_EPOLL};
    const char *only = getenv("READER_TEST_BACKEND");
    for (int b = 0; b < 6; b++) {
        if (only && strcmp(only, backend_name(backends[b % 2])) != 0) continue;
        ru_profile = (uint32_t)(b / 2);
        if (!ru_profile_selected(ru_profile)) continue;
        printf("  profile %s:\n", ru_profile_names[ru_profile]);
        uint32_t be = backends[b % 2];
        test_streams(be, 64, 300000, 256, 4096, 0, 0);
        test_streams(be, 200, 40000, 64, 1024, 0, 0);
        test_streams(be, 16, 200000, 32, 2048, 24, 0);   /* holds most buffers: ENOBUFS */
        test_streams(be, 32, 100000, 128, 4096, 0, 1);   /* peers reset at the end */
        /* Few buffers, streams written one after another: the kernel ends reads with ENOBUFS
         * all the time (on 6.18 an end of stream can then go missing without the watch). */
        use_unix = 1;
        for (int k = 0; k < 4; k++) test_streams(be, 12, 150000, 64, 2048, 0, 0);
        use_unix = 0;
        test_never_release(be);
        test_fds(be);
        test_capacity(be);
    }
    return check_summary("test_reader");
}
