/* The metrics registry through the C ABI: registration rules, text / OpenMetrics / protobuf
 * output of known data, snprintf-style buffers, slots, recorders, removal, bad handles. */
#include <alphacore.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include "check.h"

static char out[1 << 20];

static int64_t write_fmt(alphacore_metrics *m, int fmt) {
    int64_t n = alphacore_metrics_write(m, fmt, out, sizeof out);
    CHECK(n > 0 && n < (int64_t)sizeof out);
    return n;
}

static int contains(const char *needle) { return strstr(out, needle) != NULL; }

static void test_names(alphacore_metrics *m, alphacore_hist *h) {
    CHECK_EQ_INT(alphacore_metrics_add_hist(m, "9lat", "x", NULL, NULL, h, NULL), -EINVAL);
    CHECK(strstr(alphacore_last_detail(), "'9' at byte 0") != NULL);
    CHECK_EQ_INT(alphacore_metrics_add_hist(m, "lat-x", "x", NULL, NULL, h, NULL), -EINVAL);
    CHECK(strstr(alphacore_last_detail(), "'-' at byte 3") != NULL);
    CHECK_EQ_INT(alphacore_metrics_add_hist(m, "lat", "x", "Sec", NULL, h, NULL), -EINVAL);
    CHECK(strstr(alphacore_last_detail(), "'S'") != NULL);
    CHECK_EQ_INT(alphacore_metrics_add_hist(m, "lat", "x", NULL, "venue=\"XNAS", h, NULL), -EINVAL);
    CHECK(strstr(alphacore_last_detail(), "closing") != NULL);
    CHECK_EQ_INT(alphacore_metrics_add_hist(m, "lat", "x", NULL, "ve.nue=\"X\"", h, NULL), -EINVAL);
    CHECK(strstr(alphacore_last_detail(), "'.' at byte 2") != NULL);
    CHECK_EQ_INT(alphacore_metrics_add_hist(m, "lat", "x", NULL, "__x=\"X\"", h, NULL), -EINVAL);
    CHECK_EQ_INT(alphacore_metrics_add_hist(m, "lat", "x", NULL, "le=\"1\"", h, NULL), -EINVAL);
    CHECK_EQ_INT(alphacore_metrics_add_hist(m, "lat", "x", NULL, "a=\"1\",a=\"2\"", h, NULL), -EINVAL);
    CHECK_EQ_INT(alphacore_metrics_add_hist(m, "lat", "x", NULL, "a=1", h, NULL), -EINVAL);
    CHECK_EQ_INT(alphacore_metrics_add_hist(m, NULL, "x", NULL, NULL, h, NULL), -EINVAL);
    CHECK_EQ_INT(alphacore_metrics_add_hist(m, "lat", "x", NULL, NULL, NULL, NULL), -EINVAL);
    /* An unterminated name: strnlen stops at the documented limit. */
    char *big = malloc(8192);
    memset(big, 'a', 8192);
    CHECK_EQ_INT(alphacore_metrics_add_hist(m, big, "x", NULL, NULL, h, NULL), -EINVAL);
    free(big);
    alphacore_metric_opts o = ALPHACORE_METRIC_OPTS_INIT;
    o.schema = 9;
    CHECK_EQ_INT(alphacore_metrics_add_hist(m, "lat", "x", NULL, NULL, h, &o), -EINVAL);
    double bad[] = {1e-3, 1e-4};
    o.schema = 3; o.bounds = bad; o.bound_count = 2;
    CHECK_EQ_INT(alphacore_metrics_add_hist(m, "lat", "x", NULL, NULL, h, &o), -EINVAL);
    o.bounds = NULL;
    CHECK_EQ_INT(alphacore_metrics_add_hist(m, "lat", "x", NULL, NULL, h, &o), -EINVAL);
    o.bound_count = 0; o.reserved[2] = 1;
    CHECK_EQ_INT(alphacore_metrics_add_hist(m, "lat", "x", NULL, NULL, h, &o), -EINVAL);
}

