/* Reader benchmark: ours through the C ABI (io_uring via AUTO, and the epoll backend) beside a
 * raw liburing multishot consumer and a raw edge-triggered epoll consumer written here in C,
 * same scenario, same run:
 *   burst  N loopback TCP pairs pre-loaded with M messages of 64 bytes each (M = 1, 16;
 *          N = 16, 256, 1024); the consumer's time to harvest all of them, many rounds;
 *   flood  the producer writes to all N sockets as fast as it can for a while;
 *   paced  50,000 messages/s spread over N sockets; latency from send to harvest.
 * Producer and consumer are pinned to different CPUs. Each figure is the median of rounds in
 * which the four consumers alternate. Prints messages/s, ratios and system calls per message.
 * A malloc counter (this program interposes malloc) shows the heap traffic of our polls.
 *
 *   make bench BENCH=reader          (READER_BENCH_QUICK=1 for a short run)
 */
#define _GNU_SOURCE
#include <alphacore.h>
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MSG 64
#define MAXN 1024

/* ---- heap counter: every malloc-family call in the process, ours included ---------------- */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);
static atomic_ulong heap_calls;
void *malloc(size_t n) { atomic_fetch_add_explicit(&heap_calls, 1, memory_order_relaxed); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { atomic_fetch_add_explicit(&heap_calls, 1, memory_order_relaxed); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { atomic_fetch_add_explicit(&heap_calls, 1, memory_order_relaxed); return __libc_realloc(p, n); }
void free(void *p) { if (p) atomic_fetch_add_explicit(&heap_calls, 1, memory_order_relaxed); __libc_free(p); }
int posix_memalign(void **out, size_t align, size_t n) {
    atomic_fetch_add_explicit(&heap_calls, 1, memory_order_relaxed);
    void *p = __libc_memalign(align, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
void *aligned_alloc(size_t align, size_t n) { atomic_fetch_add_explicit(&heap_calls, 1, memory_order_relaxed); return __libc_memalign(align, n); }
void *memalign(size_t align, size_t n) { atomic_fetch_add_explicit(&heap_calls, 1, memory_order_relaxed); return __libc_memalign(align, n); }

/* ---- helpers ------------------------------------------------------------------------------- */
static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static int listener = -1;
static int tcp_pair(int *rx, int *tx) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (listener < 0) {
        listener = socket(AF_INET, SOCK_STREAM, 0);
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(listener, (struct sockaddr *)&a, sizeof a) || listen(listener, 4096)) return -1;
    }
    getsockname(listener, (struct sockaddr *)&a, &len);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr *)&a, sizeof a)) return -1;
    int s = accept(listener, NULL, NULL);
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *rx = s;
    *tx = c;
    return s < 0 ? -1 : 0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- the producer thread (CPU 0) ------------------------------------------------------------ */
enum { P_IDLE, P_BURST, P_FLOOD, P_PACED, P_EXIT };
static struct {
    _Atomic int cmd;
    _Atomic int done;
    _Atomic int stop;
    int *tx;
    int n, m;
    uint64_t rate;        /* paced: messages per second */
    uint64_t sent;        /* messages written */
} prod;

