/* Helpers for the channel tests: unique names, a self-checking payload, a verifying consumer. */
#ifndef ALPHACORE_TEST_CHANNEL_UTIL_H
#define ALPHACORE_TEST_CHANNEL_UTIL_H
#include <alphacore.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* /dev/shm names unique per run and call: pid + random + a counter. */
static inline void chan_name(char *buf, size_t cap, const char *what) {
    static unsigned counter;
    static unsigned salt;
    if (!salt) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        salt = (unsigned)ts.tv_nsec ^ (unsigned)getpid() * 2654435761u;
    }
    snprintf(buf, cap, "tch-%s-%d-%08x-%u", what, (int)getpid(), salt, counter++);
}

/* Message `seq`: 8 bytes of seq, then (seq + i) bytes; length varies with seq. */
static inline uint32_t chan_len(uint64_t seq, uint32_t max_msg) {
    return 8u + (uint32_t)((seq * 7919u) % (uint64_t)(max_msg - 7u));
}

static inline void chan_fill(unsigned char *p, uint64_t seq, uint32_t len) {
    memcpy(p, &seq, 8);
    for (uint32_t i = 8; i < len; i++) p[i] = (unsigned char)(seq + i);
}

/* 0 if msg is exactly message `seq` of the pattern. */
static inline int chan_verify(const alphacore_channel_msg *m, uint32_t max_msg) {
    uint64_t s;
    if (m->len < 8 || m->len > max_msg) return -1;
    memcpy(&s, m->data, 8);
    if (s != m->seq) return -2;
    if (m->len != chan_len(s, max_msg)) return -3;
    const unsigned char *p = (const unsigned char *)m->data;
    for (uint32_t i = 8; i < m->len; i++)
        if (p[i] != (unsigned char)(s + i)) return -4;
    return 0;
}

static inline int chan_publish_seq(alphacore_channel *ch, uint64_t seq, uint32_t max_msg) {
    void *p = NULL;
    uint32_t len = chan_len(seq, max_msg);
    int rc = alphacore_channel_claim(ch, len, &p);
    if (rc != 0) return rc;
    chan_fill((unsigned char *)p, seq, len);
    return alphacore_channel_commit(ch, p);
}

/* A verifying consumer's tally. Rules: within an epoch, seqs go up by exactly 1, except right
 * after -EOVERFLOW, where the jump is exactly last_lost; after -ECONNRESET the next seq is 1. */
typedef struct chan_tally {
    uint64_t received, lost, overflows, resets, bad, order, proto, last_seq;
    int after_reset;
} chan_tally;

static inline int chan_consume(alphacore_channel_reader *rd, chan_tally *t, uint32_t max_msg, int copy) {
    alphacore_channel_msg msgs[64];
    static unsigned char buf[64 * 4096];
    int n = copy ? alphacore_channel_poll_copy(rd, msgs, 64, buf, sizeof buf)
                 : alphacore_channel_poll(rd, msgs, 64);
    if (n == -EOVERFLOW) {
        alphacore_channel_reader_details d = {.struct_size = sizeof d};
        alphacore_channel_reader_info(rd, &d);
        t->overflows++;
        t->lost += d.last_lost;
        if (t->after_reset) { t->last_seq = d.last_lost; t->after_reset = 0; }   /* next: 1 + lost */
        else if (t->last_seq) t->last_seq += d.last_lost;
        return 0;
    }
    if (n == -ECONNRESET) { t->resets++; t->last_seq = 0; t->after_reset = 1; return 0; }
    if (n == -EPROTO) { t->proto++; t->last_seq = 0; return 0; }
    if (n < 0) return n;
    uint64_t bad = 0;
    for (int i = 0; i < n; i++) {
        if (chan_verify(&msgs[i], max_msg) != 0) bad++;
        if ((t->after_reset && msgs[i].seq != 1) ||
            (!t->after_reset && t->last_seq && msgs[i].seq != t->last_seq + 1)) {
            t->order++;
            if (getenv("CHANNEL_TEST_VERBOSE"))
                fprintf(stderr, "order: after seq %llu (reset %d) came %llu\n", (unsigned long long)t->last_seq,
                        t->after_reset, (unsigned long long)msgs[i].seq);
        }
        t->after_reset = 0;
        t->last_seq = msgs[i].seq;
        t->received++;
    }
    /* Zero-copy: a batch overwritten while we verified it does not count against us. */
    if (copy || alphacore_channel_reader_check(rd) == 0) t->bad += bad;
    return n;
}
#endif
