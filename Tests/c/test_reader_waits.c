/* The reader's waits (issue 17), through the installed header and library, on both backends:
 *  - no stalled fd: a randomised stall test (pipe, TCP, UDP, AF_UNIX; random max, buf_size,
 *    buf_count and write sizes; a writer racing polls that never wait), then a bounded drain
 *    that must leave 0 bytes unread in the kernel (FIONREAD);
 *  - signals: a `while (!stop) poll(-1)` loop ended by a signal swept over >= 200 arrival
 *    offsets, process-directed (setitimer) and thread-directed (pthread_kill), with and without
 *    idle fds of every kind the reader takes; no run may still wait 100 ms after its signal;
 *  - idle cost: one idle 500 ms poll over 200 idle sockets and one eventfd makes at most 3
 *    system calls (printed).
 * READER_TEST_BACKEND=io_uring|epoll runs one backend; READER_WAITS_SEED seeds the stall test. */
#include "reader_util.h"
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include "check.h"

static uint32_t profiles[3] = {ALPHACORE_READER_PROFILE_THROUGHPUT, ALPHACORE_READER_PROFILE_LATENCY,
                               ALPHACORE_READER_PROFILE_SPIN};
static const char *profile_names[3] = {"throughput", "latency", "spin"};
static const int nprofiles = 3;

static alphacore_reader *make(uint32_t backend, uint32_t profile, uint32_t count, uint32_t size) {
    alphacore_reader_opts o = ALPHACORE_READER_OPTS_INIT;
    o.backend = backend;
    o.buf_count = count;
    o.buf_size = size;
    o.capacity = 512;
    o.profile = profile;
    if (profile == ALPHACORE_READER_PROFILE_SPIN) o.spin_us = 200;
    alphacore_reader *r = NULL;
    int rc = alphacore_reader_create(&o, &r);
    CHECK_EQ_INT(rc, 0);
    if (rc != 0) fprintf(stderr, "create: %s (%s)\n", alphacore_strerror(rc), alphacore_last_detail());
    return r;
}

static uint64_t syscalls_of(alphacore_reader *r) {
    alphacore_reader_counters c = {.struct_size = sizeof c};
    alphacore_reader_stats(r, &c);
    return c.syscalls;
}

/* ---- kinds of fds --------------------------------------------------------------------- */

enum kind { K_PIPE, K_TCP, K_UDP, K_UNIX, K_EVENTFD, K_TIMERFD, K_KINDS };
static const char *kind_names[K_KINDS] = {"pipe", "tcp", "udp", "unix", "eventfd", "timerfd"};

/* A connected pair of `kind` (rx read by the reader, tx written by the test; tx = -1 for
 * eventfd/timerfd, whose rx is also written through). Non-blocking writer. */
static int make_pair(enum kind k, int *rx, int *tx) {
    int sv[2];
    *tx = -1;
    switch (k) {
    case K_PIPE:
        if (pipe2(sv, O_CLOEXEC) != 0) return -1;
        *rx = sv[0];
        *tx = sv[1];
        break;
    case K_TCP:
        if (tcp_pair(rx, tx) != 0) return -1;
        break;
    case K_UNIX:
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return -1;
        *rx = sv[0];
        *tx = sv[1];
        break;
    case K_UDP: {
        int a = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), b = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof sa;
        int big = 4 << 20;
        setsockopt(a, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
        if (bind(a, (struct sockaddr *)&sa, sizeof sa) != 0 || getsockname(a, (struct sockaddr *)&sa, &len) != 0 ||
            connect(b, (struct sockaddr *)&sa, sizeof sa) != 0) return -1;
        *rx = a;
        *tx = b;
        break;
    }
    case K_EVENTFD:
        *rx = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        return *rx < 0 ? -1 : 0;
    case K_TIMERFD:
        *rx = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);   /* never armed: idle */
        return *rx < 0 ? -1 : 0;
    default:
        return -1;
    }
    if (*tx >= 0) fcntl(*tx, F_SETFL, fcntl(*tx, F_GETFL) | O_NONBLOCK);
    return 0;
}

static int unread(int fd) {
    int v = 0;
    return ioctl(fd, FIONREAD, &v) == 0 ? v : -1;
}

/* ---- 1. no stalled fd ----------------------------------------------------------------- */

typedef struct stall_writer {
    int tx;
    enum kind k;
    uint64_t total, sent;
    unsigned seed;
    uint32_t max_dgram;
    atomic_int done;
} stall_writer;