static void *producer(void *arg) {
    (void)arg;
    pin(0);
    uint8_t msg[MSG * 16];
    memset(msg, 0x5A, sizeof msg);
    for (;;) {
        int cmd;
        while ((cmd = atomic_load(&prod.cmd)) == P_IDLE) sched_yield();
        if (cmd == P_EXIT) return NULL;
        prod.sent = 0;
        if (cmd == P_BURST) {
            for (int i = 0; i < prod.n; i++)
                for (int k = 0; k < prod.m; k++) {  /* one send per message, as a feed does */
                    if (write(prod.tx[i], msg, MSG) != MSG) abort();
                    prod.sent++;
                }
        } else if (cmd == P_FLOOD) {
            int i = 0;
            while (!atomic_load_explicit(&prod.stop, memory_order_relaxed)) {
                ssize_t w = send(prod.tx[i], msg, MSG * 4, MSG_DONTWAIT);
                if (w > 0) prod.sent += (uint64_t)w / MSG;
                if (w > 0 && w % MSG) abort();   /* 4 whole messages or EAGAIN on loopback */
                if (++i == prod.n) i = 0;
            }
        } else if (cmd == P_PACED) {
            uint64_t gap = 1000000000ull / prod.rate, next = now_ns();
            int i = 0;
            while (!atomic_load_explicit(&prod.stop, memory_order_relaxed)) {
                while (now_ns() < next) { }
                uint64_t t = now_ns();
                memcpy(msg, &t, sizeof t);
                if (write(prod.tx[i], msg, MSG) != MSG) abort();
                prod.sent++;
                if (++i == prod.n) i = 0;
                next += gap;
            }
        }
        atomic_store(&prod.cmd, P_IDLE);
        atomic_store(&prod.done, 1);
    }
}

static void run_producer(int cmd) {
    atomic_store(&prod.done, 0);
    atomic_store(&prod.stop, 0);
    atomic_store(&prod.cmd, cmd);
}

static void wait_producer(void) {
    while (!atomic_load(&prod.done)) sched_yield();
}

/* ---- consumers ------------------------------------------------------------------------------ */
typedef struct consumer consumer;
struct consumer {
    const char *name;
    int rx[MAXN], tx[MAXN];
    int n;
    uint64_t syscalls;
    /* harvest until `bytes` arrived (burst/flood: 0 = until prod.stop and drained);
     * lat != NULL: record latency of each message (paced) */
    uint64_t (*harvest)(consumer *c, uint64_t bytes, uint64_t *lat, size_t *nlat, size_t cap);
    void *state;
    uint64_t (*counted)(consumer *c);  /* system calls so far */
};

/* ours */
typedef struct ours { alphacore_reader *r; alphacore_completion out[256]; uint32_t min_complete; int64_t min_wait; } ours;

static uint64_t ours_syscalls(consumer *c) {
    ours *o = c->state;
    alphacore_reader_counters st = {.struct_size = sizeof st};
    alphacore_reader_stats(o->r, &st);
    return st.syscalls;
}

static uint64_t ours_harvest(consumer *c, uint64_t bytes, uint64_t *lat, size_t *nlat, size_t cap) {
    ours *o = c->state;
    uint64_t got = 0;
    while (lat ? !atomic_load_explicit(&prod.done, memory_order_relaxed) : got < bytes) {
        int n = alphacore_reader_poll(o->r, o->out, 256, lat ? 1 : o->min_complete, lat ? 0 : o->min_wait,
                                      lat ? 10000000 : 1000000000);
        if (n < 0) { fprintf(stderr, "poll: %s\n", alphacore_strerror(n)); exit(1); }
        for (int i = 0; i < n; i++) {
            int32_t res = o->out[i].result;
            if (res <= 0) { fprintf(stderr, "unexpected end %d\n", res); exit(1); }
            got += (uint64_t)res;
            if (lat) {
                uint64_t t = now_ns();
                const uint8_t *d = o->out[i].data;
                for (int32_t k = 0; k + MSG <= res && *nlat < cap; k += MSG) {
                    uint64_t s;
                    memcpy(&s, d + k, sizeof s);
                    lat[(*nlat)++] = t - s;
                }
            }
        }
        alphacore_reader_release(o->r, o->out, (uint32_t)n);
    }
    return got;
}

