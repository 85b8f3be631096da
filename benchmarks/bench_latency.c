/* Latency matrix (issue 12): the time from a message's send to the moment the consumer's code
 * sees it, for our reader in each profile on each backend beside raw consumers written here.
 *
 *   Producer  a thread pinned to CPU 0 sends 64-byte messages, one per write(), paced at R
 *             messages/s round-robin over N connections; each carries its send time
 *             (CLOCK_MONOTONIC, read through the vDSO on both sides), its connection and a
 *             per-connection sequence number (every consumer checks order and count).
 *   Consumer  the main thread, pinned to CPU 1, records send-to-seen latency into our histogram.
 *   Cells     R in {10k, 100k, 1M}/s x N in {1, 16, 256} TCP connections, and 16 UDP sockets
 *             at each R; and the loadtest's shape, 1M/s over 256 TCP with 16 messages a write.
 *   Consumers ours on io_uring and on epoll, each in the throughput, latency and spin profiles;
 *             raw edge-triggered epoll blocking; raw epoll spinning on epoll_wait(0); raw
 *             liburing (multishot recv, provided buffers) blocking with wait_nr 1; at N = 1 a
 *             spinning recv(MSG_DONTWAIT) floor. Every consumer has its own sockets; they take
 *             turns in rounds (alternating), so load on the shared machine falls on all alike.
 *   Output    p50, p99, p99.9, max per cell and consumer (microseconds), each of ours against
 *             the best raw consumer of the cell (p50 difference, p99.9 ratio), the goals. A
 *             consumer that lost messages (UDP) is not a candidate for "best".
 *
 *   make bench BENCH=latency
 *   knobs: LAT_BENCH_CELLS="10k:1,100k:16u,1m:256x16"  cells: RATE:N, u = UDP, xB = B per write
 *          LAT_BENCH_CONSUMERS="ours-uring-spin,raw-epoll"  consumers to run (names as printed)
 *          LAT_BENCH_SECONDS=1.5   seconds per consumer per cell (split over the rounds)
 *          LAT_BENCH_ROUNDS=10     rounds of alternation (short slices share the load fairly)
 *          LAT_BENCH_SPIN_US=N     the spin profile's budget in us (default: the library's)
 *          LAT_BENCH_SLACK_NS=1    the consumer thread's timer slack (default: the kernel's 50 us)
 *          LAT_BENCH_FIFO=10       producer and consumer at SCHED_FIFO 10 (default: normal priority)
 *   Exit status 1 if any consumer lost, reordered or corrupted a message on TCP, or saw none.
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
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MSG 64
#define MAXN 256
#define BUFSZ 4096
#define RBC 1024

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* LAT_BENCH_FIFO=prio: both threads at SCHED_FIFO (needs CAP_SYS_NICE; the kernel's real-time
 * throttling still leaves other tasks 5 %). Off by default: on a shared machine the figures are
 * recorded at normal priority. */
static int fifo_prio;

static int pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    if (fifo_prio > 0) {
        struct sched_param sp = {.sched_priority = fifo_prio};
        if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp)) fprintf(stderr, "SCHED_FIFO refused\n");
    }
    return pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

/* ---- sockets -------------------------------------------------------------------------------- */
static int tcp_pair(int *rx, int *tx) {
    static int listener = -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (listener < 0) {
        listener = socket(AF_INET, SOCK_STREAM, 0);
        if (bind(listener, (struct sockaddr *)&a, sizeof a) || listen(listener, 4096)) return -1;
    }
    getsockname(listener, (struct sockaddr *)&a, &len);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a)) return -1;
    int s = accept(listener, NULL, NULL);
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *rx = s;
    *tx = c;
    return s < 0 ? -1 : 0;
}

static int udp_pair(int *rx, int *tx) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)}, b = a;
    socklen_t la = sizeof a, lb = sizeof b;
    int s = socket(AF_INET, SOCK_DGRAM, 0), c = socket(AF_INET, SOCK_DGRAM, 0);
    int big = 4 << 20;
    if (s < 0 || c < 0) return -1;
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    if (bind(s, (struct sockaddr *)&a, sizeof a) || bind(c, (struct sockaddr *)&b, sizeof b)) return -1;
    getsockname(s, (struct sockaddr *)&a, &la);
    getsockname(c, (struct sockaddr *)&b, &lb);
    if (connect(c, (struct sockaddr *)&a, la) || connect(s, (struct sockaddr *)&b, lb)) return -1;
    *rx = s;
    *tx = c;
    return 0;
}