static void *stall_write(void *arg) {
    stall_writer *w = arg;
    uint8_t buf[256];
    uint64_t spins = 0;
    while (w->sent < w->total) {
        size_t chunk = 1 + (size_t)(rand_r(&w->seed) % 200);
        if (w->k == K_UDP && chunk > w->max_dgram) chunk = w->max_dgram;
        if (chunk > w->total - w->sent) chunk = (size_t)(w->total - w->sent);
        fill_pattern(buf, 0, w->sent, chunk);
        ssize_t g = write(w->tx, buf, chunk);
        if (g > 0) {
            w->sent += (uint64_t)g;
        } else if (w->k == K_UDP || ++spins % 64 == 0) {
            sched_yield();   /* full (UDP: ENOBUFS / EAGAIN): let the consumer run */
        }
    }
    atomic_store(&w->done, 1);
    return NULL;
}

/* One randomised run; returns the bytes left unread in the kernel after the drain. */
static long stall_run(uint32_t backend, uint32_t profile, enum kind k, unsigned seed) {
    unsigned s = seed;
    uint32_t size = 64u << (rand_r(&s) % 4);                     /* 64..512 */
    if (rand_r(&s) % 4 == 0) size = 64u * (1 + (uint32_t)(rand_r(&s) % 64));
    uint32_t count = 2u << (rand_r(&s) % 6);                      /* 2..64 */
    uint32_t max = 1 + (uint32_t)(rand_r(&s) % 48);
    if (rand_r(&s) % 3 == 0) max = 3 + (uint32_t)(rand_r(&s) % 8);
    alphacore_reader *r = make(backend, profile, count, size);
    if (!r) return -1;
    int rx, tx;
    if (make_pair(k, &rx, &tx) != 0) { CHECK(0); alphacore_reader_destroy(r); return -1; }
    int rc = alphacore_reader_add(r, rx, 1);
    if (rc != 0) fprintf(stderr, "add %s: %s\n", kind_names[k], alphacore_last_detail());
    CHECK_EQ_INT(rc, 0);
    stall_writer w = {.tx = tx, .k = k, .total = k == K_UDP ? 60000 : 120000, .seed = seed * 7 + 1, .max_dgram = size};
    atomic_init(&w.done, 0);
    pthread_t th;
    pthread_create(&th, NULL, stall_write, &w);
    alphacore_completion out[64];
    uint64_t got = 0, bad = 0, ends = 0;
    int inorder = k != K_UDP;
    int writing = 1;
    uint64_t deadline = 0;
    long backlog = 0, drain_polls = 0, drain_bound = 0;
    while (1) {
        int n = writing ? alphacore_reader_poll(r, out, max, 0, 0, 0)            /* the repro */
                        : alphacore_reader_poll(r, out, max, 1, 0, 20000000);   /* the drain */
        if (n < 0) { fprintf(stderr, "poll: %s (%s)\n", alphacore_strerror(n), alphacore_last_detail()); CHECK(0); break; }
        for (int i = 0; i < n; i++) {
            if (out[i].result <= 0) { ends++; continue; }
            const uint8_t *d = out[i].data;
            if (inorder) {
                for (int32_t j = 0; j < out[i].result; j++)
                    if (d[j] != pattern(0, got + (uint64_t)j)) bad++;
            }
            got += (uint64_t)out[i].result;
        }
        if (n > 0) alphacore_reader_release(r, out, (uint32_t)n);
        if (!writing) drain_polls++;
        if (writing && atomic_load(&w.done)) {
            writing = 0;
            deadline = mono_ns() + 1500000000ull;
            /* Each poll that has room must take what it has room for: the drain may take a few
             * polls per min(max, buf_count) buffers of backlog, not one poll per buffer. Up to
             * buf_count buffers may already hold data the kernel has handed over (not in
             * FIONREAD's backlog): handing those out takes buf_count / max polls more. */
            backlog = unread(rx);
            uint32_t per = max < count ? max : count;
            drain_bound = 8 + 4 * (backlog / (long)(per * size) + 1) + (long)((count + max - 1) / max);
        }
        if (!writing && ((n == 0 && unread(rx) == 0) || mono_ns() > deadline)) break;
    }
    pthread_join(th, NULL);
    long left = unread(rx);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(ends, 0);
    /* Pipes and AF_UNIX hold the whole backlog in the reading end (TCP keeps part of it in the
     * sender until the window opens; FIONREAD of UDP is one datagram): the bound holds there. */
    int bounded = k == K_PIPE || k == K_UNIX;
    if (bounded) CHECK(drain_polls <= drain_bound);
    if (bounded && drain_polls > drain_bound)
        fprintf(stderr, "stall: %s %s %s seed %u: %ld bytes drained in %ld polls (bound %ld)\n", backend_name(backend),
                profile_names[profile], kind_names[k], seed, backlog, drain_polls, drain_bound);
    if (inorder) CHECK_EQ_INT(got, w.total);
    if (left != 0 || bad != 0 || (inorder && got != w.total))
        fprintf(stderr, "stall: %s %s %s seed %u buf %u x %u max %u: got %llu of %llu, %ld left unread\n",
                backend_name(backend), profile_names[profile], kind_names[k], seed, size, count, max,
                (unsigned long long)got, (unsigned long long)w.total, left);
    alphacore_reader_destroy(r);
    close(rx);
    close(tx);
    return left;
}

