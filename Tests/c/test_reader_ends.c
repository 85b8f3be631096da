/* Ends of framed streams under random write and close timing: every end comes, with the right
 * result, after exactly the stream's whole messages, on both backends and in every profile.
 *
 * Per round a length-prefixed reader (16 buffers of 256 bytes) reads 1-8 loopback TCP streams
 * of three kinds: whole messages then a partial one, then the writer closes (-EPROTO); whole
 * messages then a length prefix larger than a buffer (-EMSGSIZE, the writer stays open); whole
 * messages then the writer closes (0). The bytes go out in one of three ways: all written and
 * closed before the first poll (ReaderTests' endInsideMessageAndOversize), from a thread in
 * random cuts with random pauses, or from a thread in whole writes with the close up to 300 us
 * later (a FIN that reaches the socket after its data, as under load). The consumer polls with
 * min_complete 1 and a 1 s timeout; a poll that returns 0 before its timeout is allowed
 * (alphacore_reader_poll(3)) and only counted: what must hold is that every end arrives within
 * 3 s. Also the exact late-FIN sequence that made the Swift test fail: b's -EMSGSIZE goes out
 * first, a's writer closes 2 ms into the next poll: a's -EPROTO must still come. */
#include "check.h"
#include "reader_util.h"

enum { K_MAX = 8, ROUNDS = 150 };

typedef struct {
    int k;
    int tx[K_MAX];
    uint8_t wire[K_MAX][1024];
    size_t len[K_MAX];
    int closes[K_MAX];
    int mode;
    unsigned seed;
} round_feed;

typedef struct {
    int messages[K_MAX];    /* whole messages written */
    int32_t want_end[K_MAX];
} round_want;

static uint32_t framing_prefix(uint32_t f) { return f == ALPHACORE_FRAME_U16BE ? 2 : 4; }

static void put_len(uint32_t framing, uint8_t *p, uint32_t v) {
    if (framing == ALPHACORE_FRAME_U16BE) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; return; }
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* Stream i's bytes: 1-4 whole messages (payload byte j of message m: pattern(i, m * 256 + j)),
 * then what its kind ends with. */
static void build(round_feed *f, round_want *w, int i, uint32_t framing, unsigned *seed) {
    uint32_t pre = framing_prefix(framing);
    size_t n = 0;
    int kind = (int)(rand_r(seed) % 3);
    int msgs = 1 + (int)(rand_r(seed) % 4);
    for (int m = 0; m < msgs; m++) {
        uint32_t size = 1 + (uint32_t)(rand_r(seed) % 120);
        put_len(framing, f->wire[i] + n, size);
        n += pre;
        fill_pattern(f->wire[i] + n, (uint32_t)i, (uint64_t)m * 256, size);
        n += size;
    }
    w->messages[i] = msgs;
    if (kind == 0) {   /* a partial message (prefix and part of the payload, or part of the prefix) */
        uint32_t size = 20 + (uint32_t)(rand_r(seed) % 100);
        put_len(framing, f->wire[i] + n, size);
        n += 1 + (size_t)(rand_r(seed) % (pre + size - 1));
        w->want_end[i] = -EPROTO;
        f->closes[i] = 1;
    } else if (kind == 1) {   /* a message larger than a buffer */
        put_len(framing, f->wire[i] + n, 4096);
        n += pre;
        w->want_end[i] = -EMSGSIZE;
        f->closes[i] = 0;
    } else {
        w->want_end[i] = 0;
        f->closes[i] = 1;
    }
    f->len[i] = n;
}

static void pause_us(unsigned us) {
    uint64_t end = mono_ns() + us * 1000ull;
    while (mono_ns() < end) {}
}

static void *feed(void *arg) {
    round_feed *f = arg;
    for (int i = 0; i < f->k; i++) {
        size_t at = 0;
        while (at < f->len[i]) {
            size_t cut = f->len[i] - at;
            if (f->mode == 1) cut = 1 + (size_t)(rand_r(&f->seed) % cut);
            if (write_all(f->tx[i], f->wire[i] + at, cut) != 0) return NULL;
            at += cut;
            if (f->mode == 1 && rand_r(&f->seed) % 3 == 0) pause_us(rand_r(&f->seed) % 100);
        }
        if (!f->closes[i]) continue;
        if (f->mode != 0) pause_us(rand_r(&f->seed) % 300);
        close(f->tx[i]);
        f->tx[i] = -1;
    }
    return NULL;
}