/* ---- consumers: kinds and state ------------------------------------------------------------- */
enum { K_OURS_U_THR, K_OURS_U_LAT, K_OURS_U_SPIN, K_OURS_E_THR, K_OURS_E_LAT, K_OURS_E_SPIN,
       K_RAW_EPOLL, K_RAW_EPOLL_SPIN, K_RAW_URING, K_FLOOR, NK };
static const char *knames[NK] = {
    "ours-uring-throughput", "ours-uring-latency", "ours-uring-spin",
    "ours-epoll-throughput", "ours-epoll-latency", "ours-epoll-spin",
    "raw-epoll", "raw-epoll-spin", "raw-uring", "recv-floor"};
enum { PROF_THROUGHPUT = 0, PROF_LATENCY = 1, PROF_SPIN = 2 };
static int is_ours(int k) { return k <= K_OURS_E_SPIN; }
static int profile_of(int k) { return k % 3; }

typedef struct cons {
    int kind, n, udp, active;
    char na[160];                       /* why this consumer does not run in this cell */
    int rx[MAXN], tx[MAXN];
    /* ours */
    alphacore_reader *r;
    uint32_t min_complete;
    int64_t min_wait;
    alphacore_completion out[256];
    /* raw io_uring */
    struct io_uring ring;
    struct io_uring_buf_ring *br;
    uint8_t *bufs;
    /* raw epoll */
    int ep;
    struct epoll_event ev[MAXN];
    /* accounting */
    alphacore_hist *h;
    uint64_t rec_from;                  /* record messages sent at or after this time */
    uint64_t got, sent, lost, bad;
    uint32_t off[MAXN];
    uint8_t part[MAXN][24];
    uint64_t seq[MAXN], pseq[MAXN];
} cons;

static uint8_t scratch[BUFSZ];

/* A whole message: check connection and order, record its latency. */
static void finish(cons *c, int conn, const uint8_t *m, uint64_t t) {
    uint64_t stamp, seq;
    uint32_t id, chk;
    memcpy(&stamp, m, 8);
    memcpy(&id, m + 8, 4);
    memcpy(&chk, m + 12, 4);
    memcpy(&seq, m + 16, 8);
    if (id != (uint32_t)conn || chk != (id ^ 0xA5A5A5A5u)) { c->bad++; return; }
    if (seq != c->seq[conn]) {
        if (seq > c->seq[conn]) c->lost += seq - c->seq[conn]; else c->bad++;
    }
    c->seq[conn] = seq + 1;
    c->got++;
    if (stamp >= c->rec_from) alphacore_hist_record_inline(c->h, (int64_t)(t - stamp));
}

/* Bytes of connection conn as they came (a stream may split a message across reads). */
static void account(cons *c, int conn, const uint8_t *d, size_t len, uint64_t t) {
    while (len) {
        uint32_t o = c->off[conn];
        if (o == 0 && len >= MSG) { finish(c, conn, d, t); d += MSG; len -= MSG; continue; }
        size_t take = MSG - o < len ? MSG - o : len;
        if (o < 24) memcpy(c->part[conn] + o, d, take < 24 - o ? take : 24 - o);
        o += (uint32_t)take;
        d += take;
        len -= take;
        if (o == MSG) { o = 0; finish(c, conn, c->part[conn], t); }
        c->off[conn] = o;
    }
}

/* ---- ours ------------------------------------------------------------------------------------ */
static int spin_us = 0;   /* 0: the library's default budget */