static void test_stalls(uint32_t backend, uint32_t profile, unsigned seed0, int runs) {
    long worst = 0;
    for (int i = 0; i < runs; i++) {
        enum kind k = (enum kind)(i % 4);
        long left = stall_run(backend, profile, k, seed0 + (unsigned)i);
        CHECK_EQ_INT(left, 0);
        if (left > worst) worst = left;
    }
    printf("stall %-8s %-10s: %d randomised runs (pipe, tcp, udp, unix), most bytes left unread %ld\n",
           backend_name(backend), profile_names[profile], runs, worst);
}

/* ---- 2. signals ----------------------------------------------------------------------- */

static volatile sig_atomic_t stop;
static volatile uint64_t signalled_at;

static void on_signal(int sig) {
    (void)sig;
    if (!stop) signalled_at = mono_ns();
    stop = 1;
}

typedef struct killer {
    pthread_t target;
    pid_t tid;
    sem_t go, done;
    uint64_t offset;        /* how long after the poll is waiting to send (ns) */
    int thread_directed;    /* pthread_kill SIGUSR1, else a process-directed SIGALRM (setitimer) */
    atomic_int quit;
} killer;

/* Whether thread `tid` is inside the poll's wait: asleep in the kernel, or with SIGUSR1 blocked
 * (the poll blocks async signals while it may wait more than once, and while it spins). A
 * signal handled before that is the caller's race, as with any blocking call (the loop checked
 * `stop` just before), not one the poll missed. */
static int in_wait(pid_t tid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
    FILE *f = fopen(path, "r");
    int yes = 0;
    unsigned long long blk;
    while (f && !yes && fgets(line, sizeof line, f)) {
        if (strncmp(line, "State:\tS", 8) == 0) yes = 1;
        if (sscanf(line, "SigBlk: %llx", &blk) == 1 && (blk >> (SIGUSR1 - 1) & 1)) yes = 1;
    }
    if (f) fclose(f);
    return yes;
}

