/* The channel reader's latency histogram in the metrics registry, and NO_TIME channels, through
 * the C ABI: the histogram alphacore_channel_reader_hist returns is registered like any other
 * (alphacore_metrics_add_hist), filled by poll, exported in text, OpenMetrics and protobuf, and
 * removed before the reader closes. A NO_TIME channel hands out ts 0 and refuses READER_HIST. */
#include <alphacore.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "channel_util.h"
#include "check.h"

static char out[1 << 18];

static void test_reader_hist_exported(void) {
    char name[96];
    chan_name(name, sizeof name, "met");
    alphacore_channel_opts o = ALPHACORE_CHANNEL_OPTS_INIT;
    o.capacity = 1u << 16; o.max_msg = 256;
    alphacore_channel *ch = NULL;
    CHECK_EQ_INT(alphacore_channel_create(name, &o, &ch), 0);
    alphacore_channel_reader_opts ro = ALPHACORE_CHANNEL_READER_OPTS_INIT;
    ro.flags = ALPHACORE_CHANNEL_READER_HIST;
    alphacore_channel_reader *rd = NULL;
    CHECK_EQ_INT(alphacore_channel_open(name, &ro, &rd), 0);
    alphacore_hist *h = alphacore_channel_reader_hist(rd);
    CHECK(h != NULL);
    alphacore_metrics *reg = NULL;
    CHECK_EQ_INT(alphacore_metrics_create(&reg), 0);
    CHECK_EQ_INT(alphacore_metrics_add_hist(reg, "alphacore_channel_publish_to_poll", "Publish-to-poll latency.",
                                            NULL, "channel=\"feed\"", h, NULL), 0);
    /* Before any message: an empty histogram. */
    int64_t n = alphacore_metrics_write(reg, ALPHACORE_METRICS_TEXT, out, sizeof out);
    CHECK(n > 0 && n < (int64_t)sizeof out);
    CHECK(strstr(out, "alphacore_channel_publish_to_poll_seconds_count{channel=\"feed\"} 0") != NULL);
    chan_tally t = {0};
    for (uint64_t s = 1; s <= 1000; s++) {
        CHECK_EQ_INT(chan_publish_seq(ch, s, o.max_msg), 0);
        if (s % 10 == 0) while (chan_consume(rd, &t, o.max_msg, 0) > 0) {}
    }
    CHECK_EQ_INT(t.received, 1000);
    CHECK_EQ_INT(t.bad + t.order + t.lost, 0);
    CHECK_EQ_INT(alphacore_hist_total_count(h), 1000);
    n = alphacore_metrics_write(reg, ALPHACORE_METRICS_TEXT, out, sizeof out);
    CHECK(n > 0 && n < (int64_t)sizeof out);
    CHECK(strstr(out, "# TYPE alphacore_channel_publish_to_poll_seconds histogram") != NULL);
    CHECK(strstr(out, "alphacore_channel_publish_to_poll_seconds_count{channel=\"feed\"} 1000") != NULL);
    CHECK(strstr(out, "alphacore_channel_publish_to_poll_seconds_bucket{channel=\"feed\",le=\"+Inf\"} 1000") != NULL);
    n = alphacore_metrics_write(reg, ALPHACORE_METRICS_OPENMETRICS, out, sizeof out);
    CHECK(n > 0 && strstr(out, "alphacore_channel_publish_to_poll_seconds_count{channel=\"feed\"} 1000") != NULL);
    CHECK(n > 0 && strstr(out, "# EOF") != NULL);
    n = alphacore_metrics_write(reg, ALPHACORE_METRICS_PROTOBUF, out, sizeof out);
    CHECK(n > 0 && memmem(out, (size_t)n, "alphacore_channel_publish_to_poll_seconds", 41) != NULL);
    /* More messages after the scrape: the next scrape sees them (the registry reads the live
     * histogram, not a copy). */
    for (uint64_t s = 1001; s <= 1100; s++) CHECK_EQ_INT(chan_publish_seq(ch, s, o.max_msg), 0);
    while (chan_consume(rd, &t, o.max_msg, 1) > 0) {}
    CHECK_EQ_INT(t.received, 1100);
    n = alphacore_metrics_write(reg, ALPHACORE_METRICS_TEXT, out, sizeof out);
    CHECK(strstr(out, "alphacore_channel_publish_to_poll_seconds_count{channel=\"feed\"} 1100") != NULL);
    /* Remove before closing the reader (its histogram goes with it). */
    CHECK_EQ_INT(alphacore_metrics_remove(reg, h), 1);
    n = alphacore_metrics_write(reg, ALPHACORE_METRICS_TEXT, out, sizeof out);
    CHECK(n >= 0 && strstr(out, "alphacore_channel_publish_to_poll") == NULL);
    alphacore_channel_reader_close(rd);
    alphacore_metrics_destroy(reg);
    alphacore_channel_destroy(ch);
    CHECK_EQ_INT(alphacore_channel_unlink(name), 0);
}