static int ours_init(cons *c) {
    alphacore_reader_opts o = ALPHACORE_READER_OPTS_INIT;
    int k = c->kind, prof = profile_of(k);
    o.backend = k <= K_OURS_U_SPIN ? ALPHACORE_READER_IO_URING : ALPHACORE_READER_EPOLL;
    o.capacity = MAXN;
    o.buf_count = 1024;
#ifdef ALPHACORE_READER_PROFILE_LATENCY
    o.profile = prof == PROF_THROUGHPUT ? ALPHACORE_READER_PROFILE_THROUGHPUT
              : prof == PROF_LATENCY ? ALPHACORE_READER_PROFILE_LATENCY : ALPHACORE_READER_PROFILE_SPIN;
    if (prof == PROF_SPIN) o.spin_us = (uint32_t)spin_us;
#else
    if (prof == PROF_SPIN) o.flags |= ALPHACORE_READER_BUSY_POLL;   /* today's spin */
#endif
    /* The poll's own policy: the throughput profile batches as the loadtest did (64 completions
     * or 20 us), latency and spin return on the first completion with no minimum wait. */
    c->min_complete = prof == PROF_THROUGHPUT ? 64 : 1;
    c->min_wait = prof == PROF_THROUGHPUT ? 20000 : 0;
    int rc = alphacore_reader_create(&o, &c->r);
    if (rc) { snprintf(c->na, sizeof c->na, "create: %s", alphacore_last_detail()); return -1; }
    for (int i = 0; i < c->n; i++) {
        rc = alphacore_reader_add(c->r, c->rx[i], (uint64_t)i);
        if (rc) { snprintf(c->na, sizeof c->na, "add: %s (%s)", alphacore_strerror(rc), alphacore_last_detail()); return -1; }
    }
    return 0;
}

static void ours_step(cons *c) {
    int n = alphacore_reader_poll(c->r, c->out, 256, c->min_complete, c->min_wait, 10000000);
    uint64_t t = now_ns();
    if (n < 0) { fprintf(stderr, "%s: poll: %s (%s)\n", knames[c->kind], alphacore_strerror(n), alphacore_last_detail()); exit(1); }
    for (int i = 0; i < n; i++) {
        if (c->out[i].result <= 0) { c->bad++; continue; }
        account(c, (int)c->out[i].user_data, c->out[i].data, (size_t)c->out[i].result, t);
    }
    if (n > 0) alphacore_reader_release(c->r, c->out, (uint32_t)n);
}

/* ---- raw liburing: multishot recv into a provided-buffer ring, SINGLE_ISSUER | DEFER_TASKRUN,
 * io_uring_enter(wait_nr 1) with a 10 ms timeout ------------------------------------------------ */
static void rawu_arm(cons *c, int i) {
    struct io_uring_sqe *s = io_uring_get_sqe(&c->ring);
    io_uring_prep_recv_multishot(s, c->rx[i], NULL, 0, 0);
    s->flags |= IOSQE_BUFFER_SELECT;
    s->buf_group = 0;
    s->user_data = (uint64_t)i;
}

