/* The end-to-end demo (make demo): the four capabilities together, as a market-data collector
 * uses them.
 *
 *   1. CPU placement: a collector thread pinned to a CPU the process may use.
 *   2. Memory: the collector's latency buffer in huge pages (falling back honestly).
 *   3. Batched reads: a loopback feed of 16 TCP connections read with one reader (io_uring, or
 *      epoll where io_uring is refused), its buffers in huge pages where the pool allows, in the
 *      latency profile: each poll returns as soon as one completion is ready, no minimum wait.
 *   4. Latency: each message's producer timestamp to its arrival, in an HDR histogram;
 *      the percentile table at the end.
 * Then a one-screen summary of the host readiness doctor.
 *
 * Nothing here needs root: without huge pages, CAP_SYS_NICE or io_uring the demo says what it
 * got instead and carries on. */
#include <alphacore.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { CONNS = 16, BATCH = 16, MSG = 64, MESSAGES = 200000, RATE = 100000 };

typedef struct {                 /* one 64-byte feed message */
    uint64_t sent_cycles;        /* producer timestamp (the cycle counter) */
    uint32_t conn;
    uint32_t seq;
    char     payload[MSG - 16];
} message;

static int server_fds[CONNS], client_fds[CONNS];
static volatile int collector_ready;

static void report(const char *what, int rc) {
    if (rc < 0) printf("  %s: %s (%s)\n", what, alphacore_strerror(rc), alphacore_last_detail());
}