typedef struct {
    long rounds, polls, early_zeros, missing, wrong;
} tally;

/* Checks one completion of stream s against its pattern; returns 0 if wrong. */
static int check_messages(const alphacore_completion *c, uint32_t framing, int s, int *next) {
    uint32_t pre = framing_prefix(framing);
    const uint8_t *d = c->data;
    int32_t at = 0;
    while (at < c->result) {
        if (c->result - at < (int32_t)pre) return 0;
        uint32_t size = framing == ALPHACORE_FRAME_U16BE ? (uint32_t)d[at] << 8 | d[at + 1]
                                                         : (uint32_t)d[at] | (uint32_t)d[at + 1] << 8 | (uint32_t)d[at + 2] << 16 | (uint32_t)d[at + 3] << 24;
        at += (int32_t)pre;
        if (c->result - at < (int32_t)size) return 0;
        for (uint32_t j = 0; j < size; j++)
            if (d[at + (int32_t)j] != pattern((uint32_t)s, (uint64_t)*next * 256 + j)) return 0;
        at += (int32_t)size;
        (*next)++;
    }
    return 1;
}

/* A framed reader of 16 buffers of 256 bytes in the current profile (exits if refused). */
static alphacore_reader *framed_reader(uint32_t backend, uint32_t framing) {
    alphacore_reader_opts o = ALPHACORE_READER_OPTS_INIT;
    o.backend = backend;
    o.buf_count = 16;
    o.buf_size = 256;
    o.capacity = 16;
    o.framing = framing;
    ru_apply_profile(&o);
    alphacore_reader *r = NULL;
    if (alphacore_reader_create(&o, &r) != 0) {
        fprintf(stderr, "create: %s\n", alphacore_last_detail());
        exit(1);
    }
    return r;
}

static void one_round(uint32_t backend, uint32_t framing, int mode, unsigned *seed, tally *t) {
    alphacore_reader *r = framed_reader(backend, framing);
    static round_feed f;
    round_want w;
    memset(&f, 0, sizeof f);
    f.k = 1 + (int)(rand_r(seed) % K_MAX);
    f.mode = mode;
    f.seed = rand_r(seed);
    int rx[K_MAX];
    for (int i = 0; i < f.k; i++) {
        if (tcp_pair(&rx[i], &f.tx[i]) != 0) {
            fprintf(stderr, "loopback pair: %s\n", strerror(errno));
            exit(1);
        }
        CHECK_EQ_INT(alphacore_reader_add(r, rx[i], (uint64_t)i), 0);
        build(&f, &w, i, framing, seed);
    }
    pthread_t th;
    if (mode == 0) feed(&f); else pthread_create(&th, NULL, feed, &f);
    int next[K_MAX] = {0}, ended[K_MAX] = {0}, ends = 0;
    int32_t end[K_MAX];
    alphacore_completion out[8];
    uint64_t t0 = mono_ns();
    while (ends < f.k && mono_ns() - t0 < 3000000000ull) {
        uint64_t p0 = mono_ns();
        int got = alphacore_reader_poll(r, out, 8, 1, 0, 1000000000);
        t->polls++;
        if (got < 0) { t->wrong++; break; }
        if (got == 0 && mono_ns() - p0 < 900000000ull) t->early_zeros++;
        for (int c = 0; c < got; c++) {
            int s = (int)out[c].user_data;
            if (s < 0 || s >= f.k || ended[s]) { t->wrong++; continue; }   /* nothing after an end */
            if (out[c].result <= 0) {
                ended[s] = 1;
                end[s] = out[c].result;
                ends++;
            } else if (!check_messages(&out[c], framing, s, &next[s])) {
                t->wrong++;
            }
        }
        if (got > 0) alphacore_reader_release(r, out, (uint32_t)got);
    }
    if (mode != 0) pthread_join(th, NULL);
    for (int i = 0; i < f.k; i++) {
        if (!ended[i]) {
            t->missing++;
            fprintf(stderr, "%s: stream %d of %d (mode %d): no end within 3 s (%d of %d messages)\n",
                    backend_name(backend), i, f.k, mode, next[i], w.messages[i]);
        } else if (end[i] != w.want_end[i] || next[i] != w.messages[i]) {
            t->wrong++;
            fprintf(stderr, "%s: stream %d (mode %d): end %d (want %d), %d of %d messages\n",
                    backend_name(backend), i, mode, end[i], w.want_end[i], next[i], w.messages[i]);
        }
    }
    t->rounds++;
    alphacore_reader_destroy(r);
    for (int i = 0; i < f.k; i++) {
        close(rx[i]);
        if (f.tx[i] >= 0) close(f.tx[i]);
    }
}