static int rawu_init(cons *c) {
    struct io_uring_params p = {0};
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
    p.cq_entries = 4096;
    int rc = io_uring_queue_init_params(512, &c->ring, &p);
    if (rc) { snprintf(c->na, sizeof c->na, "io_uring_queue_init: %s", strerror(-rc)); return -1; }
    c->br = mmap(NULL, RBC * 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    c->bufs = mmap(NULL, (size_t)RBC * BUFSZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    struct io_uring_buf_reg reg = {.ring_addr = (uint64_t)(uintptr_t)c->br, .ring_entries = RBC, .bgid = 0};
    if (c->br == MAP_FAILED || c->bufs == MAP_FAILED || io_uring_register_buf_ring(&c->ring, &reg, 0)) {
        snprintf(c->na, sizeof c->na, "buffer ring refused");
        return -1;
    }
    io_uring_buf_ring_init(c->br);
    for (int b = 0; b < RBC; b++) io_uring_buf_ring_add(c->br, c->bufs + (size_t)b * BUFSZ, BUFSZ, (unsigned short)b, RBC - 1, b);
    io_uring_buf_ring_advance(c->br, RBC);
    for (int i = 0; i < c->n; i++) rawu_arm(c, i);
    io_uring_submit(&c->ring);
    return 0;
}

static void rawu_step(cons *c) {
    struct __kernel_timespec ts = {0, 10000000};
    struct io_uring_getevents_arg arg = {.ts = (uint64_t)(uintptr_t)&ts};
    unsigned stail = c->ring.sq.sqe_tail;
    if (*c->ring.sq.ktail != stail) __atomic_store_n(c->ring.sq.ktail, stail, __ATOMIC_RELEASE);
    unsigned submit = stail - *c->ring.sq.khead;
    c->ring.sq.sqe_head = stail;
    syscall(__NR_io_uring_enter, c->ring.ring_fd, submit, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
    uint64_t t = now_ns();
    unsigned head, cnt = 0, ret = 0;
    struct io_uring_cqe *cqe;
    io_uring_for_each_cqe(&c->ring, head, cqe) {
        cnt++;
        int i = (int)cqe->user_data;
        if (cqe->res > 0) {
            unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
            uint8_t *d = c->bufs + (size_t)bid * BUFSZ;
            account(c, i, d, (size_t)cqe->res, t);
            io_uring_buf_ring_add(c->br, d, BUFSZ, (unsigned short)bid, RBC - 1, (int)ret++);
        } else if (cqe->res != -ENOBUFS) {
            c->bad++;
        }
        if (!(cqe->flags & IORING_CQE_F_MORE)) rawu_arm(c, i);
    }
    io_uring_cq_advance(&c->ring, cnt);
    io_uring_buf_ring_advance(c->br, (int)ret);
}

/* ---- raw edge-triggered epoll: read each ready fd until it is drained (TCP: a short read;
 * UDP: EAGAIN, since every datagram is a short read) ----------------------------------------- */
static int rawe_init(cons *c) {
    c->ep = epoll_create1(0);
    for (int i = 0; i < c->n; i++) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u32 = (uint32_t)i};
        if (epoll_ctl(c->ep, EPOLL_CTL_ADD, c->rx[i], &ev)) { snprintf(c->na, sizeof c->na, "epoll_ctl: %s", strerror(errno)); return -1; }
    }
    return 0;
}

static void rawe_step(cons *c, int timeout_ms) {
    int n = epoll_wait(c->ep, c->ev, MAXN, timeout_ms);
    for (int k = 0; k < n; k++) {
        int i = (int)c->ev[k].data.u32;
        for (;;) {
            ssize_t r = recv(c->rx[i], scratch, sizeof scratch, MSG_DONTWAIT);
            if (r <= 0) break;
            account(c, i, scratch, (size_t)r, now_ns());
            if (!c->udp && (size_t)r < sizeof scratch) break;
        }
    }
}

/* ---- the floor: one socket, a spinning non-blocking recv ------------------------------------ */
static void floor_step(cons *c) {
    ssize_t r = recv(c->rx[0], scratch, sizeof scratch, MSG_DONTWAIT);
    if (r > 0) account(c, 0, scratch, (size_t)r, now_ns());
}

static void step(cons *c) {
    switch (c->kind) {
    case K_RAW_EPOLL: rawe_step(c, 10); break;
    case K_RAW_EPOLL_SPIN: rawe_step(c, 0); break;
    case K_RAW_URING: rawu_step(c); break;
    case K_FLOOR: floor_step(c); break;
    default: ours_step(c);
    }
}

static void cons_free(cons *c) {
    if (c->r) alphacore_reader_destroy(c->r);
    if (c->kind == K_RAW_URING && c->br) io_uring_queue_exit(&c->ring);
    if (c->bufs && c->bufs != MAP_FAILED) munmap(c->bufs, (size_t)RBC * BUFSZ);
    if (c->br && c->br != MAP_FAILED) munmap(c->br, RBC * 16);
    if (c->kind == K_RAW_EPOLL || c->kind == K_RAW_EPOLL_SPIN) close(c->ep);
    for (int i = 0; i < c->n; i++) { close(c->rx[i]); close(c->tx[i]); }
    alphacore_hist_destroy(c->h);
    memset(c, 0, sizeof *c);
}

/* ---- the producer (CPU 0) --------------------------------------------------------------------- */
static struct {
    _Atomic int go, stop, done, exit;
    cons *c;                /* whose sockets and sequence numbers */
    uint64_t rate, sent, behind;
    int batch;              /* messages per write */
} prod;

/* Paced sends: a gap of over 30 us is slept (an absolute clock_nanosleep to 10 us before, then
 * a spin), so that on a shared machine the producer is a sleeper the scheduler wakes promptly
 * rather than a spinner it time-slices; shorter gaps are spun. */
static void produce(cons *c, uint64_t rate, int batch) {
    uint8_t msg[MSG * 16];
    memset(msg, 0x5A, sizeof msg);
    uint64_t gap = 1000000000ull * (uint64_t)batch / rate, next = now_ns(), sent = 0, behind = 0;
    int i = 0;
    while (!atomic_load_explicit(&prod.stop, memory_order_relaxed)) {
        uint64_t t = now_ns();
        if (next > t + 30000) {
            uint64_t wake = next - 10000;
            struct timespec ts = {(time_t)(wake / 1000000000ull), (long)(wake % 1000000000ull)};
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        }
        while ((t = now_ns()) < next) { }
        if (t - next > 1000000) { behind++; next = t; }   /* over 1 ms late: no catch-up burst */
        uint32_t id = (uint32_t)i, chk = id ^ 0xA5A5A5A5u;
        for (int m = 0; m < batch; m++) {
            uint64_t seq = c->pseq[i] + (uint64_t)m;
            memcpy(msg + m * MSG, &t, 8);
            memcpy(msg + m * MSG + 8, &id, 4);
            memcpy(msg + m * MSG + 12, &chk, 4);
            memcpy(msg + m * MSG + 16, &seq, 8);
        }
        ssize_t w = send(c->tx[i], msg, (size_t)(MSG * batch), 0);
        if (w == MSG * batch) { c->pseq[i] += (uint64_t)batch; sent += (uint64_t)batch; }
        else if (!c->udp) { perror("producer send"); exit(1); }
        if (++i == c->n) i = 0;
        next += gap;
    }
    prod.sent = sent;
    prod.behind = behind;
}

static void *producer(void *arg) {
    (void)arg;
    if (pin(0)) fprintf(stderr, "producer: cannot pin to CPU 0\n");
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);   /* wake from the pacing sleep on time */
    for (;;) {
        while (!atomic_load(&prod.go)) {
            if (atomic_load(&prod.exit)) return NULL;
            usleep(50);
        }
        atomic_store(&prod.go, 0);
        produce(prod.c, prod.rate, prod.batch);
        atomic_store(&prod.done, 1);
    }
}