/* CONNS loopback TCP pairs through one listener on 127.0.0.1. */
static int open_feed(void) {
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, CONNS) ||
        getsockname(l, (struct sockaddr *)&a, &len)) { perror("listen"); return -1; }
    for (int i = 0; i < CONNS; i++) {
        client_fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (client_fds[i] < 0 || connect(client_fds[i], (struct sockaddr *)&a, sizeof a)) { perror("connect"); return -1; }
        server_fds[i] = accept(l, NULL, NULL);
        if (server_fds[i] < 0) { perror("accept"); return -1; }
        int one = 1;
        setsockopt(client_fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    close(l);
    return 0;
}

/* The feed: BATCH messages per write, round robin over the connections, paced at RATE. */
static void *producer(void *arg) {
    (void)arg;
    while (!collector_ready) usleep(100);
    message batch[BATCH];
    memset(batch, 0x5a, sizeof batch);
    uint32_t seq[CONNS] = {0};
    uint64_t hz = alphacore_cycles_per_second();
    uint64_t interval = hz * BATCH / RATE, next = alphacore_rdtsc();
    for (int k = 0; k < MESSAGES / BATCH; k++) {
        while (alphacore_rdtsc() < next) { }
        next += interval;
        int c = k % CONNS;
        uint64_t now = alphacore_rdtsc();
        for (int m = 0; m < BATCH; m++) {
            batch[m].sent_cycles = now;
            batch[m].conn = (uint32_t)c;
            batch[m].seq = seq[c]++;
        }
        const char *p = (const char *)batch;
        size_t left = sizeof batch;
        while (left > 0) {
            ssize_t n = write(client_fds[c], p, left);
            if (n <= 0) { perror("write"); return NULL; }
            p += n;
            left -= (size_t)n;
        }
    }
    return NULL;
}

typedef struct {
    int cpu;
    alphacore_hist *hist;
    long received, bad;
    int ok;
} collector_args;

/* The collector: pinned, huge-page buffer, reader, histogram. */
static void *collector(void *argp) {
    collector_args *a = argp;
    printf("\n[1] CPU placement\n");
    int rc = alphacore_pin_thread(a->cpu);
    report("pin", rc);
    printf("  collector pinned to CPU %d: %s; running on CPU %d\n", a->cpu, rc == 0 ? "yes" : "no",
           alphacore_current_cpu());

    printf("\n[2] Memory\n");
    alphacore_mem_opts mo = ALPHACORE_MEM_OPTS_INIT;
    mo.flags = ALPHACORE_MEM_PREFAULT;
    alphacore_region region;
    int64_t *latencies = NULL;
    rc = alphacore_mem_alloc((size_t)4 << 20, &mo, &region);   /* 4 MiB: room for huge pages */
    report("alloc", rc);
    if (rc == 0) {
        char text[1024];
        alphacore_mem_report(&region, text, sizeof text);
        text[strcspn(text, "\n")] = 0;   /* the first line: what backs it */
        printf("  latency buffer: %s\n", text);
        latencies = region.addr;
    } else {
        latencies = calloc(MESSAGES, sizeof(int64_t));
        if (!latencies) { collector_ready = 1; return NULL; }
    }

    printf("\n[3] Batched reads\n");
    alphacore_reader_opts ro = ALPHACORE_READER_OPTS_INIT;
    ro.flags = ALPHACORE_READER_HUGE_PAGES;
    ro.framing = ALPHACORE_FRAME_FIXED;
    ro.frame_size = MSG;
#ifdef ALPHACORE_READER_PROFILE_LATENCY
    ro.profile = ALPHACORE_READER_PROFILE_LATENCY;
#endif
    alphacore_reader *r = NULL;
    rc = alphacore_reader_create(&ro, &r);
    report("reader", rc);
    if (rc != 0) { collector_ready = 1; return NULL; }
    alphacore_reader_details d = { .struct_size = sizeof d };
    alphacore_reader_info(r, &d);
    printf("  reader on %s, latency profile (%s); buffers %s\n", d.backend == ALPHACORE_READER_IO_URING ? "io_uring" : "epoll",
           d.reason, (d.flags & ALPHACORE_READER_HUGE_PAGES) ? "on huge pages" : "on 4 KiB pages (no huge pages free)");
    for (int i = 0; i < CONNS; i++) report("add", alphacore_reader_add(r, server_fds[i], (uint64_t)i));
    collector_ready = 1;

    alphacore_completion out[256];
    uint32_t expect[CONNS] = {0};
    long n_lat = 0;
    int idle = 0;
    while (a->received + a->bad < MESSAGES && idle < 200) {
        /* The latency profile's poll: return with the first completion, no minimum wait. */
        int n = alphacore_reader_poll(r, out, 256, 1, 0, 10000000);
        if (n < 0) { report("poll", n); break; }
        idle = n == 0 ? idle + 1 : 0;
        for (int i = 0; i < n; i++) {
            if (out[i].result <= 0) continue;
            uint64_t now = alphacore_rdtsc();
            const message *m = out[i].data;
            for (int j = 0; j < out[i].result / MSG; j++, m++) {
                if (m->conn != out[i].user_data || m->seq != expect[m->conn]) { a->bad++; continue; }
                expect[m->conn]++;
                if (n_lat < MESSAGES) latencies[n_lat++] = (int64_t)alphacore_cycles_to_ns(now - m->sent_cycles);
                a->received++;
            }
        }
        alphacore_reader_release(r, out, (uint32_t)n);
    }
    alphacore_reader_counters st = { .struct_size = sizeof st };
    alphacore_reader_stats(r, &st);
    printf("  %ld messages in %llu polls, %llu system calls (%.4f per message), %ld out of order\n",
           a->received, (unsigned long long)st.polls, (unsigned long long)st.syscalls,
           a->received ? (double)st.syscalls / (double)a->received : 0.0, a->bad);
    alphacore_reader_destroy(r);

    /* [4] one call records the whole batch. */
    rc = alphacore_hist_record_batch(a->hist, latencies, (size_t)n_lat);
    report("record", rc);
    a->ok = rc == 0 && a->bad == 0 && a->received == MESSAGES;
    if (rc == 0 && region.addr == latencies) alphacore_mem_free(&region);
    else free(latencies);
    return NULL;
}

/* The doctor's verdicts worth reading: every warn, fail and unknown, one line each. */
static void doctor_summary(void) {
    printf("\n[5] Host readiness (alphacore doctor; `build/bin/alphacore doctor` for the details)\n");
    static char text[1 << 16];
    alphacore_doctor_opts o = ALPHACORE_DOCTOR_OPTS_INIT;
    o.flags = ALPHACORE_DOCTOR_TEXT;
    alphacore_doctor_summary s;
    int n = alphacore_doctor_run(&o, text, sizeof text, &s);
    if (n < 0) { report("doctor", n); return; }
    int shown = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if ((strncmp(line, "FAIL", 4) == 0 || strncmp(line, "WARN", 4) == 0 || strncmp(line, "UNKNOWN", 7) == 0) && shown < 16) {
            printf("  %.110s\n", line);
            shown++;
        }
    }
    printf("  %u checks: %u fail, %u warn, %u unknown, %u info, %u ok (%llu us)\n", s.checks, s.fail, s.warn,
           s.unknown, s.info, s.ok, (unsigned long long)s.elapsed_us);
}