static void test_hist_text(void) {
    alphacore_metrics *m = NULL;
    CHECK_EQ_INT(alphacore_metrics_create(&m), 0);
    alphacore_hist *h = NULL;
    CHECK_EQ_INT(alphacore_hist_create(1, 3600000000000LL, 3, &h), 0);
    test_names(m, h);
    /* 10 values of 1 us (exactly on the first bound), 5 of 3 ms, 1 of 20 s. */
    for (int i = 0; i < 10; i++) alphacore_hist_record(h, 1000);
    for (int i = 0; i < 5; i++) alphacore_hist_record(h, 3000000);
    alphacore_hist_record(h, 20000000000LL);
    CHECK_EQ_INT(alphacore_metrics_add_hist(m, "order_latency", "Order to ack \"latency\".\nSecond line.", NULL,
                                            "venue=\"XNAS\",feed=\"A\\\"q\\\\\"", h, NULL), 0);
    CHECK_EQ_INT(alphacore_metrics_add_hist(m, "order_latency", "Order to ack \"latency\".\nSecond line.", NULL,
                                            "venue=\"XNAS\",feed=\"A\\\"q\\\\\"", h, NULL), -EEXIST);
    CHECK_EQ_INT(alphacore_metrics_add_hist(m, "order_latency_seconds", "other help", NULL, "venue=\"B\"", h, NULL), -EINVAL);
    write_fmt(m, ALPHACORE_METRICS_TEXT);
    CHECK(contains("# HELP order_latency_seconds Order to ack \"latency\".\\nSecond line.\n"));
    CHECK(contains("# TYPE order_latency_seconds histogram\n"));
    CHECK(contains("order_latency_seconds_bucket{venue=\"XNAS\",feed=\"A\\\"q\\\\\",le=\"1e-06\"} 10\n"));
    CHECK(contains("order_latency_seconds_bucket{venue=\"XNAS\",feed=\"A\\\"q\\\\\",le=\"0.002\"} 10\n"));
    CHECK(contains(",le=\"0.0002\"} 10\n"));   /* the ladder's bounds are exact decimals */
    CHECK(contains("order_latency_seconds_bucket{venue=\"XNAS\",feed=\"A\\\"q\\\\\",le=\"0.005\"} 15\n"));
    CHECK(contains("order_latency_seconds_bucket{venue=\"XNAS\",feed=\"A\\\"q\\\\\",le=\"10\"} 15\n"));
    CHECK(contains("order_latency_seconds_bucket{venue=\"XNAS\",feed=\"A\\\"q\\\\\",le=\"+Inf\"} 16\n"));
    CHECK(contains("order_latency_seconds_count{venue=\"XNAS\",feed=\"A\\\"q\\\\\"} 16\n"));
    const char *sum = strstr(out, "order_latency_seconds_sum{");
    CHECK(sum != NULL);
    if (sum) {
        double s = strtod(strchr(sum, '}') + 2, NULL);
        double want = 10 * 1e-6 + 5 * 3e-3 + 20.0;
        CHECK(s > want * 0.999 && s < want * 1.001);
    }
    /* OpenMetrics: unit, _created, # EOF last. */
    int64_t n = write_fmt(m, ALPHACORE_METRICS_OPENMETRICS);
    CHECK(contains("# UNIT order_latency_seconds seconds\n"));
    CHECK(contains("order_latency_seconds_created{venue="));
    CHECK(n > 6 && strcmp(out + n - 6, "# EOF\n") == 0);
    /* snprintf-style: a short buffer gets a prefix and a NUL, nothing beyond cap. */
    char small[64];
    memset(small, 'Z', sizeof small);
    int64_t full = alphacore_metrics_write(m, ALPHACORE_METRICS_TEXT, small, 32);
    CHECK(full > 32);
    CHECK(small[31] == 0 && small[32] == 'Z' && strlen(small) == 31);
    CHECK_EQ_INT(alphacore_metrics_write(m, ALPHACORE_METRICS_TEXT, NULL, 0), full);
    CHECK_EQ_INT(alphacore_metrics_write(m, ALPHACORE_METRICS_TEXT, NULL, 10), -EINVAL);
    CHECK_EQ_INT(alphacore_metrics_write(m, 7, out, sizeof out), -EINVAL);
    /* Protobuf: one delimited MetricFamily whose length prefix covers the rest exactly. */
    n = write_fmt(m, ALPHACORE_METRICS_PROTOBUF);
    uint64_t len = 0; int shift = 0, k = 0;
    while ((unsigned char)out[k] & 0x80) { len |= (uint64_t)(out[k] & 0x7f) << shift; shift += 7; k++; }
    len |= (uint64_t)out[k] << shift; k++;
    CHECK_EQ_INT((int64_t)len + k, n);
    CHECK(out[k] == 0x0a);   /* field 1 (name), length-delimited */
    /* Remove, then it is gone; removing again is ENOENT. */
    CHECK_EQ_INT(alphacore_metrics_remove(m, h), 1);
    CHECK_EQ_INT(alphacore_metrics_remove(m, h), -ENOENT);
    CHECK_EQ_INT(alphacore_metrics_write(m, ALPHACORE_METRICS_TEXT, out, sizeof out), 0);
    alphacore_hist_destroy(h);
    alphacore_metrics_destroy(m);
}

