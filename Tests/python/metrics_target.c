/* A scrape target for the Prometheus tests: records a known log-uniform distribution
 * (1 us .. 10 ms, fixed seed) into a histogram and a recorder, serves them, prints the port and
 * the library's own percentiles as one JSON line, and stops when stdin closes. */
#include <alphacore.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 200000;
    alphacore_metrics *m = NULL;
    alphacore_hist *h = NULL;
    alphacore_recorder *r = NULL;
    alphacore_metrics_server *s = NULL;
    if (alphacore_metrics_create(&m) || alphacore_hist_create(1, 3600000000000LL, 3, &h) ||
        alphacore_recorder_create(1, 3600000000000LL, 3, &r)) return 1;
    uint64_t x = 88172645463325252ULL;
    for (long i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        double u = (double)(x >> 11) / 9007199254740992.0;
        int64_t v = (int64_t)exp(log(1e3) + u * (log(1e7) - log(1e3)));
        alphacore_hist_record(h, v);
        alphacore_recorder_record(r, v);
    }
    if (alphacore_metrics_add_hist(m, "test_hist", "A known distribution.", NULL, "src=\"hist\"", h, NULL) ||
        alphacore_metrics_add_recorder(m, "test_rec", "The same values through a recorder.", NULL, "src=\"rec\"", r, NULL)) {
        fprintf(stderr, "register: %s\n", alphacore_last_detail());
        return 1;
    }
    uint64_t *c = NULL;
    int64_t *g = NULL;
    alphacore_metrics_counter(m, "test_events", "Events seen.", NULL, NULL, &c);
    alphacore_metrics_gauge(m, "test_depth", "A gauge.", NULL, NULL, &g);
    *c = (uint64_t)n;
    *g = -7;
    int rc = alphacore_metrics_serve(m, "127.0.0.1:0", NULL, &s);
    if (rc) { fprintf(stderr, "serve: %s\n", alphacore_last_detail()); return 1; }
    double p[3] = {50, 99, 99.9};
    printf("{\"port\": %d, \"count\": %ld, \"p\": [%lld, %lld, %lld]}\n", alphacore_metrics_server_port(s), n,
           (long long)alphacore_hist_value_at_percentile(h, p[0]), (long long)alphacore_hist_value_at_percentile(h, p[1]),
           (long long)alphacore_hist_value_at_percentile(h, p[2]));
    fflush(stdout);
    while (getchar() != EOF) {}
    rc = alphacore_metrics_server_stop(s);
    alphacore_metrics_remove(m, h);
    alphacore_metrics_remove(m, r);
    alphacore_hist_destroy(h);
    alphacore_recorder_destroy(r);
    alphacore_metrics_destroy(m);
    return rc != 0;
}