static void *kill_thread(void *arg) {
    killer *k = arg;
    while (1) {
        sem_wait(&k->go);
        if (atomic_load(&k->quit)) return NULL;
        for (int i = 0; i < 20000 && !in_wait(k->tid); i++) usleep(50);   /* at most ~1-2 s */
        uint64_t at = mono_ns() + k->offset;
        struct timespec ts = {(time_t)(at / 1000000000ull), (long)(at % 1000000000ull)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        if (!k->thread_directed) {
            struct itimerval it = {{0, 100000}, {0, 1}};   /* now, then every 100 ms */
            setitimer(ITIMER_REAL, &it, NULL);
            sem_wait(&k->done);
            continue;
        }
        pthread_kill(k->target, SIGUSR1);
        /* A missed signal must not hang the test: repeat every 100 ms until the loop ends. */
        while (1) {
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            t.tv_nsec += 100000000;
            if (t.tv_nsec >= 1000000000) { t.tv_sec++; t.tv_nsec -= 1000000000; }
            if (sem_clockwait(&k->done, CLOCK_MONOTONIC, &t) == 0) break;
            pthread_kill(k->target, SIGUSR1);
        }
    }
}

/* Runs `runs` offsets; returns how many runs still waited 100 ms after their signal. */
static int signal_sweep(uint32_t backend, uint32_t profile, int with_idle, int runs, uint64_t *worst_us) {
    alphacore_reader *r = make(backend, profile, 64, 4096);
    if (!r) return runs;
    int fds[2 * K_KINDS];
    int nf = 0;
    if (with_idle) {
        for (int k = 0; k < K_KINDS; k++) {
            int rx, tx;
            if (make_pair((enum kind)k, &rx, &tx) != 0) { CHECK(0); continue; }
            int rc = alphacore_reader_add(r, rx, (uint64_t)k);
            if (rc != 0) fprintf(stderr, "add idle %s: %s\n", kind_names[k], alphacore_last_detail());
            CHECK_EQ_INT(rc, 0);
            fds[nf++] = rx;
            if (tx >= 0) fds[nf++] = tx;
        }
    }
    killer kl;
    kl.target = pthread_self();
    kl.tid = gettid();
    sem_init(&kl.go, 0, 0);
    sem_init(&kl.done, 0, 0);
    atomic_init(&kl.quit, 0);
    pthread_t kt;
    /* The killer thread must not take process-directed signals: it blocks them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_create(&kt, NULL, kill_thread, &kl);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    int missed = 0;
    alphacore_completion out[32];
    *worst_us = 0;
    for (int i = 0; i < runs; i++) {
        stop = 0;
        signalled_at = 0;
        kl.offset = 300000ull + (uint64_t)i * 10007ull;   /* 0.3 ms + 0..~2 ms in 10 us steps */
        kl.thread_directed = i % 2;
        sem_post(&kl.go);
        while (!stop) {
            int n = alphacore_reader_poll(r, out, 32, 1, 0, -1);
            if (n < 0) { fprintf(stderr, "poll: %s\n", alphacore_strerror(n)); CHECK(0); break; }
            if (n > 0) alphacore_reader_release(r, out, (uint32_t)n);
        }
        uint64_t end = mono_ns();
        if (!kl.thread_directed) {
            struct itimerval off = {{0, 0}, {0, 0}};
            setitimer(ITIMER_REAL, &off, NULL);
        }
        sem_post(&kl.done);
        uint64_t late = signalled_at ? (end - signalled_at) / 1000 : 0;
        if (late > *worst_us) *worst_us = late;
        if (late >= 100000) missed++;
    }
    atomic_store(&kl.quit, 1);
    sem_post(&kl.go);
    pthread_join(kt, NULL);
    sem_destroy(&kl.go);
    sem_destroy(&kl.done);
    alphacore_reader_destroy(r);
    for (int i = 0; i < nf; i++) close(fds[i]);
    return missed;
}

static void test_signals(uint32_t backend, uint32_t profile) {
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    for (int idle = 0; idle < 2; idle++) {
        uint64_t worst = 0;
        int runs = 200;
        int missed = signal_sweep(backend, profile, idle, runs, &worst);
        CHECK_EQ_INT(missed, 0);
        printf("signals %-8s %-10s %s: %d offsets (half setitimer, half pthread_kill), missed %d, "
               "slowest exit %llu us after the signal\n", backend_name(backend), profile_names[profile],
               idle ? "idle fds of every kind" : "no fds               ", runs, missed, (unsigned long long)worst);
    }
}

/* ---- 3. idle cost --------------------------------------------------------------------- */