static void test_no_time(void) {
    char name[96];
    chan_name(name, sizeof name, "nt");
    alphacore_channel_opts o = ALPHACORE_CHANNEL_OPTS_INIT;
    o.capacity = 1u << 14; o.max_msg = 100;
    o.flags = ALPHACORE_CHANNEL_NO_TIME | ALPHACORE_CHANNEL_CYCLES;
    alphacore_channel *ch = NULL;
    CHECK_EQ_INT(alphacore_channel_create(name, &o, &ch), -EINVAL);
    CHECK(strstr(alphacore_last_detail(), "NO_TIME") != NULL);
    CHECK(ch == NULL);
    o.flags = ALPHACORE_CHANNEL_NO_TIME;
    CHECK_EQ_INT(alphacore_channel_create(name, &o, &ch), 0);
    alphacore_channel_reader_opts ro = ALPHACORE_CHANNEL_READER_OPTS_INIT;
    ro.flags = ALPHACORE_CHANNEL_READER_HIST;
    alphacore_channel_reader *rd = NULL;
    CHECK_EQ_INT(alphacore_channel_open(name, &ro, &rd), -EINVAL);
    CHECK(strstr(alphacore_last_detail(), "no publish times") != NULL);
    CHECK(rd == NULL);
    CHECK_EQ_INT(alphacore_channel_open(name, NULL, &rd), 0);
    /* Three laps of a small ring: every message intact, in order, ts 0. */
    chan_tally t = {0};
    uint64_t nonzero_ts = 0;
    for (uint64_t s = 1; s <= 3000; s++) {
        CHECK_EQ_INT(chan_publish_seq(ch, s, o.max_msg), 0);
        alphacore_channel_msg m[64];
        int k = alphacore_channel_poll(rd, m, 64);
        for (int i = 0; i < k; i++) {
            if (m[i].ts != 0) nonzero_ts++;
            if (chan_verify(&m[i], o.max_msg) != 0) t.bad++;
            if (m[i].seq != t.last_seq + 1) t.order++;
            t.last_seq = m[i].seq;
            t.received++;
        }
        CHECK(k >= 0);
    }
    CHECK_EQ_INT(t.received, 3000);
    CHECK_EQ_INT(t.bad + t.order + nonzero_ts, 0);
    alphacore_channel_reader_details d = {.struct_size = sizeof d};
    CHECK_EQ_INT(alphacore_channel_reader_info(rd, &d), 0);
    CHECK_EQ_INT(d.flags & ALPHACORE_CHANNEL_NO_TIME, ALPHACORE_CHANNEL_NO_TIME);
    CHECK_EQ_INT(d.producer_seq, 3000);
    alphacore_channel_reader_close(rd);
    alphacore_channel_destroy(ch);
    CHECK_EQ_INT(alphacore_channel_unlink(name), 0);
}

int main(void) {
    test_reader_hist_exported();
    test_no_time();
    return check_summary("test_channel_metrics");
}