/* The Swift test's failing sequence, made deterministic: b's -EMSGSIZE goes out with both
 * messages, then a's writer closes 2 ms into the next poll. */
static int late_tx = -1;
static void *close_late(void *x) {
    (void)x;
    usleep(2000);
    close(late_tx);
    return NULL;
}

static void late_fin(uint32_t backend, tally *t) {
    alphacore_reader *r = framed_reader(backend, ALPHACORE_FRAME_U16BE);
    int arx, brx, btx;
    if (tcp_pair(&arx, &late_tx) != 0 || tcp_pair(&brx, &btx) != 0) {
        fprintf(stderr, "late_fin: loopback pair: %s\n", strerror(errno));
        exit(1);
    }
    CHECK_EQ_INT(alphacore_reader_add(r, arx, 0), 0);
    CHECK_EQ_INT(alphacore_reader_add(r, brx, 1), 0);
    uint8_t wa[82] = {0, 50};
    wa[52] = 0;
    wa[53] = 60;
    uint8_t wb[24] = {0, 20};
    wb[22] = 0x10;
    write_all(late_tx, wa, sizeof wa);
    write_all(btx, wb, sizeof wb);
    alphacore_completion out[8];
    int32_t end[2] = {1, 1};
    pthread_t th;
    int started = 0;
    uint64_t t0 = mono_ns();
    while ((end[0] == 1 || end[1] == 1) && mono_ns() - t0 < 3000000000ull) {
        if (end[1] != 1 && !started) {
            pthread_create(&th, NULL, close_late, NULL);
            started = 1;
        }
        uint64_t p0 = mono_ns();
        int got = alphacore_reader_poll(r, out, 8, 1, 0, 1000000000);
        t->polls++;
        if (got < 0) { t->wrong++; break; }
        if (got == 0 && mono_ns() - p0 < 900000000ull) t->early_zeros++;
        for (int c = 0; c < got; c++)
            if (out[c].result <= 0 && out[c].user_data < 2) end[out[c].user_data] = out[c].result;
        if (got > 0) alphacore_reader_release(r, out, (uint32_t)got);
    }
    if (started) pthread_join(th, NULL); else close(late_tx);
    if (end[0] == 1 || end[1] == 1) t->missing++;
    else if (end[0] != -EPROTO || end[1] != -EMSGSIZE) t->wrong++;
    t->rounds++;
    alphacore_reader_destroy(r);
    close(arx);
    close(brx);
    close(btx);
}

int main(void) {
    raise_nofile();
    unsigned seed = (unsigned)getpid() ^ (unsigned)mono_ns();
    printf("seed %u\n", seed);
    const uint32_t backends[2] = {ALPHACORE_READER_IO_URING, ALPHACORE_READER_EPOLL};
    for (uint32_t p = 0; p < 3; p++) {
        if (!ru_profile_selected(p)) continue;
        ru_profile = p;
        for (int b = 0; b < 2; b++) {
            tally t = {0};
            for (int i = 0; i < ROUNDS; i++)
                one_round(backends[b], i % 2 ? ALPHACORE_FRAME_U32LE : ALPHACORE_FRAME_U16BE, i % 3, &seed, &t);
            tally l = {0};
            for (int i = 0; i < 10; i++) late_fin(backends[b], &l);
            printf("%s %s: %ld rounds, %ld polls, %ld returned 0 early; late FIN: %ld rounds, %ld early 0s; "
                   "ends missing %ld, wrong %ld\n", backend_name(backends[b]), ru_profile_names[p], t.rounds, t.polls,
                   t.early_zeros, l.rounds, l.early_zeros, t.missing + l.missing, t.wrong + l.wrong);
            CHECK_EQ_INT(t.rounds, ROUNDS);
            CHECK_EQ_INT(t.missing, 0);
            CHECK_EQ_INT(t.wrong, 0);
            CHECK_EQ_INT(l.rounds, 10);
            CHECK_EQ_INT(l.missing, 0);
            CHECK_EQ_INT(l.wrong, 0);
        }
    }
    return check_summary("test_reader_ends");
}