static void ours_init(consumer *c, uint32_t backend, uint32_t min_complete, int64_t min_wait) {
    ours *o = calloc(1, sizeof *o);
    alphacore_reader_opts opts = ALPHACORE_READER_OPTS_INIT;
    opts.backend = backend;
    opts.capacity = MAXN;
    /* Experiments: READER_BENCH_BUF_SIZE / _BUF_COUNT / _FLAGS change our options. */
    if (getenv("READER_BENCH_BUF_SIZE")) opts.buf_size = (uint32_t)atoi(getenv("READER_BENCH_BUF_SIZE"));
    if (getenv("READER_BENCH_BUF_COUNT")) opts.buf_count = (uint32_t)atoi(getenv("READER_BENCH_BUF_COUNT"));
    if (getenv("READER_BENCH_FLAGS")) opts.flags = (uint32_t)strtoul(getenv("READER_BENCH_FLAGS"), NULL, 0);
    if (alphacore_reader_create(&opts, &o->r)) { fprintf(stderr, "create: %s\n", alphacore_last_detail()); exit(1); }
    for (int i = 0; i < c->n; i++) alphacore_reader_add(o->r, c->rx[i], (uint64_t)i);
    o->min_complete = min_complete;
    o->min_wait = min_wait;
    c->state = o;
    c->harvest = ours_harvest;
    c->counted = ours_syscalls;
}

/* raw liburing: multishot recv into a provided-buffer ring, SINGLE_ISSUER | DEFER_TASKRUN,
 * one io_uring_enter per wait with min-wait (min_wait_usec in the getevents arg) */
#define RBC 2048
#define RBS 4096
typedef struct rawu {
    struct io_uring ring;
    struct io_uring_buf_ring *br;
    uint8_t *bufs;
    uint64_t syscalls;
    uint32_t min_complete;
    int64_t min_wait;
} rawu;

static void rawu_arm(rawu *u, int fd, int i) {
    struct io_uring_sqe *s = io_uring_get_sqe(&u->ring);
    io_uring_prep_recv_multishot(s, fd, NULL, 0, 0);
    s->flags |= IOSQE_BUFFER_SELECT;
    s->buf_group = 0;
    s->user_data = (uint64_t)i;
}

static uint64_t rawu_syscalls(consumer *c) { return ((rawu *)c->state)->syscalls; }