static void test_idle_cost(uint32_t backend, uint32_t profile) {
    enum { N = 200 };
    alphacore_reader *r = make(backend, profile, 256, 4096);
    if (!r) return;
    int rx[N], tx[N];
    int ok = 1;
    for (int i = 0; i < N; i++) {
        if (tcp_pair(&rx[i], &tx[i]) != 0) { ok = 0; rx[i] = tx[i] = -1; continue; }
        CHECK_EQ_INT(alphacore_reader_add(r, rx[i], (uint64_t)i), 0);
    }
    CHECK(ok);
    int ev = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    CHECK_EQ_INT(alphacore_reader_add(r, ev, 999), 0);
    alphacore_completion out[64];
    /* Let the first arms settle (the adds' submissions go in with the first enter). */
    CHECK_EQ_INT(alphacore_reader_poll(r, out, 64, 0, 0, 0), 0);
    uint64_t worst = 0, best = UINT64_MAX, cpu_worst = 0;
    for (int round = 0; round < 2; round++) {
        struct timespec c0, c1;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
        uint64_t s0 = syscalls_of(r), t0 = mono_ns();
        int n = alphacore_reader_poll(r, out, 64, 1, 0, 500000000);
        uint64_t dt = mono_ns() - t0, sys = syscalls_of(r) - s0;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
        uint64_t cpu = (uint64_t)(c1.tv_sec - c0.tv_sec) * 1000000000ull + (uint64_t)c1.tv_nsec - (uint64_t)c0.tv_nsec;
        if (cpu > cpu_worst) cpu_worst = cpu;
        /* Every profile gives the CPU back while idle: the spin profile after its budget. */
        CHECK(cpu < 50000000ull);
        CHECK_EQ_INT(n, 0);
        CHECK(dt >= 490000000ull);
        if (sys > worst) worst = sys;
        if (sys < best) best = sys;
    }
    /* The spin profile spends its budget (200 us here) asking without sleeping: counted apart. */
    if (profile != ALPHACORE_READER_PROFILE_SPIN) CHECK(worst <= 3);
    printf("idle %-8s %-10s: one idle 500 ms poll over %d idle TCP sockets + 1 eventfd made %llu-%llu system calls%s,"
           " %llu us of CPU\n", backend_name(backend), profile_names[profile], N, (unsigned long long)best,
           (unsigned long long)worst, profile == ALPHACORE_READER_PROFILE_SPIN ? " (200 us of spinning included)" : "",
           (unsigned long long)(cpu_worst / 1000));
    alphacore_reader_destroy(r);
    for (int i = 0; i < N; i++) { close(rx[i]); close(tx[i]); }
    close(ev);
}

/* ---- 4. datagrams and counters-only fds ----------------------------------------------- */

/* UDP: one completion per datagram, a datagram longer than buf_size cut to it, a datagram of
 * 0 bytes no end; eventfd and timerfd deliver their 8-byte counts. */
static void test_datagrams(uint32_t backend, uint32_t profile) {
    alphacore_reader *r = make(backend, profile, 16, 64);
    if (!r) return;
    int rx, tx, ev, tf, dummy;
    CHECK_EQ_INT(make_pair(K_UDP, &rx, &tx), 0);
    CHECK_EQ_INT(make_pair(K_EVENTFD, &ev, &dummy), 0);
    CHECK_EQ_INT(make_pair(K_TIMERFD, &tf, &dummy), 0);
    CHECK_EQ_INT(alphacore_reader_add(r, rx, 1), 0);
    CHECK_EQ_INT(alphacore_reader_add(r, ev, 2), 0);
    CHECK_EQ_INT(alphacore_reader_add(r, tf, 3), 0);
    uint8_t big[100];
    memset(big, 7, sizeof big);
    CHECK_EQ_INT(send(tx, big, 100, 0), 100);
    CHECK_EQ_INT(send(tx, big, 0, 0), 0);
    CHECK_EQ_INT(send(tx, big, 10, 0), 10);
    uint64_t five = 5;
    CHECK_EQ_INT(write(ev, &five, 8), 8);
    struct itimerspec its = {{0, 0}, {0, 1000000}};
    timerfd_settime(tf, 0, &its, NULL);
    int udp[4] = {0}, nudp = 0, evs = 0, tfs = 0, ends = 0;
    alphacore_completion out[16];
    uint64_t deadline = mono_ns() + 2000000000ull;
    while ((nudp < 2 || !evs || !tfs) && mono_ns() < deadline) {
        int n = alphacore_reader_poll(r, out, 16, 1, 0, 50000000);
        CHECK(n >= 0);
        for (int i = 0; i < n; i++) {
            if (out[i].result <= 0) { ends++; continue; }
            if (out[i].user_data == 1 && nudp < 4) udp[nudp++] = out[i].result;
            if (out[i].user_data == 2) { evs++; CHECK_EQ_INT(out[i].result, 8); CHECK_EQ_INT(*(const uint64_t *)out[i].data, 5); }
            if (out[i].user_data == 3) { tfs++; CHECK_EQ_INT(out[i].result, 8); }
        }
        if (n > 0) alphacore_reader_release(r, out, (uint32_t)n);
    }
    CHECK_EQ_INT(nudp, 2);
    CHECK_EQ_INT(udp[0], 64);   /* 100 bytes cut to buf_size */
    CHECK_EQ_INT(udp[1], 10);   /* after the empty datagram: the socket still reads */
    CHECK_EQ_INT(evs, 1);
    CHECK_EQ_INT(tfs, 1);
    CHECK_EQ_INT(ends, 0);
    alphacore_reader_destroy(r);
    close(rx);
    close(tx);
    close(ev);
    close(tf);
}