/* One slice: the producer sends to c's sockets for `ns`; c consumes until it has everything
 * (TCP) or 100 ms passed after the last send (UDP may drop). */
static void slice(cons *c, uint64_t rate, int batch, uint64_t ns) {
    uint64_t t0 = now_ns();
    c->rec_from = t0 + ns / 10;          /* the first tenth warms up */
    prod.c = c;
    prod.rate = rate;
    prod.batch = batch;
    atomic_store(&prod.stop, 0);
    atomic_store(&prod.done, 0);
    atomic_store(&prod.go, 1);
    int stopped = 0;
    uint64_t done_at = 0;
    for (;;) {
        step(c);
        if (!stopped) {
            if (now_ns() - t0 >= ns) { atomic_store(&prod.stop, 1); stopped = 1; }
            continue;
        }
        if (!done_at) {
            if (!atomic_load(&prod.done)) continue;
            done_at = now_ns();
            c->sent += prod.sent;
        }
        if (c->got + c->lost >= c->sent) break;
        if (now_ns() - done_at > (c->udp ? 100000000ull : 3000000000ull)) break;
    }
}

/* ---- cells, the run, the report ---------------------------------------------------------------- */
typedef struct cell { uint64_t rate; int n, udp, batch; } cell;
static cons cs[NK];
static int failed;

static double us_at(const cons *c, double q) { return (double)alphacore_hist_value_at_percentile(c->h, q) / 1000.0; }

static void loadavg(char *out, size_t cap) {
    double a = 0, b = 0, c = 0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f || fscanf(f, "%lf %lf %lf", &a, &b, &c) != 3) a = b = c = -1;
    if (f) fclose(f);
    snprintf(out, cap, "%.2f %.2f %.2f", a, b, c);
}

static int setup(cons *c, int kind, const cell *x) {
    c->kind = kind;
    c->n = x->n;
    c->udp = x->udp;
    if (alphacore_hist_create(1, 10000000000ll, 3, &c->h)) { fprintf(stderr, "hist\n"); exit(1); }
    for (int i = 0; i < x->n; i++)
        if ((x->udp ? udp_pair(&c->rx[i], &c->tx[i]) : tcp_pair(&c->rx[i], &c->tx[i]))) {
            c->n = i;
            snprintf(c->na, sizeof c->na, "sockets: %s", strerror(errno));
            return -1;
        }
    if (is_ours(kind)) return ours_init(c);
    if (kind == K_RAW_URING) return rawu_init(c);
    if (kind == K_RAW_EPOLL || kind == K_RAW_EPOLL_SPIN) return rawe_init(c);
    return 0;
}

