/* A collector reads a feed with alphacore_reader and publishes each message it receives into a
 * channel; a consumer process reads the channel and prints publish-to-read percentiles.
 *   cc channel_pubsub.c $(pkg-config --cflags --libs alphacore) -o channel_pubsub && ./channel_pubsub */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <alphacore.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MSG 64
#define COUNT 20000

static int consume(const char *name) {
    alphacore_channel_reader_opts ro = ALPHACORE_CHANNEL_READER_OPTS_INIT;
    /* FROM_OLDEST: a consumer that opens late still starts at the first message */
    ro.flags = ALPHACORE_CHANNEL_READER_HIST | ALPHACORE_CHANNEL_READER_SLEEP | ALPHACORE_CHANNEL_READER_FROM_OLDEST;
    alphacore_channel_reader *rd;
    int rc = -1;
    for (int i = 0; i < 1000 && (rc = alphacore_channel_open(name, &ro, &rd)) != 0; i++) usleep(1000);
    if (rc != 0) {
        fprintf(stderr, "consumer: open: %s\n", alphacore_last_detail());
        return 2;
    }
    alphacore_channel_msg m[64];
    long got = 0;
    while (got < COUNT && alphacore_channel_wait(rd, 2000000000) == 1) {
        int n = alphacore_channel_poll(rd, m, 64);
        if (n > 0) got += n;
    }
    alphacore_channel_reader_details d = {.struct_size = sizeof d};
    alphacore_channel_reader_info(rd, &d);
    alphacore_hist *h = alphacore_channel_reader_hist(rd);
    printf("consumer: %ld messages, %llu lost; publish-to-read p50 %lld ns, p99 %lld ns, max %lld ns\n", got,
           (unsigned long long)d.lost, (long long)alphacore_hist_value_at_percentile(h, 50),
           (long long)alphacore_hist_value_at_percentile(h, 99), (long long)alphacore_hist_max(h));
    alphacore_channel_reader_close(rd);
    fflush(stdout);
    return got == COUNT && d.lost == 0 ? 0 : 3;   /* the demo fails if the channel lost anything */
}

int main(void) {
    char name[64];
    snprintf(name, sizeof name, "pubsub-%d", (int)getpid());
    alphacore_channel_opts o = ALPHACORE_CHANNEL_OPTS_INIT;
    o.max_msg = MSG;
    o.capacity = 4u << 20;   /* room for the whole feed (20000 records of 96 bytes): nothing is lapped */
    alphacore_channel *ch;
    if (alphacore_channel_create(name, &o, &ch) != 0) {
        fprintf(stderr, "channel: %s\n", alphacore_last_detail());
        return 1;
    }
    pid_t consumer = fork();
    if (consumer == 0) _exit(consume(name));
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pid_t feed = fork();
    if (feed == 0) {   /* the exchange: COUNT messages of 64 bytes */
        char msg[MSG] = {0};
        usleep(50000);
        for (int i = 0; i < COUNT; i++) {
            memcpy(msg, &i, sizeof i);
            if (write(sv[1], msg, MSG) != MSG) _exit(1);
            if (i % 100 == 0) usleep(100);
        }
        _exit(0);
    }
    close(sv[1]);
    alphacore_reader_opts ro = ALPHACORE_READER_OPTS_INIT;
    ro.framing = ALPHACORE_FRAME_FIXED;
    ro.frame_size = MSG;
    alphacore_reader *r;
    if (alphacore_reader_create(&ro, &r) != 0 || alphacore_reader_add(r, sv[0], 1) != 0) {
        fprintf(stderr, "reader: %s\n", alphacore_last_detail());
        return 1;
    }
    alphacore_completion c[64];
    long published = 0;
    for (int done = 0; !done;) {   /* the collector: publish what the reader receives */
        int n = alphacore_reader_poll(r, c, 64, 1, 0, 1000000000);
        if (n < 0) { fprintf(stderr, "reader poll: %s\n", alphacore_last_detail()); break; }
        if (n == 0) continue;
        for (int i = 0; i < n; i++) {
            if (c[i].result <= 0) { if (c[i].result < 0) fprintf(stderr, "feed: %s\n", alphacore_strerror(c[i].result)); done = 1; continue; }
            /* a completion may carry several whole 64-byte frames: one message each */
            for (int off = 0; off + MSG <= c[i].result; off += MSG)
                if (alphacore_channel_publish(ch, (const char *)c[i].data + off, MSG) == 0) published++;
        }
        alphacore_reader_release(r, c, (uint32_t)n);
    }
    printf("collector: %ld messages published\n", published);
    int fst = 0;
    waitpid(feed, &fst, 0);
    if (!WIFEXITED(fst) || WEXITSTATUS(fst) != 0) fprintf(stderr, "feed ended with status 0x%x\n", fst);
    int cst = 0;
    waitpid(consumer, &cst, 0);
    alphacore_reader_destroy(r);
    alphacore_channel_destroy(ch);
    alphacore_channel_unlink(name);
    return published == COUNT && WIFEXITED(cst) && WEXITSTATUS(cst) == 0 ? 0 : 1;
}
