/* Channels under SIGKILL (bounded: about 3 s). A producer process and two consumer processes;
 * the parent kills one of them at a random moment, again and again, and starts it anew.
 * Consumers check every message (payload pattern, seq order; every seq jump must equal the
 * loss reported by -EOVERFLOW) and add what they see to counters in shared memory. At the end:
 * no torn or out-of-order message, restarted producers were picked up (-ECONNRESET, then
 * messages of the new epoch), and in backpressure mode a killed consumer never stalls the
 * producer. */
#include <alphacore.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "channel_util.h"
#include "check.h"

#define MAXMSG 200u

typedef struct {
    _Atomic uint64_t received, bad, order, resets, overflows, lost, published, proto;
} totals;

static totals *tot;
static char name[96];
static uint32_t chflags;

static void producer(void) {
    alphacore_channel_opts o = ALPHACORE_CHANNEL_OPTS_INIT;
    o.capacity = 1u << 16; o.max_msg = MAXMSG; o.flags = chflags;
    alphacore_channel *ch = NULL;
    for (int i = 0; i < 2000 && alphacore_channel_create(name, &o, &ch) != 0; i++) usleep(1000);
    if (!ch) _exit(2);
    for (uint64_t s = 1;; s++) {
        int rc;
        while ((rc = chan_publish_seq(ch, s, MAXMSG)) == -EAGAIN) usleep(10);
        if (rc != 0) _exit(3);
        atomic_fetch_add(&tot->published, 1);
        if (s % 64 == 0) usleep(50);
    }
}

static void consumer(void) {
    alphacore_channel_reader *rd = NULL;
    for (int i = 0; i < 2000 && alphacore_channel_open(name, NULL, &rd) != 0; i++) usleep(1000);
    if (!rd) _exit(2);
    chan_tally t = {0}, last = {0};
    for (;;) {
        if (chan_consume(rd, &t, MAXMSG, (t.received / 500) % 2) == 0) usleep(20);
        /* publish deltas so that a kill loses nothing already counted */
        atomic_fetch_add(&tot->received, t.received - last.received);
        atomic_fetch_add(&tot->bad, t.bad - last.bad);
        atomic_fetch_add(&tot->order, t.order - last.order);
        atomic_fetch_add(&tot->resets, t.resets - last.resets);
        atomic_fetch_add(&tot->overflows, t.overflows - last.overflows);
        atomic_fetch_add(&tot->lost, t.lost - last.lost);
        atomic_fetch_add(&tot->proto, t.proto - last.proto);
        last = t;
    }
}

static pid_t start(void (*fn)(void)) {
    pid_t p = fork();
    if (p == 0) { fn(); _exit(0); }
    return p;
}

static void kill_wait(pid_t p) {
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
}

/* Whether *c grows past `before` within `ms` milliseconds. A stall never ends, but a process
 * of this test may wait seconds for a CPU while other tests load the machine. */
static int grows(_Atomic uint64_t *c, uint64_t before, int ms) {
    for (int i = 0; i < ms && atomic_load(c) <= before; i++) usleep(1000);
    return atomic_load(c) > before;
}

static void run(uint32_t flags, int iterations, int kill_producer) {
    chflags = flags;
    chan_name(name, sizeof name, flags ? "crash-bp" : "crash");
    memset(tot, 0, sizeof *tot);
    pid_t prod = start(producer), cons[2] = {start(consumer), start(consumer)};
    int producer_kills = 0;
    for (int i = 0; i < iterations; i++) {
        usleep(20000 + (useconds_t)(rand() % 60000));
        int victim = kill_producer ? rand() % 3 : 1 + rand() % 2;
        uint64_t before = atomic_load(&tot->published);
        if (victim == 0) { kill_wait(prod); prod = start(producer); producer_kills++; }
        else { kill_wait(cons[victim - 1]); cons[victim - 1] = start(consumer); }
        if (flags && victim != 0) {
            /* The dead consumer must not hold the producer: it keeps publishing. */
            CHECK(grows(&tot->published, before, 3000));
        }
    }
    CHECK(grows(&tot->received, atomic_load(&tot->received), 3000));   /* the last producer is read */
    kill_wait(prod);
    kill_wait(cons[0]);
    kill_wait(cons[1]);
    CHECK_EQ_INT(atomic_load(&tot->bad), 0);
    CHECK_EQ_INT(atomic_load(&tot->order), 0);
    CHECK_EQ_INT(atomic_load(&tot->proto), 0);
    if (flags) CHECK_EQ_INT(atomic_load(&tot->lost), 0);   /* backpressure: a registered reader loses nothing */
    if (producer_kills > 0) CHECK(atomic_load(&tot->resets) >= 1);
    fprintf(stderr, "crash loop (%s): %d iterations, %d producer kills; consumers received %llu, "
            "lost %llu in %llu overflows, %llu epoch changes seen\n", flags ? "backpressure" : "broadcast",
            iterations, producer_kills, (unsigned long long)atomic_load(&tot->received),
            (unsigned long long)atomic_load(&tot->lost), (unsigned long long)atomic_load(&tot->overflows),
            (unsigned long long)atomic_load(&tot->resets));
    alphacore_channel_unlink(name);
}

/* A producer killed at a random moment while it creates the channel leaves either nothing or
 * a whole channel under the name: the next producer always creates it or takes it over. */
static void killed_while_creating(void) {
    int made = 0, refused = 0;
    for (int i = 0; i < 40; i++) {
        chan_name(name, sizeof name, "mk");
        pid_t p = fork();
        if (p == 0) {
            alphacore_channel_opts o = ALPHACORE_CHANNEL_OPTS_INIT;
            o.capacity = 1u << 16; o.max_msg = MAXMSG;
            alphacore_channel *ch = NULL;
            _exit(alphacore_channel_create(name, &o, &ch) == 0 ? 0 : 1);
        }
        usleep((useconds_t)(rand() % 1500));
        kill_wait(p);
        alphacore_channel_opts o = ALPHACORE_CHANNEL_OPTS_INIT;
        o.capacity = 1u << 16; o.max_msg = MAXMSG;
        alphacore_channel *ch = NULL;
        int rc = alphacore_channel_create(name, &o, &ch);
        if (rc != 0) {
            refused++;
            fprintf(stderr, "after a producer killed while creating: %d (%s)\n", rc, alphacore_last_detail());
        } else {
            made++;
            CHECK_EQ_INT(chan_publish_seq(ch, 1, MAXMSG), 0);
            alphacore_channel_destroy(ch);
        }
        alphacore_channel_unlink(name);
    }
    CHECK_EQ_INT(refused, 0);
    CHECK_EQ_INT(made, 40);
}

int main(void) {
    srand((unsigned)getpid());
    tot = mmap(NULL, sizeof *tot, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (tot == MAP_FAILED) return 1;
    run(0, 20, 1);
    run(ALPHACORE_CHANNEL_BACKPRESSURE, 8, 0);
    killed_while_creating();
    return check_summary("test_channel_crash");
}