static const char *rate_name(uint64_t r, char *buf) {
    if (r >= 1000000 && r % 1000000 == 0) sprintf(buf, "%llum", (unsigned long long)(r / 1000000));
    else if (r >= 1000 && r % 1000 == 0) sprintf(buf, "%lluk", (unsigned long long)(r / 1000));
    else sprintf(buf, "%llu", (unsigned long long)r);
    return buf;
}

/* Best raw consumer of the cell for p50 and for p99.9 (the floor counts: it is raw). */
/* A consumer that lost messages (UDP: datagrams left unread or dropped) is not a candidate. */
static int eligible(const cons *c) {
    return c->active && alphacore_hist_total_count(c->h) > 0 && c->got >= c->sent;
}

static void best_raw(int *b50, int *b999) {
    *b50 = *b999 = -1;
    for (int k = K_RAW_EPOLL; k < NK; k++) {
        if (!eligible(&cs[k])) continue;
        if (*b50 < 0 || us_at(&cs[k], 50) < us_at(&cs[*b50], 50)) *b50 = k;
        if (*b999 < 0 || us_at(&cs[k], 99.9) < us_at(&cs[*b999], 99.9)) *b999 = k;
    }
}

static char summary[32][200];
static int nsummary;

static void report_goals(const cell *x, int b50, int b999) {
    int best = -1;
    for (int k = 0; k <= K_OURS_E_SPIN; k++)
        if (eligible(&cs[k]) && (best < 0 || us_at(&cs[k], 50) < us_at(&cs[best], 50))) best = k;
    if (best < 0 || b50 < 0) { printf("  goal: not measurable (ours or raw missing)\n"); return; }
    double d50 = us_at(&cs[best], 50) - us_at(&cs[b50], 50), r999 = us_at(&cs[best], 99.9) / us_at(&cs[b999], 99.9);
    printf("  goal best-of-ours (%s) vs best raw: p50 %+.2f us (<= 1 us: %s), p99.9 %.2fx (<= 1.1x: %s)\n",
           knames[best], d50, d50 <= 1.0 ? "met" : "NOT met", r999, r999 <= 1.1 ? "met" : "NOT met");
    if (nsummary < 32) {
        char rn[32];
        snprintf(summary[nsummary++], sizeof summary[0],
                 "%5s x %3d %s%-4s | %-21s %8.2f %9.2f | %-14s %8.2f | %-14s %9.2f | %+8.2f %s | %5.2fx %s\n",
                 rate_name(x->rate, rn), x->n, x->udp ? "UDP" : "TCP", x->batch > 1 ? "x16" : "", knames[best],
                 us_at(&cs[best], 50), us_at(&cs[best], 99.9), knames[b50], us_at(&cs[b50], 50), knames[b999],
                 us_at(&cs[b999], 99.9), d50, d50 <= 1.0 ? "met" : "NOT", r999, r999 <= 1.1 ? "met" : "NOT");
    }
    int spin = -1;
    for (int k = K_OURS_U_SPIN; k <= K_OURS_E_SPIN; k += 3)
        if (eligible(&cs[k]) && (spin < 0 || us_at(&cs[k], 50) < us_at(&cs[spin], 50))) spin = k;
    if (spin >= 0 && x->rate == 10000 && cs[K_RAW_EPOLL].active) {
        double r = us_at(&cs[spin], 50) / us_at(&cs[K_RAW_EPOLL], 50);
        printf("  goal spin p50 at 10k (%s) / raw-epoll p50 = %.2f (<= 0.5: %s)\n", knames[spin], r, r <= 0.5 ? "met" : "NOT met");
    }
    if (spin >= 0 && x->n == 1 && !x->udp && cs[K_FLOOR].active) {
        double r = us_at(&cs[spin], 50) / us_at(&cs[K_FLOOR], 50);
        printf("  goal spin p50 (%s) / recv floor p50 = %.2f (<= 1.2: %s)\n", knames[spin], r, r <= 1.2 ? "met" : "NOT met");
    }
}