/* ---- 5. a spinning consumer on the producer's CPU -------------------------------------- */

typedef struct shared_cpu {
    int tx, cpu, count;
} shared_cpu;

static void pin_to(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *shared_produce(void *arg) {
    shared_cpu *p = arg;
    pin_to(p->cpu);
    for (int i = 0; i < p->count; i++) {
        uint8_t b = (uint8_t)i;
        while (write(p->tx, &b, 1) != 1) sched_yield();
        struct timespec t = {0, 200000};
        nanosleep(&t, NULL);
    }
    return NULL;
}

/* Producer and spinning consumer pinned to one CPU: the spin budget hands the CPU back (the
 * poll blocks), so the producer runs and every message arrives, in order, well inside the
 * bound (a consumer that never blocked would hold the CPU for whole scheduler slices). */
static void test_spin_shares_cpu(uint32_t backend) {
    alphacore_reader *r = make(backend, ALPHACORE_READER_PROFILE_SPIN, 64, 4096);
    if (!r) return;
    int rx, tx;
    CHECK_EQ_INT(make_pair(K_UNIX, &rx, &tx), 0);
    CHECK_EQ_INT(alphacore_reader_add(r, rx, 1), 0);
    cpu_set_t mine;
    pthread_getaffinity_np(pthread_self(), sizeof mine, &mine);
    int cpu = 0;
    while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &mine)) cpu++;
    pin_to(cpu);
    shared_cpu p = {.tx = tx, .cpu = cpu, .count = 500};
    pthread_t th;
    uint64_t t0 = mono_ns();
    pthread_create(&th, NULL, shared_produce, &p);
    int got = 0, bad = 0;
    alphacore_completion out[32];
    uint64_t deadline = t0 + 10000000000ull;
    while (got < p.count && mono_ns() < deadline) {
        int n = alphacore_reader_poll(r, out, 32, 1, 0, 100000000);
        for (int i = 0; i < n; i++) {
            const uint8_t *d = out[i].data;
            for (int32_t j = 0; j < out[i].result; j++, got++)
                if (d[j] != (uint8_t)got) bad++;
        }
        if (n > 0) alphacore_reader_release(r, out, (uint32_t)n);
    }
    uint64_t dt = mono_ns() - t0;
    pthread_join(th, NULL);
    CHECK_EQ_INT(got, p.count);
    CHECK_EQ_INT(bad, 0);
    /* 500 x 0.2 ms of sleeps = 100 ms of producing; the bound leaves room for a loaded machine. */
    CHECK(dt < 5000000000ull);
    printf("shared CPU %-8s spin: %d messages from a producer on the consumer's CPU %d in %llu ms\n",
           backend_name(backend), got, cpu, (unsigned long long)(dt / 1000000));
    alphacore_reader_destroy(r);
    close(rx);
    close(tx);
}

int main(void) {
    raise_nofile();
    signal(SIGPIPE, SIG_IGN);
    const char *ps = getenv("READER_TEST_PROFILE");
    uint32_t backends[2] = {ALPHACORE_READER_IO_URING, ALPHACORE_READER_EPOLL};
    const char *only = getenv("READER_TEST_BACKEND");
    unsigned seed = getenv("READER_WAITS_SEED") ? (unsigned)atoi(getenv("READER_WAITS_SEED")) : (unsigned)time(NULL);
    printf("seed %u (READER_WAITS_SEED)\n", seed);
    cpu_set_t start_mask;
    pthread_getaffinity_np(pthread_self(), sizeof start_mask, &start_mask);
    for (int b = 0; b < 2; b++) {
        if (only && strcmp(only, backend_name(backends[b])) != 0) continue;
        if (!ps || strcmp(ps, "spin") == 0) {
            test_spin_shares_cpu(backends[b]);
            pthread_setaffinity_np(pthread_self(), sizeof start_mask, &start_mask);
        }
        for (int p = 0; p < nprofiles; p++) {
            if (ps && strcmp(ps, profile_names[p]) != 0) continue;
            test_stalls(backends[b], profiles[p], seed + 1000u * (unsigned)p, 24);
            test_signals(backends[b], profiles[p]);
            test_idle_cost(backends[b], profiles[p]);
            test_datagrams(backends[b], profiles[p]);
        }
    }
    return check_summary("test_reader_waits");
}
