/* Channels through the C ABI: bad input, one process, two processes (every message checked),
 * laps with exact loss counts, backpressure with a dead consumer, a new producer's epoch. */
#include <alphacore.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "channel_util.h"
#include "check.h"

static void test_bad_input(void) {
    char name[96];
    chan_name(name, sizeof name, "bad");
    alphacore_channel *ch = (alphacore_channel *)0x1;
    alphacore_channel_opts o = ALPHACORE_CHANNEL_OPTS_INIT;
    CHECK_EQ_INT(alphacore_channel_create("a/b", NULL, &ch), -EINVAL);
    CHECK(ch == NULL);
    CHECK_EQ_INT(alphacore_channel_create("a..b", NULL, &ch), -EINVAL);
    CHECK(strstr(alphacore_last_detail(), "..") != NULL);
    CHECK_EQ_INT(alphacore_channel_create("..", NULL, &ch), -EINVAL);
    char longname[300];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK_EQ_INT(alphacore_channel_create(longname, NULL, &ch), -ENAMETOOLONG);
    longname[210] = 0;
    CHECK_EQ_INT(alphacore_channel_create(longname, NULL, &ch), -ENAMETOOLONG);
    CHECK_EQ_INT(alphacore_channel_create(NULL, NULL, &ch), -EINVAL);
    CHECK_EQ_INT(alphacore_channel_create(name, NULL, NULL), -EINVAL);
    o.capacity = 1000000;
    CHECK_EQ_INT(alphacore_channel_create(name, &o, &ch), -EINVAL);
    CHECK(strstr(alphacore_last_detail(), "power of two") != NULL);
    o.capacity = 2048;
    CHECK_EQ_INT(alphacore_channel_create(name, &o, &ch), -EINVAL);
    o.capacity = 4096; o.max_msg = 4096;
    CHECK_EQ_INT(alphacore_channel_create(name, &o, &ch), -EINVAL);
    o.max_msg = 0;
    CHECK_EQ_INT(alphacore_channel_create(name, &o, &ch), -EINVAL);
    o.max_msg = 64; o.flags = 1u << 9;
    CHECK_EQ_INT(alphacore_channel_create(name, &o, &ch), -EINVAL);
    o.flags = 0; o.reserved[2] = 1;
    CHECK_EQ_INT(alphacore_channel_create(name, &o, &ch), -EINVAL);
    o.reserved[2] = 0; o.struct_size = 2;
    CHECK_EQ_INT(alphacore_channel_create(name, &o, &ch), -EINVAL);
    o.struct_size = sizeof o;
    CHECK_EQ_INT(alphacore_channel_create(name, &o, &ch), 0);
    void *p = NULL;
    CHECK_EQ_INT(alphacore_channel_claim(ch, 65, &p), -EINVAL);
    CHECK(strstr(alphacore_last_detail(), "65") != NULL);
    CHECK_EQ_INT(alphacore_channel_claim(ch, (size_t)-1, &p), -EINVAL);
    CHECK_EQ_INT(alphacore_channel_claim(NULL, 8, &p), -EINVAL);
    CHECK_EQ_INT(alphacore_channel_claim(ch, 8, NULL), -EINVAL);
    CHECK_EQ_INT(alphacore_channel_commit(ch, p), -EINVAL);          /* nothing claimed */
    CHECK_EQ_INT(alphacore_channel_claim(ch, 8, &p), 0);
    CHECK_EQ_INT(alphacore_channel_claim(ch, 8, &p), -EBUSY);
    CHECK_EQ_INT(alphacore_channel_commit(ch, (char *)p + 8), -EINVAL); /* not the claim */
    CHECK_EQ_INT(alphacore_channel_commit(NULL, p), -EINVAL);
    CHECK_EQ_INT(alphacore_channel_commit(ch, p), 0);
    CHECK_EQ_INT(alphacore_channel_publish(ch, NULL, 4), -EINVAL);
    CHECK_EQ_INT(alphacore_channel_publish(ch, NULL, 0), 0);
    CHECK_EQ_INT(alphacore_channel_publish(NULL, "x", 1), -EINVAL);
    alphacore_channel *again = NULL;
    CHECK_EQ_INT(alphacore_channel_create(name, &o, &again), -EEXIST);   /* live producer */

    alphacore_channel_reader *rd = (alphacore_channel_reader *)0x1;
    alphacore_channel_msg m[4];
    CHECK_EQ_INT(alphacore_channel_open("x/y", NULL, &rd), -EINVAL);
    CHECK(rd == NULL);
    CHECK_EQ_INT(alphacore_channel_open(name, NULL, NULL), -EINVAL);
    alphacore_channel_reader_opts ro = ALPHACORE_CHANNEL_READER_OPTS_INIT;
    ro.flags = 1u << 20;
    CHECK_EQ_INT(alphacore_channel_open(name, &ro, &rd), -EINVAL);
    ro.flags = 0; ro.reserved[0] = 7;
    CHECK_EQ_INT(alphacore_channel_open(name, &ro, &rd), -EINVAL);
    CHECK_EQ_INT(alphacore_channel_poll(NULL, m, 4), -EINVAL);
    CHECK_EQ_INT(alphacore_channel_open(name, NULL, &rd), 0);
    CHECK_EQ_INT(alphacore_channel_poll(rd, NULL, 4), -EINVAL);
    CHECK_EQ_INT(alphacore_channel_poll(rd, m, 0), -EINVAL);
    CHECK_EQ_INT(alphacore_channel_poll_copy(rd, m, 4, NULL, 16), -EINVAL);
    CHECK_EQ_INT(alphacore_channel_reader_info(rd, NULL), -EINVAL);
    CHECK(alphacore_channel_reader_hist(rd) == NULL);
    CHECK(alphacore_channel_reader_hist(NULL) == NULL);
    CHECK_EQ_INT(alphacore_channel_wait(rd, -5), -EINVAL);
    CHECK_EQ_INT(alphacore_channel_wait(NULL, 0), -EINVAL);
    CHECK_EQ_INT(alphacore_channel_reader_check(NULL), -EINVAL);
    alphacore_channel_reader_close(rd);
    alphacore_channel_reader_close(NULL);
    alphacore_channel_destroy(ch);
    alphacore_channel_destroy(NULL);
    CHECK_EQ_INT(alphacore_channel_unlink(name), 0);
    CHECK_EQ_INT(alphacore_channel_unlink(name), -ENOENT);
    CHECK_EQ_INT(alphacore_channel_open(name, NULL, &rd), -ENOENT);
}