static alphacore_recorder *rec;
static void *writer(void *arg) {
    (void)arg;
    for (int i = 0; i < 100000; i++) alphacore_recorder_record(rec, 1000 + i % 1000);
    return NULL;
}

static void test_recorder_and_slots(void) {
    alphacore_metrics *m = NULL;
    CHECK_EQ_INT(alphacore_metrics_create(&m), 0);
    CHECK_EQ_INT(alphacore_recorder_create(1, 3600000000000LL, 3, &rec), 0);
    CHECK_EQ_INT(alphacore_metrics_add_recorder(m, "tick_to_trade", "Tick to trade.", NULL, NULL, rec, NULL), 0);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, writer, NULL);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    write_fmt(m, ALPHACORE_METRICS_TEXT);
    CHECK(contains("tick_to_trade_seconds_count 200000\n"));
    CHECK(contains("tick_to_trade_seconds_bucket{le=\"1e-06\"} 200\n"));
    /* The scrape does not disturb the caller's own sampling: the interval still has everything. */
    alphacore_hist *iv = NULL;
    CHECK_EQ_INT(alphacore_hist_create(1, 3600000000000LL, 3, &iv), 0);
    CHECK_EQ_INT(alphacore_recorder_sample(rec, iv), 0);
    CHECK_EQ_INT(alphacore_hist_total_count(iv), 200000);
    write_fmt(m, ALPHACORE_METRICS_TEXT);   /* and the scrape stays cumulative */
    CHECK(contains("tick_to_trade_seconds_count 200000\n"));

    uint64_t *orders = NULL;
    int64_t *depth = NULL;
    CHECK_EQ_INT(alphacore_metrics_counter(m, "orders_total", "Orders sent.", NULL, "venue=\"XNAS\"", &orders), 0);
    CHECK(orders != NULL && ((uintptr_t)orders & 63) == 0);
    CHECK_EQ_INT(alphacore_metrics_counter(m, "orders", "Orders sent.", NULL, "venue=\"XNAS\"", &orders), -EEXIST);
    CHECK(orders == NULL);
    CHECK_EQ_INT(alphacore_metrics_counter(m, "orders", "Orders sent.", NULL, "venue=\"XLON\"", &orders), 0);
    *orders += 5;
    CHECK_EQ_INT(alphacore_metrics_gauge(m, "queue_depth", "Queue depth.", NULL, NULL, &depth), 0);
    *depth = -3;
    CHECK_EQ_INT(alphacore_metrics_gauge(m, "orders", "clash", NULL, NULL, &depth), -EINVAL);
    CHECK_EQ_INT(alphacore_metrics_gauge(m, "orders_total", "clash", NULL, NULL, &depth), -EEXIST);
    write_fmt(m, ALPHACORE_METRICS_TEXT);
    CHECK(contains("# TYPE orders_total counter\n"));
    CHECK(contains("orders_total{venue=\"XLON\"} 5\n"));
    CHECK(contains("orders_total{venue=\"XNAS\"} 0\n"));
    CHECK(contains("queue_depth -3\n"));
    write_fmt(m, ALPHACORE_METRICS_OPENMETRICS);
    CHECK(contains("# TYPE orders counter\n"));
    CHECK(contains("orders_created{venue=\"XLON\"} "));

    CHECK_EQ_INT(alphacore_metrics_add_thread(m, "main", "role=\"test\""), 0);
    CHECK_EQ_INT(alphacore_metrics_add_thread(m, "main", "role=\"test\""), -EEXIST);
    CHECK_EQ_INT(alphacore_metrics_add_thread(m, "main", "thread=\"x\""), -EINVAL);
    write_fmt(m, ALPHACORE_METRICS_TEXT);
    CHECK(contains("alphacore_thread_on_cpus{thread=\"main\",role=\"test\"} 1\n"));
    int rc = alphacore_metrics_add_host(m, NULL);
    CHECK(rc == 0 || rc == -ENOENT);
    if (rc == 0) {
        write_fmt(m, ALPHACORE_METRICS_TEXT);
        CHECK(contains("alphacore_hugepages_pages{page_size=\""));
    }
    alphacore_reader *rd = NULL;
    if (alphacore_reader_create(NULL, &rd) == 0) {
        CHECK_EQ_INT(alphacore_metrics_add_reader(m, "feed=\"A\"", rd), 0);
        CHECK_EQ_INT(alphacore_metrics_add_reader(m, "feed=\"A\"", rd), -EEXIST);
        write_fmt(m, ALPHACORE_METRICS_TEXT);
        CHECK(contains("alphacore_reader_messages_total{feed=\"A\"} 0\n"));
        CHECK(contains("alphacore_reader_end_of_streams_total{feed=\"A\"} 0\n"));
        CHECK_EQ_INT(alphacore_metrics_remove(m, rd), 6);
        alphacore_reader_destroy(rd);
    }
    CHECK_EQ_INT(alphacore_metrics_remove(m, rec), 1);
    alphacore_recorder_destroy(rec);
    alphacore_hist_destroy(iv);
    alphacore_metrics_destroy(m);
}