/* [6] Prometheus: the histogram in a registry, served on loopback, scraped once over HTTP. */
static void metrics_scrape(alphacore_hist *h) {
    printf("\n[6] Metrics: GET /metrics from the embedded scrape endpoint (what Prometheus sees)\n");
    alphacore_metrics *reg = NULL;
    alphacore_metrics_server *srv = NULL;
    int rc = alphacore_metrics_create(&reg);
    if (rc == 0) rc = alphacore_metrics_add_hist(reg, "demo_feed_latency", "Producer timestamp to collector.", NULL,
                                                 "feed=\"loopback\"", h, NULL);
    if (rc == 0) rc = alphacore_metrics_serve(reg, "127.0.0.1:0", NULL, &srv);
    if (rc != 0) { report("metrics", rc); alphacore_metrics_destroy(reg); return; }
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)alphacore_metrics_server_port(srv));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static char body[1 << 16];
    int fd = socket(AF_INET, SOCK_STREAM, 0), total = 0;
    const char *req = "GET /metrics HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n";
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && write(fd, req, strlen(req)) > 0) {
        for (ssize_t n; (n = read(fd, body + total, sizeof body - 1 - total)) > 0;) total += (int)n;
    }
    if (fd >= 0) close(fd);
    body[total] = 0;
    printf("  http://127.0.0.1:%d/metrics (%d bytes):\n", alphacore_metrics_server_port(srv), total);
    int shown = 0;
    for (char *line = strtok(body, "\n"); line && shown < 14; line = strtok(NULL, "\n")) {
        if (strncmp(line, "HTTP/", 5) == 0 || line[0] == '#' || strstr(line, "le=\"0.0") || strstr(line, "le=\"+Inf") ||
            strstr(line, "_count") || strstr(line, "_sum")) { printf("  %s\n", line); shown++; }
    }
    alphacore_metrics_server_stop(srv);
    alphacore_metrics_remove(reg, h);
    alphacore_metrics_destroy(reg);
}

int main(void) {
    if (alphacore_version_number() != ALPHACORE_VERSION_NUMBER) {
        fprintf(stderr, "header %d and library %u differ\n", ALPHACORE_VERSION_NUMBER, alphacore_version_number());
        return 1;
    }
    printf("libalphacore %s demo: a pinned collector reads a loopback feed of %d connections, %d messages\n",
           alphacore_version_string(), CONNS, MESSAGES);
    char allowed[256] = "";
    alphacore_topology_list(ALPHACORE_CPUS_ALLOWED, allowed, sizeof allowed);
    int cpu = 0;   /* the last allowed CPU for the collector; the producer runs anywhere else */
    const char *last = strrchr(allowed, ',');
    last = last ? last + 1 : allowed;
    const char *dash = strrchr(last, '-');
    cpu = atoi(dash ? dash + 1 : last);
    printf("allowed CPUs: %s\n", allowed);

    if (open_feed() != 0) return 1;
    collector_args a = { .cpu = cpu };
    int rc = alphacore_hist_create(1, 3600LL * 1000 * 1000 * 1000, 3, &a.hist);
    if (rc != 0) { report("hist", rc); return 1; }
    pthread_t pt, ct;
    pthread_create(&ct, NULL, collector, &a);
    pthread_create(&pt, NULL, producer, NULL);
    pthread_join(pt, NULL);
    pthread_join(ct, NULL);
    for (int i = 0; i < CONNS; i++) { close(client_fds[i]); close(server_fds[i]); }

    printf("\n[4] Latency: producer timestamp to collector, microseconds (%lld values)\n",
           (long long)alphacore_hist_total_count(a.hist));
    static char table[1 << 16];
    if (alphacore_hist_format_percentiles(a.hist, 1, 1000.0, table, sizeof table) > 0) fputs(table, stdout);
    printf("p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us\n",
           alphacore_hist_value_at_percentile(a.hist, 50.0) / 1000.0, alphacore_hist_value_at_percentile(a.hist, 99.0) / 1000.0,
           alphacore_hist_value_at_percentile(a.hist, 99.9) / 1000.0, alphacore_hist_max(a.hist) / 1000.0);
    metrics_scrape(a.hist);
    alphacore_hist_destroy(a.hist);

    doctor_summary();
    if (!a.ok) { fprintf(stderr, "demo: the feed did not arrive whole\n"); return 1; }
    return 0;
}