/* A region that is not a channel, and a channel of another layout version: -EPROTO. */
static void test_not_a_channel(void) {
    char name[96];
    chan_name(name, sizeof name, "proto");
    alphacore_region r;
    CHECK_EQ_INT(alphacore_mem_shared_create(name, 65536, NULL, &r), 0);
    alphacore_channel_reader *rd = NULL;
    CHECK_EQ_INT(alphacore_channel_open(name, NULL, &rd), -EPROTO);
    CHECK(rd == NULL);
    alphacore_channel *ch = NULL;
    alphacore_channel_opts o = ALPHACORE_CHANNEL_OPTS_INIT;
    o.capacity = 65536 - 8192;
    CHECK_EQ_INT(alphacore_channel_create(name, &o, &ch), -EINVAL);   /* not a power of two */
    o.capacity = 32768; o.max_msg = 64;
    CHECK_EQ_INT(alphacore_channel_create(name, &o, &ch), -EEXIST);   /* not a channel */
    alphacore_mem_free(&r);
    alphacore_mem_shared_unlink(name);

    chan_name(name, sizeof name, "ver");
    CHECK_EQ_INT(alphacore_channel_create(name, &o, &ch), 0);
    alphacore_region m;
    CHECK_EQ_INT(alphacore_mem_shared_open(name, NULL, &m), 0);
    uint32_t *version = (uint32_t *)((char *)m.addr + 8);
    uint32_t saved = *version;
    *version = saved + 1;
    CHECK_EQ_INT(alphacore_channel_open(name, NULL, &rd), -EPROTO);
    CHECK(strstr(alphacore_last_detail(), "version") != NULL);
    *version = saved;
    uint64_t *cap = (uint64_t *)((char *)m.addr + 16);
    *cap = 1u << 30;   /* larger than the mapping */
    CHECK_EQ_INT(alphacore_channel_open(name, NULL, &rd), -EPROTO);
    *cap = 32768;
    CHECK_EQ_INT(alphacore_channel_open(name, NULL, &rd), 0);
    alphacore_channel_reader_close(rd);
    alphacore_mem_free(&m);
    alphacore_channel_destroy(ch);
    alphacore_channel_unlink(name);
}

