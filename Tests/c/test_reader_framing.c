/* Framing through the installed library on both backends: fixed-size and length-prefixed
 * (u16/u32, both byte orders) messages written in random pieces so that many straddle reads
 * and buffers; every completion must hold whole messages, in order, each checked by sequence
 * number and checksum; the stream ending inside a message gives -EPROTO, an oversized length
 * -EMSGSIZE. Also alphacore_read_batch on files (O_DIRECT included), pipes and bad fds. */
#include "reader_util.h"
#include <fcntl.h>
#include <pthread.h>
#include "check.h"

#define STREAMS 8
#define MESSAGES 3000

static uint32_t framing_kind;
static uint32_t fixed_size = 48;

static size_t prefix_len(void) {
    switch (framing_kind) {
    case ALPHACORE_FRAME_U16LE: case ALPHACORE_FRAME_U16BE: return 2;
    case ALPHACORE_FRAME_U32LE: case ALPHACORE_FRAME_U32BE: return 4;
    default: return 0;
    }
}

static uint32_t checksum(const uint8_t *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Builds message seq of stream s into m; returns its full size (prefix included). */
static size_t build(uint8_t *m, uint32_t s, uint32_t seq, unsigned *seed) {
    size_t pre = prefix_len();
    size_t payload = framing_kind == ALPHACORE_FRAME_FIXED ? fixed_size : 12 + (size_t)(rand_r(seed) % 900);
    uint8_t *p = m + pre;
    memcpy(p, &s, 4);
    memcpy(p + 4, &seq, 4);
    for (size_t i = 12; i < payload; i++) p[i] = (uint8_t)(rand_r(seed));
    uint32_t c = checksum(p + 12, payload - 12);
    memcpy(p + 8, &c, 4);
    uint32_t len = (uint32_t)payload;
    switch (framing_kind) {
    case ALPHACORE_FRAME_U16LE: m[0] = (uint8_t)len; m[1] = (uint8_t)(len >> 8); break;
    case ALPHACORE_FRAME_U16BE: m[0] = (uint8_t)(len >> 8); m[1] = (uint8_t)len; break;
    case ALPHACORE_FRAME_U32LE: for (int i = 0; i < 4; i++) m[i] = (uint8_t)(len >> (8 * i)); break;
    case ALPHACORE_FRAME_U32BE: for (int i = 0; i < 4; i++) m[i] = (uint8_t)(len >> (24 - 8 * i)); break;
    default: break;
    }
    return pre + payload;
}

typedef struct { int tx[STREAMS]; unsigned seed; } feeder;

static void *feed(void *arg) {
    feeder *f = arg;
    static uint8_t out[STREAMS][4096];
    static size_t fill[STREAMS];
    uint32_t seq[STREAMS] = {0};
    unsigned seed = f->seed;
    int live = STREAMS;
    memset(fill, 0, sizeof fill);
    while (live > 0) {
        live = 0;
        for (int s = 0; s < STREAMS; s++) {
            if (seq[s] == MESSAGES && fill[s] == 0) continue;
            live++;
            while (seq[s] < MESSAGES && fill[s] < 2048) fill[s] += build(out[s] + fill[s], (uint32_t)s, seq[s]++, &seed);
            size_t piece = 1 + (size_t)(rand_r(&seed) % 700);   /* random cuts: straddles */
            if (piece > fill[s]) piece = fill[s];
            if (write_all(f->tx[s], out[s], piece) != 0) return NULL;
            memmove(out[s], out[s] + piece, fill[s] - piece);
            fill[s] -= piece;
            if (seq[s] == MESSAGES && fill[s] == 0) close(f->tx[s]);
        }
    }
    return NULL;
}

static void test_framing(uint32_t backend, uint32_t kind, uint32_t buf_size) {
    framing_kind = kind;
    alphacore_reader_opts o = ALPHACORE_READER_OPTS_INIT;
    o.backend = backend;
    o.framing = kind;
    o.frame_size = kind == ALPHACORE_FRAME_FIXED ? fixed_size : 0;
    o.buf_size = buf_size;
    o.buf_count = 64;
    alphacore_reader *r = NULL;
    ru_apply_profile(&o);
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), 0);
    if (!r) return;
    feeder f = {.seed = kind * 77u + backend};
    int rx[STREAMS];
    for (int s = 0; s < STREAMS; s++) {
        int sv[2];
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
        rx[s] = sv[0];
        f.tx[s] = sv[1];
        CHECK_EQ_INT(alphacore_reader_add(r, rx[s], (uint64_t)s), 0);
    }
    pthread_t th;
    pthread_create(&th, NULL, feed, &f);
    uint32_t next[STREAMS] = {0};
    int ended = 0, bad = 0, partial = 0, reassembled = 0;
    alphacore_completion out[64];
    uint64_t deadline = mono_ns() + 60000000000ull;
    size_t pre = prefix_len();
    while (ended < STREAMS && mono_ns() < deadline) {
        int got = alphacore_reader_poll(r, out, 64, 1, 0, 1000000000);
        CHECK(got >= 0);
        if (got < 0) break;
        for (int k = 0; k < got; k++) {
            alphacore_completion *c = &out[k];
            uint32_t s = (uint32_t)c->user_data;
            if (c->result <= 0) { CHECK_EQ_INT(c->result, 0); ended++; continue; }
            const uint8_t *d = c->data;
            size_t at = 0, count = 0;
            while (at < (size_t)c->result) {
                size_t payload;
                if (kind == ALPHACORE_FRAME_FIXED) payload = fixed_size;
                else if (kind == ALPHACORE_FRAME_U16LE) payload = (size_t)d[at] | (size_t)d[at + 1] << 8;
                else if (kind == ALPHACORE_FRAME_U16BE) payload = (size_t)d[at] << 8 | d[at + 1];
                else if (kind == ALPHACORE_FRAME_U32LE) payload = (size_t)d[at] | (size_t)d[at + 1] << 8 | (size_t)d[at + 2] << 16 | (size_t)d[at + 3] << 24;
                else payload = (size_t)d[at] << 24 | (size_t)d[at + 1] << 16 | (size_t)d[at + 2] << 8 | d[at + 3];
                if (at + pre + payload > (size_t)c->result) { partial++; break; }
                const uint8_t *p = d + at + pre;
                uint32_t ms, mseq, mc;
                memcpy(&ms, p, 4);
                memcpy(&mseq, p + 4, 4);
                memcpy(&mc, p + 8, 4);
                if (ms != s || mseq != next[s] || mc != checksum(p + 12, payload - 12)) bad++;
                next[s] = mseq + 1;
                at += pre + payload;
                count++;
            }
            if (c->flags & ALPHACORE_COMPLETION_REASSEMBLED) { reassembled++; CHECK_EQ_INT(count, 1); }
        }
        alphacore_reader_release(r, out, (uint32_t)got);
    }
    pthread_join(th, NULL);
    CHECK_EQ_INT(ended, STREAMS);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(partial, 0);
    CHECK(reassembled > 0);
    for (int s = 0; s < STREAMS; s++) CHECK_EQ_INT(next[s], MESSAGES);
    alphacore_reader_counters st = {.struct_size = sizeof st};
    alphacore_reader_stats(r, &st);
    CHECK_EQ_INT(st.messages, STREAMS * MESSAGES);
    CHECK_EQ_INT(st.reassembled, (uint64_t)reassembled);
    CHECK_EQ_INT(st.buffers_held, 0);
    printf("  %-8s framing %u, buf %u: %d x %d messages, %d reassembled, every one checked\n",
           backend_name(backend), kind, buf_size, STREAMS, MESSAGES, reassembled);
    for (int s = 0; s < STREAMS; s++) { alphacore_reader_remove(r, rx[s]); close(rx[s]); }
    alphacore_reader_destroy(r);
}