static void report(const cell *x, double achieved) {
    char rn[32], la[64];
    loadavg(la, sizeof la);
    printf("\n== cell %s/s x %d %s%s%.0d: producer achieved %.0f msg/s; load average %s\n",
           rate_name(x->rate, rn), x->n, x->udp ? "UDP" : "TCP", x->batch > 1 ? ", messages per write " : "", x->batch > 1 ? x->batch : 0, achieved, la);
    printf("  %-22s %9s %8s %8s %8s %9s | %8s %8s %8s %7s\n", "consumer", "messages", "p50 us", "p99 us",
           "p99.9 us", "max us", "p50-best", "p50/best", "p99.9/b", "lost");
    int b50, b999;
    best_raw(&b50, &b999);
    for (int k = 0; k < NK; k++) {
        cons *c = &cs[k];
        if (!c->active) { if (c->na[0]) printf("  %-22s n/a: %s\n", knames[k], c->na); continue; }
        uint64_t lost = c->udp ? c->sent - (c->got < c->sent ? c->got : c->sent) : c->lost;
        if (!c->udp && (c->lost || c->bad || c->got != c->sent)) {
            fprintf(stderr, "%s: TCP got %llu of %llu, lost %llu, bad %llu\n", knames[k], (unsigned long long)c->got,
                    (unsigned long long)c->sent, (unsigned long long)c->lost, (unsigned long long)c->bad);
            failed = 1;
        }
        if (alphacore_hist_total_count(c->h) == 0) { printf("  %-22s no messages recorded\n", knames[k]); failed = 1; continue; }
        printf("  %-22s %9llu %8.2f %8.2f %8.2f %9.1f", knames[k], (unsigned long long)c->got, us_at(c, 50),
               us_at(c, 99), us_at(c, 99.9), (double)alphacore_hist_max(c->h) / 1000.0);
        if (is_ours(k) && b50 >= 0)
            printf(" | %+8.2f %8.2f %8.2f %7llu\n", us_at(c, 50) - us_at(&cs[b50], 50), us_at(c, 50) / us_at(&cs[b50], 50),
                   us_at(c, 99.9) / us_at(&cs[b999], 99.9), (unsigned long long)lost);
        else
            printf(" | %8s %8s %8s %7llu\n", k == b50 ? "best p50" : "", "", k == b999 ? "best" : "", (unsigned long long)lost);
    }
    if (b50 >= 0) printf("  best raw: p50 %s, p99.9 %s\n", knames[b50], knames[b999]);
    report_goals(x, b50, b999);
}

static unsigned consumer_mask(void) {
    const char *s = getenv("LAT_BENCH_CONSUMERS");
    if (!s || !*s) return (1u << NK) - 1;
    unsigned m = 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int found = 0;
        for (int k = 0; k < NK; k++) if (!strcmp(t, knames[k])) { m |= 1u << k; found = 1; }
        if (!found) { fprintf(stderr, "LAT_BENCH_CONSUMERS: unknown consumer %s\n", t); exit(2); }
    }
    return m;
}

static void run_cell(const cell *x, unsigned mask, double seconds, int rounds) {
    memset(cs, 0, sizeof cs);
    for (int k = 0; k < NK; k++) {
        if (!(mask & (1u << k))) continue;
        if (k == K_FLOOR && (x->n != 1 || x->udp)) continue;
        cs[k].active = setup(&cs[k], k, x) == 0;
    }
    uint64_t ns = (uint64_t)(seconds / rounds * 1e9), sent = 0;
    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < NK; k++)
            if (cs[k].active) {
                uint64_t before = cs[k].sent;
                slice(&cs[k], x->rate, x->batch, ns);
                sent += cs[k].sent - before;
            }
    int ran = 0;
    for (int k = 0; k < NK; k++) ran += cs[k].active;
    report(x, ran ? (double)sent / (seconds * ran) : 0);
    fflush(stdout);
    for (int k = 0; k < NK; k++) if (cs[k].h || cs[k].n) cons_free(&cs[k]);
}

static int parse_cells(const char *s, cell *out, int cap) {
    char buf[512];
    int n = 0;
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save, *t = strtok_r(buf, ",", &save); t && n < cap; t = strtok_r(NULL, ",", &save)) {
        char *e;
        double r = strtod(t, &e);
        if (*e == 'k' || *e == 'K') { r *= 1e3; e++; } else if (*e == 'm' || *e == 'M') { r *= 1e6; e++; }
        if (*e != ':' || r < 1 || r > 5e6) { fprintf(stderr, "LAT_BENCH_CELLS: bad cell %s (RATE:N[u], e.g. 100k:16u)\n", t); exit(2); }
        int conns = (int)strtol(e + 1, &e, 10);
        int udp = *e == 'u', batch = 1;
        if (udp) e++;
        if (*e == 'x') batch = (int)strtol(e + 1, &e, 10);
        if (conns < 1 || conns > MAXN || *e || batch < 1 || batch > 16 || (udp && batch > 1)) {
            fprintf(stderr, "LAT_BENCH_CELLS: bad cell %s (RATE:N[u][xBATCH])\n", t);
            exit(2);
        }
        out[n++] = (cell){(uint64_t)r, conns, udp, batch};
    }
    return n;
}