/* One process: publish, claim/commit, poll and poll_copy; every byte checked, wraps included. */
static void test_roundtrip(void) {
    char name[96];
    chan_name(name, sizeof name, "rt");
    alphacore_channel_opts o = ALPHACORE_CHANNEL_OPTS_INIT;
    o.capacity = 16384; o.max_msg = 1000;
    alphacore_channel *ch = NULL;
    alphacore_channel_reader *rd = NULL, *rc = NULL;
    CHECK_EQ_INT(alphacore_channel_create(name, &o, &ch), 0);
    alphacore_channel_reader_opts ro = ALPHACORE_CHANNEL_READER_OPTS_INIT;
    ro.flags = ALPHACORE_CHANNEL_READER_HIST;
    CHECK_EQ_INT(alphacore_channel_open(name, &ro, &rd), 0);
    CHECK_EQ_INT(alphacore_channel_open(name, NULL, &rc), 0);
    alphacore_channel_msg m[8];
    CHECK_EQ_INT(alphacore_channel_poll(rd, m, 8), 0);
    CHECK_EQ_INT(alphacore_channel_wait(rd, 0), 0);
    chan_tally a = {0}, b = {0};
    uint64_t t0 = alphacore_now_ns();
    for (uint64_t s = 1; s <= 5000; s++) {
        int rc1 = chan_publish_seq(ch, s, o.max_msg);
        if (rc1 != 0) { CHECK_EQ_INT(rc1, 0); break; }
        if (s % 3 == 0) {
            CHECK_EQ_INT(alphacore_channel_wait(rd, 1000000), 1);
            while (chan_consume(rd, &a, o.max_msg, 0) > 0) {}
            while (chan_consume(rc, &b, o.max_msg, 1) > 0) {}
        }
    }
    while (chan_consume(rd, &a, o.max_msg, 0) > 0) {}
    while (chan_consume(rc, &b, o.max_msg, 1) > 0) {}
    CHECK_EQ_INT(a.received, 5000);
    CHECK_EQ_INT(b.received, 5000);
    CHECK_EQ_INT(a.bad + a.order + a.lost + b.bad + b.order + b.lost, 0);
    CHECK_EQ_INT(a.last_seq, 5000);
    alphacore_hist *h = alphacore_channel_reader_hist(rd);
    CHECK(h != NULL);
    CHECK_EQ_INT(alphacore_hist_total_count(h), 5000);
    CHECK(alphacore_hist_max(h) <= (int64_t)(alphacore_now_ns() - t0));
    alphacore_channel_reader_details d = {.struct_size = sizeof d};
    CHECK_EQ_INT(alphacore_channel_reader_info(rd, &d), 0);
    CHECK_EQ_INT(d.messages, 5000);
    CHECK_EQ_INT(d.next_seq, 5001);
    CHECK_EQ_INT(d.producer_seq, 5000);
    CHECK_EQ_INT(d.producer_pid, getpid());
    CHECK_EQ_INT(d.producer_alive, 1);
    CHECK_EQ_INT(d.backlog_bytes, 0);
    CHECK_EQ_INT(d.capacity, 16384);
    CHECK(d.heartbeat_age_ns < 5000000000ull);
    /* A shorter (older) struct: only its fields are written. */
    struct { uint32_t struct_size, flags; uint64_t capacity; uint64_t canary; } small = {16, 0, 0, 77};
    CHECK_EQ_INT(alphacore_channel_reader_info(rd, (alphacore_channel_reader_details *)(void *)&small), 0);
    CHECK_EQ_INT(small.capacity, 16384);
    CHECK_EQ_INT(small.canary, 77);
    /* poll_copy with room for nothing but a zero-length message takes none. */
    CHECK_EQ_INT(chan_publish_seq(ch, 5001, o.max_msg), 0);
    char tiny[4];
    CHECK_EQ_INT(alphacore_channel_poll_copy(rc, m, 8, tiny, sizeof tiny), 0);
    CHECK_EQ_INT(chan_consume(rc, &b, o.max_msg, 1), 1);
    alphacore_channel_reader_close(rd);
    alphacore_channel_reader_close(rc);
    alphacore_channel_destroy(ch);
    alphacore_channel_unlink(name);
}