/* End inside a message: -EPROTO; a length larger than a buffer: -EMSGSIZE. */
static void test_framing_errors(uint32_t backend) {
    alphacore_reader_opts o = ALPHACORE_READER_OPTS_INIT;
    o.backend = backend;
    o.framing = ALPHACORE_FRAME_U16BE;
    o.buf_size = 256;
    o.buf_count = 16;
    alphacore_reader *r = NULL;
    ru_apply_profile(&o);
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), 0);
    if (!r) return;
    int a[2], b[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, a);
    socketpair(AF_UNIX, SOCK_STREAM, 0, b);
    CHECK_EQ_INT(alphacore_reader_add(r, a[0], 1), 0);
    CHECK_EQ_INT(alphacore_reader_add(r, b[0], 2), 0);
    uint8_t m1[] = {0, 3, 'a', 'b', 'c', 0, 5, 'd', 'e'};      /* one whole, one cut short */
    CHECK_EQ_INT(write_all(a[1], m1, sizeof m1), 0);
    close(a[1]);
    uint8_t m2[] = {0, 2, 'o', 'k', 0x40, 0x00, 'x'};         /* 16384 > 256: too large */
    CHECK_EQ_INT(write_all(b[1], m2, sizeof m2), 0);
    alphacore_completion out[8];
    int end_a = 1, end_b = 1, whole_a = 0, whole_b = 0;
    for (int i = 0; i < 50 && (end_a == 1 || end_b == 1); i++) {
        int got = alphacore_reader_poll(r, out, 8, 1, 0, 100000000);
        for (int k = 0; k < got; k++) {
            if (out[k].user_data == 1) {
                if (out[k].result > 0) { whole_a += out[k].result; CHECK(memcmp(out[k].data, m1, 5) == 0); }
                else end_a = out[k].result;
            } else {
                if (out[k].result > 0) { whole_b += out[k].result; CHECK(memcmp(out[k].data, m2, 4) == 0); }
                else end_b = out[k].result;
            }
        }
        alphacore_reader_release(r, out, (uint32_t)(got > 0 ? got : 0));
    }
    CHECK_EQ_INT(whole_a, 5);
    CHECK_EQ_INT(end_a, -EPROTO);
    if (end_a != -EPROTO || end_b != -EMSGSIZE) fprintf(stderr, "  %s: end_a %d end_b %d\n", backend_name(backend), end_a, end_b);
    CHECK_EQ_INT(whole_b, 4);
    CHECK_EQ_INT(end_b, -EMSGSIZE);
    /* max below 3 is refused with framing */
    CHECK_EQ_INT(alphacore_reader_poll(r, out, 2, 1, 0, 0), -EINVAL);
    close(a[0]); close(b[0]); close(b[1]);
    alphacore_reader_destroy(r);
}