static void test_bad_handles(void) {
    alphacore_metrics *m = NULL;
    CHECK_EQ_INT(alphacore_metrics_create(NULL), -EINVAL);
    CHECK_EQ_INT(alphacore_metrics_write(NULL, 0, out, sizeof out), -EINVAL);
    CHECK_EQ_INT(alphacore_metrics_create(&m), 0);
    alphacore_metrics_destroy(m);
    /* Dangling: destroyed handles are refused, not dereferenced. */
    CHECK_EQ_INT(alphacore_metrics_write(m, 0, out, sizeof out), -EINVAL);
    CHECK(strstr(alphacore_last_detail(), "not a live") != NULL);
    uint64_t *slot;
    CHECK_EQ_INT(alphacore_metrics_counter(m, "x", "", NULL, NULL, &slot), -EINVAL);
    CHECK_EQ_INT(alphacore_metrics_remove(m, &slot), -EINVAL);
    int junk[16] = {0};
    CHECK_EQ_INT(alphacore_metrics_add_host((alphacore_metrics *)junk, NULL), -EINVAL);
    alphacore_metrics_destroy(NULL);
}

static int count_dir(const char *path) {
    DIR *d = opendir(path);
    int n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* One HTTP exchange on a fresh connection; returns the bytes read into out. */
static int http(int port, const char *request) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { close(fd); return -1; }
    if (write(fd, request, strlen(request)) < 0) { close(fd); return -1; }
    int total = 0;
    for (ssize_t n; (n = read(fd, out + total, sizeof out - 1 - total)) > 0;) total += (int)n;
    out[total] = 0;
    close(fd);
    return total;
}