static uint64_t rawu_harvest(consumer *c, uint64_t bytes, uint64_t *lat, size_t *nlat, size_t cap) {
    rawu *u = c->state;
    uint64_t got = 0;
    while (lat ? !atomic_load_explicit(&prod.done, memory_order_relaxed) : got < bytes) {
        struct __kernel_timespec ts = {0, lat ? 10000000 : 0};
        if (!lat) ts.tv_sec = 1;
        struct io_uring_getevents_arg arg = {0};
        arg.ts = (uint64_t)(uintptr_t)&ts;
        arg.pad = lat ? 0 : (uint32_t)(u->min_wait / 1000);   /* min_wait_usec (6.12) */
        unsigned tail = *u->ring.sq.ktail, stail = u->ring.sq.sqe_tail;
        if (tail != stail) __atomic_store_n(u->ring.sq.ktail, stail, __ATOMIC_RELEASE);
        unsigned submit = stail - *u->ring.sq.khead;
        u->ring.sq.sqe_head = stail;
        syscall(__NR_io_uring_enter, u->ring.ring_fd, submit, lat ? 1 : u->min_complete,
                IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
        u->syscalls++;
        unsigned head, cnt = 0, ret = 0;
        struct io_uring_cqe *cqe;
        uint64_t t = lat ? now_ns() : 0;
        io_uring_for_each_cqe(&u->ring, head, cqe) {
            cnt++;
            int i = (int)cqe->user_data;
            if (cqe->res > 0) {
                unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
                const uint8_t *d = u->bufs + (size_t)bid * RBS;
                got += (uint64_t)cqe->res;
                if (lat)
                    for (int k = 0; k + MSG <= cqe->res && *nlat < cap; k += MSG) {
                        uint64_t s;
                        memcpy(&s, d + k, sizeof s);
                        lat[(*nlat)++] = t - s;
                    }
                io_uring_buf_ring_add(u->br, (void *)d, RBS, (unsigned short)bid, RBC - 1, (int)ret++);
            }
            if (!(cqe->flags & IORING_CQE_F_MORE)) rawu_arm(u, c->rx[i], i);
        }
        io_uring_cq_advance(&u->ring, cnt);
        io_uring_buf_ring_advance(u->br, (int)ret);
    }
    return got;
}

static void rawu_init(consumer *c, uint32_t min_complete, int64_t min_wait) {
    rawu *u = calloc(1, sizeof *u);
    struct io_uring_params p = {0};
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
    p.cq_entries = 8192;
    if (io_uring_queue_init_params(1024, &u->ring, &p)) { perror("raw io_uring"); exit(1); }
    u->br = mmap(NULL, RBC * 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    u->bufs = mmap(NULL, (size_t)RBC * RBS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    struct io_uring_buf_reg reg = {.ring_addr = (uint64_t)(uintptr_t)u->br, .ring_entries = RBC, .bgid = 0};
    if (io_uring_register_buf_ring(&u->ring, &reg, 0)) { perror("raw buf ring"); exit(1); }
    io_uring_buf_ring_init(u->br);
    for (int b = 0; b < RBC; b++) io_uring_buf_ring_add(u->br, u->bufs + (size_t)b * RBS, RBS, (unsigned short)b, RBC - 1, b);
    io_uring_buf_ring_advance(u->br, RBC);
    for (int i = 0; i < c->n; i++) rawu_arm(u, c->rx[i], i);
    io_uring_submit(&u->ring);
    u->min_complete = min_complete;
    u->min_wait = min_wait;
    c->state = u;
    c->harvest = rawu_harvest;
    c->counted = rawu_syscalls;
}

/* raw edge-triggered epoll: read each ready fd until a short read (Tokio's pattern) */
typedef struct rawe { int ep; uint64_t syscalls; uint8_t buf[RBS]; struct epoll_event ev[1024]; } rawe;

static uint64_t rawe_syscalls(consumer *c) { return ((rawe *)c->state)->syscalls; }

static uint64_t rawe_harvest(consumer *c, uint64_t bytes, uint64_t *lat, size_t *nlat, size_t cap) {
    rawe *e = c->state;
    uint64_t got = 0;
    while (lat ? !atomic_load_explicit(&prod.done, memory_order_relaxed) : got < bytes) {
        int n = epoll_wait(e->ep, e->ev, 1024, lat ? 10 : 1000);
        e->syscalls++;
        for (int k = 0; k < n; k++) {
            int fd = c->rx[e->ev[k].data.u32];
            for (;;) {
                ssize_t r = recv(fd, e->buf, sizeof e->buf, MSG_DONTWAIT);
                e->syscalls++;
                if (r <= 0) break;
                got += (uint64_t)r;
                if (lat) {
                    uint64_t t = now_ns();
                    for (ssize_t q = 0; q + MSG <= r && *nlat < cap; q += MSG) {
                        uint64_t s;
                        memcpy(&s, e->buf + q, sizeof s);
                        lat[(*nlat)++] = t - s;
                    }
                }
                if ((size_t)r < sizeof e->buf) break;   /* short read: drained */
            }
        }
    }
    return got;
}

static void rawe_init(consumer *c) {
    rawe *e = calloc(1, sizeof *e);
    e->ep = epoll_create1(0);
    for (int i = 0; i < c->n; i++) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u32 = (uint32_t)i};
        epoll_ctl(e->ep, EPOLL_CTL_ADD, c->rx[i], &ev);
    }
    c->state = e;
    c->harvest = rawe_harvest;
    c->counted = rawe_syscalls;
}

static void consumer_free(consumer *c, int kind) {
    if (kind == 0 || kind == 1) { alphacore_reader_destroy(((ours *)c->state)->r); }
    if (kind == 2) { io_uring_queue_exit(&((rawu *)c->state)->ring); }
    if (kind == 3) { close(((rawe *)c->state)->ep); }
    free(c->state);
    for (int i = 0; i < c->n; i++) { close(c->rx[i]); close(c->tx[i]); }
}

#define NCONS 4
static const char *names[NCONS] = {"ours (auto: io_uring)", "ours (epoll backend)", "raw liburing", "raw epoll"};

static void make_consumers(consumer *cs, int n, uint32_t min_complete, int64_t min_wait) {
    for (int k = 0; k < NCONS; k++) {
        cs[k].name = names[k];
        cs[k].n = n;
        for (int i = 0; i < n; i++)
            if (tcp_pair(&cs[k].rx[i], &cs[k].tx[i])) { perror("tcp pair"); exit(1); }
    }
    ours_init(&cs[0], ALPHACORE_READER_AUTO, min_complete, min_wait);
    ours_init(&cs[1], ALPHACORE_READER_EPOLL, 1, 0);
    rawu_init(&cs[2], min_complete, min_wait);
    rawe_init(&cs[3]);
}

static int quick;
/* READER_BENCH_CONSUMERS=bitmask (1 ours, 2 our epoll, 4 raw liburing, 8 raw epoll, 16 floor): burst cells
 * run only those (for perf record of one consumer). */
static int consumer_mask = 0x1F;

/* burst: returns messages per second (median of rounds) per consumer, and syscalls/msg */
static void burst(int n, int m) {
    static consumer cs[NCONS];
    uint32_t minc = (uint32_t)(n < 256 ? n : 256);
    make_consumers(cs, n, minc, 50000);
    int rounds = quick ? 15 : (n >= 1024 ? 41 : 81);
    if (getenv("READER_BENCH_ROUNDS")) rounds = atoi(getenv("READER_BENCH_ROUNDS"));
    if (rounds < 1 || rounds > 101) rounds = 15;
    static double rate[NCONS][101];
    uint64_t sys0[NCONS], msgs = 0;
    unsigned long heap0 = 0, heap_ours = 0;
    for (int k = 0; k < NCONS; k++) sys0[k] = cs[k].counted(&cs[k]);
    /* The floor: the same burst on its own sockets, read with one recv per socket on sockets
     * known to be ready, no readiness system call at all: what any consumer that reads each
     * socket once pays at the least (the kernel's receive, the ACK it sends on loopback). */
    static int frx[MAXN], ftx[MAXN];
    static double frate[101];
    for (int i = 0; i < n; i++)
        if (tcp_pair(&frx[i], &ftx[i])) { perror("tcp pair"); exit(1); }
    for (int r = 0; r < rounds; r++) {
        if (consumer_mask & 16) {
            prod.tx = ftx;
            prod.n = n;
            prod.m = m;
            run_producer(P_BURST);
            wait_producer();
            static uint8_t fbuf[RBS];
            uint64_t want = (uint64_t)n * (uint64_t)m * MSG, got = 0;
            uint64_t t0 = now_ns();
            while (got < want)
                for (int i = 0; i < n; i++) {
                    ssize_t g = recv(frx[i], fbuf, sizeof fbuf, MSG_DONTWAIT);
                    if (g > 0) got += (uint64_t)g;
                }
            frate[r] = (double)n * m / ((double)(now_ns() - t0) / 1e9);
        } else {
            frate[r] = 1;
        }
        for (int k = 0; k < NCONS; k++) {
            if (!(consumer_mask & (1 << k))) { rate[k][r] = 1; continue; }
            prod.tx = cs[k].tx;
            prod.n = n;
            prod.m = m;
            run_producer(P_BURST);
            wait_producer();
            uint64_t t0 = now_ns();
            if (k == 0) heap0 = atomic_load(&heap_calls);
            uint64_t got = cs[k].harvest(&cs[k], (uint64_t)n * (uint64_t)m * MSG, NULL, NULL, 0);
            uint64_t t1 = now_ns();
            if (k == 0) heap_ours += atomic_load(&heap_calls) - heap0;
            if (got != (uint64_t)n * (uint64_t)m * MSG) { fprintf(stderr, "%s: got %llu bytes\n", cs[k].name, (unsigned long long)got); exit(1); }
            rate[k][r] = (double)n * m / ((double)(t1 - t0) / 1e9);
        }
        msgs += (uint64_t)n * (uint64_t)m;
    }
    double med[NCONS], spm[NCONS];
    for (int k = 0; k < NCONS; k++) {
        double *v = rate[k];
        for (int i = 0; i < rounds; i++)
            for (int j = i + 1; j < rounds; j++)
                if (v[j] < v[i]) { double t = v[i]; v[i] = v[j]; v[j] = t; }
        med[k] = v[rounds / 2];
        spm[k] = (double)(cs[k].counted(&cs[k]) - sys0[k]) / (double)msgs;
    }
    for (int i = 0; i < rounds; i++)
        for (int j = i + 1; j < rounds; j++)
            if (frate[j] < frate[i]) { double t = frate[i]; frate[i] = frate[j]; frate[j] = t; }
    double floor_rate = frate[rounds / 2];
    printf("burst %4d x %2d | %9.0f %8.4f | %9.0f %8.4f | %9.0f %8.4f | %9.0f %8.4f | %5.2f %5.2f %5.2f | heap %lu"
           " | floor %9.0f %5.2f\n",
           n, m, med[0], spm[0], med[1], spm[1], med[2], spm[2], med[3], spm[3],
           med[0] / med[2], med[0] / med[3], med[1] / med[3], heap_ours, floor_rate, floor_rate / med[3]);
    for (int i = 0; i < n; i++) { close(frx[i]); close(ftx[i]); }
    for (int k = 0; k < NCONS; k++) consumer_free(&cs[k], k);
}

static void flood(int n) {
    static consumer cs[NCONS];
    uint32_t minc = (uint32_t)(n < 256 ? n : 256);
    make_consumers(cs, n, minc, 50000);
    double best[NCONS] = {0}, spm[NCONS] = {0};
    uint64_t dur = quick ? 150000000ull : 300000000ull;
    for (int rep = 0; rep < 3; rep++)
        for (int k = 0; k < NCONS; k++) {
            prod.tx = cs[k].tx;
            prod.n = n;
            uint64_t s0 = cs[k].counted(&cs[k]);
            run_producer(P_FLOOD);
            uint64_t t0 = now_ns(), got = 0;
            while (now_ns() - t0 < dur) got += cs[k].harvest(&cs[k], 256 * 1024, NULL, NULL, 0);
            uint64_t t1 = now_ns();
            atomic_store(&prod.stop, 1);
            wait_producer();
            /* drain what is left so that the next consumer starts from empty sockets */
            uint64_t left = prod.sent * MSG - got;
            if (left) got += cs[k].harvest(&cs[k], left, NULL, NULL, 0);
            double r = (double)(prod.sent * MSG) / MSG / ((double)(now_ns() - t0) / 1e9);
            (void)t1;
            if (r > best[k]) { best[k] = r; spm[k] = (double)(cs[k].counted(&cs[k]) - s0) / (double)prod.sent; }
        }
    printf("flood %4d      | %9.0f %8.4f | %9.0f %8.4f | %9.0f %8.4f | %9.0f %8.4f | %5.2f %5.2f %5.2f |\n",
           n, best[0], spm[0], best[1], spm[1], best[2], spm[2], best[3], spm[3],
           best[0] / best[2], best[0] / best[3], best[1] / best[3]);
    for (int k = 0; k < NCONS; k++) consumer_free(&cs[k], k);
}

static void paced(int n) {
    static consumer cs[NCONS];
    make_consumers(cs, n, 1, 0);
    size_t cap = 200000;
    uint64_t *lat = malloc(cap * sizeof *lat);
    double p50[NCONS], p99[NCONS];
    uint64_t dur_ns = quick ? 300000000ull : 1000000000ull;
    for (int k = 0; k < NCONS; k++) {
        prod.tx = cs[k].tx;
        prod.n = n;
        prod.rate = 50000;
        size_t nlat = 0;
        run_producer(P_PACED);
        uint64_t t0 = now_ns();
        /* the harvest loops until prod.done; stop the producer after dur_ns from here */
        pthread_t stopper;
        struct { uint64_t t0, d; } arg = {t0, dur_ns};
        void *stop_after(void *a);
        pthread_create(&stopper, NULL, stop_after, &arg);
        cs[k].harvest(&cs[k], 0, lat, &nlat, cap);
        pthread_join(stopper, NULL);
        size_t skip = nlat / 10;   /* warm-up */
        qsort(lat + skip, nlat - skip, sizeof *lat, cmp_u64);
        p50[k] = (double)lat[skip + (nlat - skip) / 2] / 1000.0;
        p99[k] = (double)lat[skip + (size_t)((double)(nlat - skip) * 0.99)] / 1000.0;
        /* drain leftovers */
        alphacore_completion scratch[1];
        (void)scratch;
    }
    printf("paced %4d 50k/s p50 us | %7.1f | %7.1f | %7.1f | %7.1f |   p99 us | %7.1f | %7.1f | %7.1f | %7.1f\n",
           n, p50[0], p50[1], p50[2], p50[3], p99[0], p99[1], p99[2], p99[3]);
    free(lat);
    for (int k = 0; k < NCONS; k++) consumer_free(&cs[k], k);
}

void *stop_after(void *a) {
    const struct { uint64_t t0, d; } *arg = a;
    pin(0);
    while (now_ns() - arg->t0 < arg->d) usleep(1000);
    atomic_store(&prod.stop, 1);
    return NULL;
}

int main(void) {
    quick = getenv("READER_BENCH_QUICK") != NULL;
    if (getenv("READER_BENCH_CONSUMERS")) consumer_mask = atoi(getenv("READER_BENCH_CONSUMERS"));
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 5 * 2 * MAXN + 64) { fprintf(stderr, "RLIMIT_NOFILE %llu is below %d\n", (unsigned long long)rl.rlim_cur, 10 * MAXN + 64); return 1; }
    pthread_t th;
    pthread_create(&th, NULL, producer, NULL);
    pin(1);
    alphacore_reader *probe;
    alphacore_reader_create(NULL, &probe);
    alphacore_reader_details d = {.struct_size = sizeof d};
    alphacore_reader_info(probe, &d);
    printf("auto backend: %s\n", d.reason);
    alphacore_reader_destroy(probe);
    printf("messages/s (median of rounds) and system calls per message; ratios: ours/raw-uring, ours/raw-epoll, our-epoll/raw-epoll\n");
    printf("cell           | ours-auto      sys | ours-epoll     sys | raw-uring      sys | raw-epoll      sys | ratios | heap | floor msg/s, floor/raw-epoll\n");
    /* READER_BENCH_ONLY="256x1" (a burst cell, or "flood", "paced") runs that part alone. */
    const char *only = getenv("READER_BENCH_ONLY");
    int ns[3] = {16, 256, 1024};
    for (int i = 0; i < 3; i++)
        for (int m = 1; m <= 16; m += 15) {
            char cell[32];
            snprintf(cell, sizeof cell, "%dx%d", ns[i], m);
            if (!only || strcmp(only, cell) == 0) burst(ns[i], m);
        }
    if (!only || strcmp(only, "flood") == 0) {
        flood(16);
        flood(256);
    }
    if (only && strcmp(only, "paced") != 0) {
        atomic_store(&prod.cmd, P_EXIT);
        pthread_join(th, NULL);
        return 0;
    }
    printf("paced: latency from send to harvest, consumers asking for 1 completion (ours: default options)\n");
    printf("                       | ours-auto | ours-epoll | raw-uring | raw-epoll\n");
    paced(16);
    paced(256);
    atomic_store(&prod.cmd, P_EXIT);
    pthread_join(th, NULL);
    return 0;
}