static void test_read_batch(uint32_t backend) {
    alphacore_reader_opts o = ALPHACORE_READER_OPTS_INIT;
    o.backend = backend;
    o.buf_count = 16;
    alphacore_reader *r = NULL;
    ru_apply_profile(&o);
    CHECK_EQ_INT(alphacore_reader_create(&o, &r), 0);
    if (!r) return;
    char path[] = "/tmp/alphacore-batch-XXXXXX";
    int f = mkstemp(path);
    static uint8_t data[3 * 4096];
    fill_pattern(data, 9, 0, sizeof data);
    CHECK_EQ_INT(write_all(f, data, sizeof data), 0);
    fsync(f);
    int direct = open(path, O_RDONLY | O_DIRECT);
    int pp[2];
    CHECK_EQ_INT(pipe(pp), 0);
    CHECK_EQ_INT(write_all(pp[1], "pipe!", 5), 0);
    int empty[2];
    CHECK_EQ_INT(pipe(empty), 0);
    int fds[6] = {f, f, direct, pp[0], 987654, empty[0]};
    uint64_t offs[6] = {0, 4096 + 100, 8192, UINT64_MAX, 0, UINT64_MAX};
    alphacore_completion out[6];
    CHECK_EQ_INT(alphacore_read_batch(r, fds, offs, 6, out, 50000000), 6);
    CHECK_EQ_INT(out[0].result, 4096);
    CHECK(out[0].result == 4096 && memcmp(out[0].data, data, 4096) == 0);
    CHECK_EQ_INT(out[1].result, 4096);
    CHECK(out[1].result > 0 && memcmp(out[1].data, data + 4096 + 100, 4096) == 0);
    if (direct >= 0) {   /* O_DIRECT: aligned offset and page-aligned buffers */
        CHECK_EQ_INT(out[2].result, 4096);
        CHECK(out[2].result > 0 && memcmp(out[2].data, data + 8192, 4096) == 0);
        CHECK_EQ_INT((uintptr_t)out[2].data % 4096, 0);
    } else {
        printf("  (O_DIRECT not supported on /tmp here: %s)\n", strerror(errno));
    }
    CHECK_EQ_INT(out[3].result, 5);
    CHECK(out[3].result == 5 && memcmp(out[3].data, "pipe!", 5) == 0);
    CHECK_EQ_INT(out[4].result, -EBADF);
    CHECK_EQ_INT(out[4].buf_id, ALPHACORE_NO_BUFFER);
    CHECK_EQ_INT(out[5].result, -ETIMEDOUT);
    for (int i = 0; i < 6; i++) CHECK_EQ_INT(out[i].user_data, i);
    CHECK_EQ_INT(alphacore_reader_release(r, out, 6), direct >= 0 ? 4 : 3);
    CHECK_EQ_INT(alphacore_reader_release(r, out, 1), -EINVAL);   /* not held any more */
    /* Bad arguments; more than the pool; the pool runs dry while held. */
    CHECK_EQ_INT(alphacore_read_batch(r, NULL, NULL, 1, out, 0), -EINVAL);
    CHECK_EQ_INT(alphacore_read_batch(r, fds, NULL, 1, NULL, 0), -EINVAL);
    CHECK_EQ_INT(alphacore_read_batch(r, fds, NULL, 1, out, -7), -EINVAL);
    CHECK_EQ_INT(alphacore_read_batch(r, fds, NULL, 0, NULL, 0), 0);
    static int many[17];
    static alphacore_completion mout[17];
    for (int i = 0; i < 17; i++) many[i] = f;
    CHECK_EQ_INT(alphacore_read_batch(r, many, NULL, 17, mout, 0), -EINVAL);
    static uint64_t zero[16];
    CHECK_EQ_INT(alphacore_read_batch(r, many, zero, 16, mout, -1), 16);
    CHECK_EQ_INT(alphacore_read_batch(r, many, zero, 1, out, -1), -ENOBUFS);
    CHECK_EQ_INT(alphacore_reader_release(r, mout, 16), 16);
    CHECK_EQ_INT(alphacore_read_batch(r, many, zero, 1, out, -1), 1);
    alphacore_reader_release(r, out, 1);
    printf("  %-8s read_batch: files, O_DIRECT, pipes, bad fds, timeout\n", backend_name(backend));
    close(f);
    if (direct >= 0) close(direct);
    close(pp[0]); close(pp[1]); close(empty[0]); close(empty[1]);
    unlink(path);
    alphacore_reader_destroy(r);
}

int main(void) {
    uint32_t backends[2] = {ALPHACORE_READER_IO_URING, ALPHACORE_READER_EPOLL};
    uint32_t kinds[5] = {ALPHACORE_FRAME_FIXED, ALPHACORE_FRAME_U16LE, ALPHACORE_FRAME_U16BE,
                         ALPHACORE_FRAME_U32LE, ALPHACORE_FRAME_U32BE};
    for (int b = 0; b < 6; b++) {
        ru_profile = (uint32_t)(b / 2);
        if (!ru_profile_selected(ru_profile)) continue;
        printf("  profile %s:\n", ru_profile_names[ru_profile]);
        for (int k = 0; k < 5; k++) test_framing(backends[b % 2], kinds[k], k % 2 ? 1024 : 4096);
        test_framing_errors(backends[b % 2]);
        test_read_batch(backends[b % 2]);
    }
    return check_summary("test_reader_framing");
}