int main(void) {
    const char *cells_s = getenv("LAT_BENCH_CELLS");
    if (!cells_s || !*cells_s) cells_s = "10k:1,10k:16,10k:256,100k:1,100k:16,100k:256,1m:1,1m:16,1m:256,10k:16u,100k:16u,1m:16u,1m:256x16";
    cell cells[32];
    int ncells = parse_cells(cells_s, cells, 32);
    double seconds = getenv("LAT_BENCH_SECONDS") ? atof(getenv("LAT_BENCH_SECONDS")) : 1.5;
    int rounds = getenv("LAT_BENCH_ROUNDS") ? atoi(getenv("LAT_BENCH_ROUNDS")) : 10;
    if (getenv("LAT_BENCH_SPIN_US")) spin_us = atoi(getenv("LAT_BENCH_SPIN_US"));
    if (getenv("LAT_BENCH_FIFO")) fifo_prio = atoi(getenv("LAT_BENCH_FIFO"));
    if (fifo_prio < 0 || fifo_prio > 99) { fprintf(stderr, "LAT_BENCH_FIFO is 1-99\n"); return 2; }
    if (seconds < 0.05 || seconds > 600 || rounds < 1 || rounds > 100) { fprintf(stderr, "bad LAT_BENCH_SECONDS/ROUNDS\n"); return 2; }
    unsigned mask = consumer_mask();
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 2 * NK * MAXN + 64) { fprintf(stderr, "RLIMIT_NOFILE %llu is below %d\n", (unsigned long long)rl.rlim_cur, 2 * NK * MAXN + 64); return 1; }
    pthread_t th;
    pthread_create(&th, NULL, producer, NULL);
    if (pin(1)) fprintf(stderr, "consumer: cannot pin to CPU 1\n");
    /* LAT_BENCH_SLACK_NS: the consumer thread's timer slack (default: the kernel's 50 us). */
    if (getenv("LAT_BENCH_SLACK_NS")) prctl(PR_SET_TIMERSLACK, strtoul(getenv("LAT_BENCH_SLACK_NS"), NULL, 10), 0, 0, 0);
    char la[64];
    loadavg(la, sizeof la);
#ifdef ALPHACORE_READER_PROFILE_LATENCY
    char api[160];
    {   /* the spin budget in effect, as the library reports it */
        alphacore_reader_opts o = ALPHACORE_READER_OPTS_INIT;
        alphacore_reader *probe = NULL;
        alphacore_reader_details d = {.struct_size = sizeof d};
        o.profile = ALPHACORE_READER_PROFILE_SPIN;
        o.spin_us = (uint32_t)spin_us;
        if (alphacore_reader_create(&o, &probe) || alphacore_reader_info(probe, &d)) {
            fprintf(stderr, "spin profile refused: %s\n", alphacore_last_detail());
            return 2;
        }
        snprintf(api, sizeof api, "reader profiles (opts.profile; spin budget %u us)", d.spin_us);
        alphacore_reader_destroy(probe);
    }
#else
    const char *api = "no reader profiles in this header: throughput = poll(64, 20 us), latency = poll(1, 0), spin = BUSY_POLL flag";
#endif
    printf("latency matrix: send-to-seen, 64 B messages, one per write; %.2f s per consumer per cell in %d rounds; %s; %s; load average %s\n",
           seconds, rounds, api, fifo_prio ? "SCHED_FIFO" : "normal priority", la);
    for (int i = 0; i < ncells; i++) run_cell(&cells[i], mask, seconds, rounds);
    printf("\nsummary (us): cell | best of ours p50 p99.9 | best raw p50 | best raw p99.9 | p50 diff <= 1 us | p99.9 ratio <= 1.1x\n");
    for (int i = 0; i < nsummary; i++) fputs(summary[i], stdout);
    atomic_store(&prod.exit, 1);
    pthread_join(th, NULL);
    if (failed) fprintf(stderr, "bench_latency: a consumer lost, reordered or corrupted messages, or saw none\n");
    return failed;
}
