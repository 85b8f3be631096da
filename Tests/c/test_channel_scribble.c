/* A scribbler process writes random bytes over a channel's shared header and ring (through its
 * own mapping of the region) while a producer publishes and two consumers poll (bounded: about
 * 1.5 s). The consumers must not crash or read outside the ring: every message they are handed
 * has a length within max_msg and is read in full; damaged structure is reported as an error
 * (-EPROTO, -EOVERFLOW, -ECONNRESET) instead of data. Payload bytes themselves carry no
 * checksum, so a scribble inside a payload is delivered as it is (counted, not failed).
 * CHANNEL_SCRIBBLE_SECONDS sets the time (the valgrind run uses a shorter one). */
#include <alphacore.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "channel_util.h"
#include "check.h"

#define MAXMSG 256u

typedef struct { _Atomic uint64_t messages, errors, mismatched, oversize, polls; } totals;

static double seconds(void) {
    const char *e = getenv("CHANNEL_SCRIBBLE_SECONDS");
    double s = e ? atof(e) : 1.5;
    return s > 0 && s < 30 ? s : 1.5;
}

static uint64_t now_ns(void) { return alphacore_now_ns(); }

int main(void) {
    char name[96];
    chan_name(name, sizeof name, "scribble");
    totals *tot = mmap(NULL, sizeof *tot, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (tot == MAP_FAILED) return 1;
    memset(tot, 0, sizeof *tot);
    alphacore_channel_opts o = ALPHACORE_CHANNEL_OPTS_INIT;
    o.capacity = 1u << 15; o.max_msg = MAXMSG;
    alphacore_channel *ch = NULL;
    CHECK_EQ_INT(alphacore_channel_create(name, &o, &ch), 0);
    if (!ch) return check_summary("test_channel_scribble");
    uint64_t end = now_ns() + (uint64_t)(seconds() * 1e9);
    pid_t kids[3];
    for (int k = 0; k < 2; k++) {
        if ((kids[k] = fork()) == 0) {
            alphacore_channel_reader *rd = NULL;
            if (alphacore_channel_open(name, NULL, &rd) != 0) _exit(2);
            alphacore_channel_msg m[32];
            static unsigned char buf[32 * MAXMSG];
            volatile unsigned sink = 0;
            while (now_ns() < end + 200000000ull) {
                int n = k ? alphacore_channel_poll_copy(rd, m, 32, buf, sizeof buf) : alphacore_channel_poll(rd, m, 32);
                atomic_fetch_add(&tot->polls, 1);
                if (n < 0) { atomic_fetch_add(&tot->errors, 1); continue; }
                for (int i = 0; i < n; i++) {
                    if (m[i].len > MAXMSG) { atomic_fetch_add(&tot->oversize, 1); continue; }
                    const unsigned char *p = (const unsigned char *)m[i].data;
                    for (uint32_t b = 0; b < m[i].len; b++) sink += p[b];   /* every byte is read */
                    if (chan_verify(&m[i], MAXMSG) != 0) atomic_fetch_add(&tot->mismatched, 1);
                }
                atomic_fetch_add(&tot->messages, (uint64_t)n);
                if (n == 0) usleep(10);
            }
            alphacore_channel_reader_close(rd);
            _exit(0);
        }
    }
    if ((kids[2] = fork()) == 0) {
        alphacore_region r;
        if (alphacore_mem_shared_open(name, NULL, &r) != 0) _exit(2);
        unsigned char *base = r.addr;
        size_t header = 8192, span = header + o.capacity;
        unsigned seed = (unsigned)getpid();
        usleep(100000);   /* let clean traffic flow first */
        while (now_ns() < end) {
            size_t at;
            int where = rand_r(&seed) % 4;
            if (where == 0) at = (size_t)rand_r(&seed) % 512;                    /* header lines */
            else if (where == 1) at = 4096 + (size_t)rand_r(&seed) % 4096;       /* reader slots */
            else at = header + (size_t)rand_r(&seed) % o.capacity;               /* the ring */
            size_t len = 1 + (size_t)rand_r(&seed) % 16;
            for (size_t i = 0; i < len && at + i < span; i++) base[at + i] = (unsigned char)rand_r(&seed);
            usleep(200);
        }
        _exit(0);
    }
    uint64_t s = 1;
    while (now_ns() < end) {
        if (chan_publish_seq(ch, s++, MAXMSG) != 0) CHECK(!"publish failed");
        if (s % 16 == 0) usleep(20);
    }
    for (int k = 0; k < 3; k++) {
        int st = 0;
        waitpid(kids[k], &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);   /* no crash, no signal */
        if (!WIFEXITED(st)) fprintf(stderr, "child %d: status 0x%x\n", k, st);
    }
    CHECK_EQ_INT(atomic_load(&tot->oversize), 0);
    CHECK(atomic_load(&tot->messages) > 1000);
    CHECK(atomic_load(&tot->errors) > 0);   /* the damage was reported */
    fprintf(stderr, "scribble: %llu polls, %llu messages, %llu errors reported, %llu payloads altered\n",
            (unsigned long long)atomic_load(&tot->polls), (unsigned long long)atomic_load(&tot->messages),
            (unsigned long long)atomic_load(&tot->errors), (unsigned long long)atomic_load(&tot->mismatched));
    alphacore_channel_destroy(ch);
    alphacore_channel_unlink(name);
    return check_summary("test_channel_scribble");
}