/* A reader that falls a lap behind: -EOVERFLOW once with the exact count, then the oldest
 * intact message, then everything. */
static void test_lap(void) {
    char name[96];
    chan_name(name, sizeof name, "lap");
    alphacore_channel_opts o = ALPHACORE_CHANNEL_OPTS_INIT;
    o.capacity = 8192; o.max_msg = 200;
    alphacore_channel *ch = NULL;
    alphacore_channel_reader *rd = NULL;
    CHECK_EQ_INT(alphacore_channel_create(name, &o, &ch), 0);
    CHECK_EQ_INT(alphacore_channel_open(name, NULL, &rd), 0);
    chan_tally t = {0};
    for (uint64_t s = 1; s <= 10; s++) chan_publish_seq(ch, s, o.max_msg);
    CHECK_EQ_INT(chan_consume(rd, &t, o.max_msg, 0), 10);
    for (uint64_t s = 11; s <= 1000; s++) chan_publish_seq(ch, s, o.max_msg);
    alphacore_channel_msg m[4];
    CHECK_EQ_INT(alphacore_channel_poll(rd, m, 4), -EOVERFLOW);
    alphacore_channel_reader_details d = {.struct_size = sizeof d};
    alphacore_channel_reader_info(rd, &d);
    CHECK(d.last_lost > 900 && d.last_lost < 990);
    CHECK_EQ_INT(d.overflows, 1);
    CHECK(strstr(alphacore_last_detail(), "lost") != NULL);
    CHECK_EQ_INT(alphacore_channel_poll(rd, m, 1), 1);
    CHECK_EQ_INT(m[0].seq, 11 + d.last_lost);           /* the oldest intact one */
    CHECK_EQ_INT(chan_verify(&m[0], o.max_msg), 0);
    t.last_seq = m[0].seq;
    t.received++;
    while (chan_consume(rd, &t, o.max_msg, 0) > 0) {}
    CHECK_EQ_INT(t.received + d.last_lost, 1000);
    CHECK_EQ_INT(t.bad + t.order, 0);
    CHECK_EQ_INT(t.last_seq, 1000);
    /* FROM_OLDEST: a late reader starts at the oldest intact message, no overflow. */
    alphacore_channel_reader_opts ro = ALPHACORE_CHANNEL_READER_OPTS_INIT;
    ro.flags = ALPHACORE_CHANNEL_READER_FROM_OLDEST;
    alphacore_channel_reader *late = NULL;
    CHECK_EQ_INT(alphacore_channel_open(name, &ro, &late), 0);
    chan_tally u = {0};
    while (chan_consume(late, &u, o.max_msg, 1) > 0) {}
    CHECK(u.received > 10 && u.received < 200);
    CHECK_EQ_INT(u.last_seq, 1000);
    CHECK_EQ_INT(u.overflows + u.bad + u.order, 0);
    alphacore_channel_reader_close(late);
    alphacore_channel_reader_close(rd);
    alphacore_channel_destroy(ch);
    alphacore_channel_unlink(name);
}