static void test_server(void) {
    int threads0 = count_dir("/proc/self/task"), fds0 = count_dir("/proc/self/fd");
    alphacore_metrics *m = NULL;
    alphacore_metrics_server *s = NULL, *s2 = NULL;
    uint64_t *c = NULL;
    CHECK_EQ_INT(alphacore_metrics_create(&m), 0);
    CHECK_EQ_INT(alphacore_metrics_counter(m, "served", "Test counter.", NULL, NULL, &c), 0);
    *c = 42;
    CHECK_EQ_INT(alphacore_metrics_serve(m, "127.0.0.1:0", NULL, &s), 0);
    int port = alphacore_metrics_server_port(s);
    CHECK(port > 0 && port < 65536);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    CHECK_EQ_INT(alphacore_metrics_serve(m, addr, NULL, &s2), -EADDRINUSE);
    CHECK(s2 == NULL);
    CHECK_EQ_INT(alphacore_metrics_serve(m, "0.0.0.0:0", NULL, &s2), -EINVAL);
    CHECK(strstr(alphacore_last_detail(), "not loopback") != NULL);
    CHECK_EQ_INT(alphacore_metrics_serve(m, "127.0.0.1", NULL, &s2), -EINVAL);
    CHECK_EQ_INT(alphacore_metrics_serve(m, "127.0.0.1:99999", NULL, &s2), -EINVAL);
    CHECK_EQ_INT(alphacore_metrics_serve(m, "example.com:80", NULL, &s2), -EINVAL);
    CHECK_EQ_INT(alphacore_metrics_serve(m, NULL, NULL, &s2), -EINVAL);
    alphacore_serve_opts o = ALPHACORE_SERVE_OPTS_INIT;
    o.max_connections = 100000;
    CHECK_EQ_INT(alphacore_metrics_serve(m, "127.0.0.1:0", &o, &s2), -EINVAL);
    o.max_connections = 0; o.flags = 0x80;
    CHECK_EQ_INT(alphacore_metrics_serve(m, "127.0.0.1:0", &o, &s2), -EINVAL);
    o.flags = 0; o.cpus = "not-a-list";
    CHECK_EQ_INT(alphacore_metrics_serve(m, "127.0.0.1:0", &o, &s2), -EINVAL);

    CHECK(http(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") > 0);
    CHECK(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK(strstr(out, "served_total 42\n") != NULL);
    CHECK(strstr(out, "Content-Type: text/plain; version=0.0.4") != NULL);
    CHECK(http(port, "GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-text; version=1.0.0\r\nConnection: close\r\n\r\n") > 0);
    CHECK(strstr(out, "application/openmetrics-text") != NULL && strstr(out, "# EOF\n") != NULL);
    CHECK(http(port, "GET /other HTTP/1.1\r\n\r\n") > 0);
    CHECK(strncmp(out, "HTTP/1.1 404", 12) == 0);
    CHECK(http(port, "DELETE /metrics HTTP/1.1\r\n\r\n") > 0);
    CHECK(strncmp(out, "HTTP/1.1 405", 12) == 0);
    CHECK(http(port, "\x01\x02garbage\r\n\r\n") > 0);
    CHECK(strncmp(out, "HTTP/1.1 400", 12) == 0);
    /* The registry's handle dies, the server keeps serving what it holds. */
    alphacore_metrics_destroy(m);
    CHECK(http(port, "GET /metrics HTTP/1.0\r\n\r\n") > 0);
    CHECK(strstr(out, "served_total 42\n") != NULL);
    CHECK_EQ_INT(alphacore_metrics_server_stop(s), 0);
    CHECK_EQ_INT(alphacore_metrics_server_stop(s), -EINVAL);     /* dangling */
    CHECK_EQ_INT(alphacore_metrics_server_port(s), -EINVAL);
    CHECK_EQ_INT(alphacore_metrics_server_stop(NULL), 0);
    CHECK_EQ_INT(alphacore_metrics_server_stop((alphacore_metrics_server *)m), -EINVAL);
    CHECK(http(port, "GET /metrics HTTP/1.0\r\n\r\n") < 0);  /* nothing listens */
    /* No thread and no socket left behind. */
    CHECK_EQ_INT(count_dir("/proc/self/task"), threads0);
    CHECK_EQ_INT(count_dir("/proc/self/fd"), fds0);
}

int main(void) {
    test_server();
    test_hist_text();
    test_recorder_and_slots();
    test_bad_handles();
    return check_summary("test_metrics");
}
