/* Helpers for the reader tests: loopback TCP pairs, a byte pattern every stream carries (so
 * that each received byte is checked for loss, duplication, reordering and corruption), and a
 * per-stream verifier. */
#ifndef ALPHACORE_TEST_READER_UTIL_H
#define ALPHACORE_TEST_READER_UTIL_H
#include <alphacore.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int ru_listener = -1;

/* A connected loopback TCP pair: *rx is the reading end, *tx the writing end. */
static inline int tcp_pair(int *rx, int *tx) {
    if (ru_listener < 0) {
        ru_listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(ru_listener, (struct sockaddr *)&a, sizeof a) != 0 || listen(ru_listener, 4096) != 0) return -1;
    }
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    getsockname(ru_listener, (struct sockaddr *)&a, &len);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(c, (struct sockaddr *)&a, sizeof a) != 0) return -1;
    int s = accept4(ru_listener, NULL, NULL, SOCK_CLOEXEC);
    if (s < 0) return -1;
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *rx = s;
    *tx = c;
    return 0;
}

static inline void raise_nofile(void) {
    struct rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
}

/* Byte k of stream s. */
static inline uint8_t pattern(uint32_t s, uint64_t k) {
    uint64_t x = (k + 1) * 0x9E3779B97F4A7C15ull ^ ((uint64_t)s << 40) ^ (k >> 7);
    return (uint8_t)(x >> 56);
}

static inline void fill_pattern(uint8_t *buf, uint32_t s, uint64_t at, size_t n) {
    for (size_t i = 0; i < n; i++) buf[i] = pattern(s, at + i);
}

/* Writes all of buf (blocking fd). */
static inline int write_all(int fd, const void *buf, size_t n) {
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

typedef struct stream_check {
    uint64_t got;      /* bytes received and verified */
    uint64_t bad;      /* bytes that did not match */
    int ended;         /* completions with result <= 0 */
    int end_result;    /* the last such result */
} stream_check;

/* Verifies one completion's bytes against stream s's pattern. */
static inline void check_bytes(stream_check *sc, uint32_t s, const alphacore_completion *c) {
    if (c->result <= 0) {
        sc->ended++;
        sc->end_result = c->result;
        return;
    }
    const uint8_t *d = c->data;
    for (int32_t i = 0; i < c->result; i++)
        if (d[i] != pattern(s, sc->got + (uint64_t)i)) sc->bad++;
    sc->got += (uint64_t)c->result;
}

/* A producer thread: writes stream i's pattern to tx[i] in random chunks, round-robin, until
 * `total` bytes each, then closes them (with RST if reset_at_end; not at all if keep_open; each
 * as soon as it is complete if close_when_done, so that its end follows its last bytes). */
#define RU_MAXN 256
typedef struct producer {
    int n;
    int tx[RU_MAXN];
    uint64_t total;       /* bytes per stream */
    unsigned seed;
    int reset_at_end;     /* close with RST (SO_LINGER 0) instead of FIN */
    int keep_open;        /* do not close at the end */
    int close_when_done;  /* close each stream right after its last write */
} producer;

static inline void *produce(void *arg) {
    producer *p = arg;
    static uint8_t buf[70000];
    uint64_t sent[RU_MAXN] = {0};
    unsigned seed = p->seed;
    int live = p->n;
    while (live > 0) {
        live = 0;
        for (int i = 0; i < p->n; i++) {
            if (sent[i] >= p->total) continue;
            live++;
            size_t chunk = 1 + (size_t)(rand_r(&seed) % 9000);
            if (rand_r(&seed) % 50 == 0) chunk = 65536;
            if (chunk > p->total - sent[i]) chunk = (size_t)(p->total - sent[i]);
            fill_pattern(buf, (uint32_t)i, sent[i], chunk);
            if (write_all(p->tx[i], buf, chunk) != 0) return NULL;
            sent[i] += chunk;
            if (p->close_when_done && sent[i] == p->total) close(p->tx[i]);
        }
    }
    for (int i = 0; i < p->n && !p->keep_open && !p->close_when_done; i++) {
        if (p->reset_at_end) {
            struct linger l = {1, 0};
            setsockopt(p->tx[i], SOL_SOCKET, SO_LINGER, &l, sizeof l);
        }
        close(p->tx[i]);
    }
    return NULL;
}

static inline uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The profile the stream tests run in (their mains loop over all three: no profile may lose or
 * reorder a byte); READER_TEST_PROFILE=throughput|latency|spin runs one. */
static uint32_t ru_profile = ALPHACORE_READER_PROFILE_THROUGHPUT;
static const char *ru_profile_names[3] = {"throughput", "latency", "spin"};
static inline void ru_apply_profile(alphacore_reader_opts *o) {
    o->profile = ru_profile;
    o->spin_us = ru_profile == ALPHACORE_READER_PROFILE_SPIN ? 50u : 0u;
}
static inline int ru_profile_selected(uint32_t p) {
    const char *only = getenv("READER_TEST_PROFILE");
    return !only || strcmp(only, ru_profile_names[p]) == 0;
}

static inline const char *backend_name(uint32_t b) {
    return b == ALPHACORE_READER_IO_URING ? "io_uring" : b == ALPHACORE_READER_EPOLL ? "epoll" : "auto";
}
#endif