/* Two processes, broadcast: a consumer child checks every message and reports its tally. */
static void test_two_processes(uint32_t flags) {
    char name[96];
    chan_name(name, sizeof name, "2p");
    alphacore_channel_opts o = ALPHACORE_CHANNEL_OPTS_INIT;
    o.capacity = 1u << 16; o.max_msg = 256; o.flags = flags;
    alphacore_channel *ch = NULL;
    CHECK_EQ_INT(alphacore_channel_create(name, &o, &ch), 0);
    int pfd[2], rfd[2];
    if (pipe(pfd) != 0 || pipe(rfd) != 0) { CHECK(0); return; }
    const uint64_t total = 200000;
    pid_t pid = fork();
    if (pid == 0) {
        alphacore_channel_reader *rd = NULL;
        alphacore_channel_reader_opts ro = ALPHACORE_CHANNEL_READER_OPTS_INIT;
        ro.flags = ALPHACORE_CHANNEL_READER_SLEEP;
        int rc = alphacore_channel_open(name, &ro, &rd);
        char c = rc == 0 ? 'k' : 'x';
        if (write(rfd[1], &c, 1) != 1) _exit(3);
        if (rc != 0) _exit(2);
        chan_tally t = {0};
        while (t.last_seq < total) {
            if (alphacore_channel_wait(rd, 2000000000) != 1) break;
            if (chan_consume(rd, &t, o.max_msg, (t.received / 1000) % 2) < 0) break;
        }
        if (write(pfd[1], &t, sizeof t) != (ssize_t)sizeof t) _exit(3);
        alphacore_channel_reader_close(rd);
        _exit(0);
    }
    char c = 0;
    CHECK(read(rfd[0], &c, 1) == 1 && c == 'k');
    int fails = 0;
    for (uint64_t s = 1; s <= total; s++) {
        int rc = chan_publish_seq(ch, s, o.max_msg);
        if (rc != 0 && ++fails < 3) CHECK_EQ_INT(rc, 0);
    }
    chan_tally t = {0};
    CHECK(read(pfd[0], &t, sizeof t) == (ssize_t)sizeof t);
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK_EQ_INT(t.bad, 0);
    CHECK_EQ_INT(t.order, 0);
    CHECK_EQ_INT(t.received + t.lost, total);
    CHECK_EQ_INT(t.last_seq, total);
    if (flags & ALPHACORE_CHANNEL_BACKPRESSURE) CHECK_EQ_INT(t.lost, 0);
    CHECK_EQ_INT(t.proto, 0);
    fprintf(stderr, "two processes (%s): %llu received, %llu lost in %llu overflows, %llu rejected\n",
            flags ? "backpressure" : "broadcast", (unsigned long long)t.received,
            (unsigned long long)t.lost, (unsigned long long)t.overflows, (unsigned long long)t.proto);
    close(pfd[0]); close(pfd[1]); close(rfd[0]); close(rfd[1]);
    alphacore_channel_destroy(ch);
    alphacore_channel_unlink(name);
}

/* Backpressure: NONBLOCK refuses with -EAGAIN while the reader is a lap behind; a reader that
 * dies holding its registration stops counting. */
static void test_backpressure_dead_reader(void) {
    char name[96];
    chan_name(name, sizeof name, "bp");
    alphacore_channel_opts o = ALPHACORE_CHANNEL_OPTS_INIT;
    o.capacity = 8192; o.max_msg = 100;
    o.flags = ALPHACORE_CHANNEL_BACKPRESSURE | ALPHACORE_CHANNEL_NONBLOCK;
    alphacore_channel *ch = NULL;
    alphacore_channel_reader *rd = NULL;
    CHECK_EQ_INT(alphacore_channel_create(name, &o, &ch), 0);
    CHECK_EQ_INT(alphacore_channel_open(name, NULL, &rd), 0);
    alphacore_channel_reader_details d = {.struct_size = sizeof d};
    alphacore_channel_reader_info(rd, &d);
    CHECK_EQ_INT(d.registered, 1);
    uint64_t s = 1;
    int rc = 0;
    while ((rc = chan_publish_seq(ch, s, o.max_msg)) == 0) s++;
    CHECK_EQ_INT(rc, -EAGAIN);
    CHECK(s > 30);
    chan_tally t = {0};
    while (chan_consume(rd, &t, o.max_msg, 0) > 0) {}
    alphacore_channel_msg m[1];
    alphacore_channel_poll(rd, m, 1);   /* releases what the last batch held */
    CHECK_EQ_INT(t.received, s - 1);
    CHECK_EQ_INT(chan_publish_seq(ch, s, o.max_msg), 0);
    /* A child registers and dies without closing. */
    pid_t pid = fork();
    if (pid == 0) {
        alphacore_channel_reader *r2 = NULL;
        _exit(alphacore_channel_open(name, NULL, &r2) == 0 ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    uint64_t published = 0;
    for (int i = 0; i < 1000; i++) {
        if (chan_publish_seq(ch, ++s, o.max_msg) != 0) { s--; break; }
        published++;
        if (i % 8 == 0) while (chan_consume(rd, &t, o.max_msg, 0) > 0) {}
        alphacore_channel_poll(rd, m, 1);
    }
    CHECK_EQ_INT(published, 1000);   /* the dead registration did not hold the producer */
    /* A child registers and exits, and nobody has reaped it yet (a zombie: the producer may be
     * its parent, busy in claim): it holds nothing either. */
    pid = fork();
    if (pid == 0) {
        alphacore_channel_reader *r3 = NULL;
        _exit(alphacore_channel_open(name, NULL, &r3) == 0 ? 0 : 1);
    }
    siginfo_t si;
    memset(&si, 0, sizeof si);
    CHECK_EQ_INT(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);   /* exited, not reaped */
    CHECK_EQ_INT(si.si_status, 0);
    published = 0;
    for (int i = 0; i < 1000; i++) {
        if (chan_publish_seq(ch, ++s, o.max_msg) != 0) { s--; break; }
        published++;
        if (i % 8 == 0) while (chan_consume(rd, &t, o.max_msg, 0) > 0) {}
        alphacore_channel_poll(rd, m, 1);
    }
    CHECK_EQ_INT(published, 1000);
    waitpid(pid, &st, 0);
    alphacore_channel_reader_close(rd);
    alphacore_channel_destroy(ch);
    alphacore_channel_unlink(name);
}

/* The producer dies; readers see it gone; a new producer takes over with a new epoch. */
static void test_epoch(void) {
    char name[96];
    chan_name(name, sizeof name, "ep");
    alphacore_channel_opts o = ALPHACORE_CHANNEL_OPTS_INIT;
    o.capacity = 8192; o.max_msg = 100;
    pid_t pid = fork();
    if (pid == 0) {
        alphacore_channel *c = NULL;
        if (alphacore_channel_create(name, &o, &c) != 0) _exit(1);
        for (uint64_t s = 1; s <= 5; s++) chan_publish_seq(c, s, o.max_msg);
        raise(SIGKILL);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFSIGNALED(st));
    alphacore_channel_reader_opts ro = ALPHACORE_CHANNEL_READER_OPTS_INIT;
    ro.flags = ALPHACORE_CHANNEL_READER_FROM_OLDEST;
    alphacore_channel_reader *rd = NULL;
    CHECK_EQ_INT(alphacore_channel_open(name, &ro, &rd), 0);
    chan_tally t = {0};
    while (chan_consume(rd, &t, o.max_msg, 0) > 0) {}
    CHECK_EQ_INT(t.received, 5);
    alphacore_channel_reader_details d = {.struct_size = sizeof d};
    alphacore_channel_reader_info(rd, &d);
    CHECK_EQ_INT(d.producer_pid, pid);
    CHECK_EQ_INT(d.producer_alive, 0);
    CHECK_EQ_INT(d.epoch, 1);
    alphacore_channel_opts other = o;
    other.max_msg = 90;
    alphacore_channel *ch = NULL;
    CHECK_EQ_INT(alphacore_channel_create(name, &other, &ch), -EEXIST);   /* another geometry */
    CHECK_EQ_INT(alphacore_channel_create(name, &o, &ch), 0);             /* takes over */
    for (uint64_t s = 1; s <= 3; s++) chan_publish_seq(ch, s, o.max_msg);
    int got = 0, resets = 0;
    for (int i = 0; i < 200 && got < 3; i++) {
        int n = chan_consume(rd, &t, o.max_msg, 0);
        if (n > 0) got += n;
    }
    resets = (int)t.resets;
    CHECK_EQ_INT(resets, 1);
    CHECK_EQ_INT(got, 3);
    CHECK_EQ_INT(t.last_seq, 3);
    CHECK_EQ_INT(t.bad + t.order, 0);
    alphacore_channel_reader_info(rd, &d);
    CHECK_EQ_INT(d.epoch, 2);
    CHECK_EQ_INT(d.producer_alive, 1);
    CHECK_EQ_INT(d.epoch_changes, 1);
    alphacore_channel_reader_close(rd);
    alphacore_channel_destroy(ch);
    alphacore_channel_unlink(name);
}

int main(void) {
    check_capture_begin();
    test_bad_input();
    test_not_a_channel();
    test_roundtrip();
    test_lap();
    test_backpressure_dead_reader();
    test_epoch();
    CHECK_EQ_INT(check_capture_end(), 0);   /* the library printed nothing */
    test_two_processes(0);
    test_two_processes(ALPHACORE_CHANNEL_BACKPRESSURE);
    return check_summary("test_channel");
}
