// make bench BENCH=metrics: the metrics registry beside Debian's prometheus-cpp, in one run.
//  1. record cost: alphacore_recorder_record / alphacore_hist_record vs prometheus::Histogram::Observe
//     (22 classic buckets), the same log-uniform 20 ns .. 10 ms values, alternating rounds;
//  2. recorder record cost on one CPU with 10 text scrapes a second on the other vs without;
//  3. a scrape of 100 histograms (3 digits, 1 ns .. 1 h, 10 M values each): server-thread CPU per
//     format, sizes (protobuf at schema 3 and 8 vs classic text with 30 buckets), and
//     prometheus-cpp's TextSerializer over the same 100 histograms (filled with ObserveMultiple
//     from our counts).
#include <alphacore.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

static double now_s(clockid_t c = CLOCK_MONOTONIC) {
    timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static std::vector<int64_t> values(size_t n) {
    std::vector<int64_t> v(n);
    uint64_t x = 88172645463325252ULL;
    for (auto &e : v) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        double u = (double)(x >> 11) / 9007199254740992.0;
        e = (int64_t)std::exp(std::log(20.0) + u * (std::log(1e7) - std::log(20.0)));
    }
    return v;
}

static std::vector<double> ladder() {   // the library's default: 1 us .. 10 s, 1-2-5
    std::vector<double> b;
    for (double d = 1e-6; d < 5; d *= 10) { b.push_back(d); b.push_back(2 * d); b.push_back(5 * d); }
    b.push_back(10);
    return b;
}

static void pin(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

static void record_costs(const std::vector<int64_t> &v) {
    alphacore_recorder *r;
    alphacore_hist *h;
    alphacore_recorder_create(1, 3600000000000LL, 3, &r);
    alphacore_hist_create(1, 3600000000000LL, 3, &h);
    prometheus::Registry preg;
    auto &fam = prometheus::BuildHistogram().Name("peer_seconds").Help("peer").Register(preg);
    auto &ph = fam.Add({}, ladder());
    std::vector<double> secs(v.size());
    for (size_t i = 0; i < v.size(); i++) secs[i] = v[i] * 1e-9;
    double best_rec = 1e9, best_hist = 1e9, best_peer = 1e9;
    for (int round = 0; round < 5; round++) {
        double t = now_s();
        for (int64_t x : v) alphacore_recorder_record(r, x);
        best_rec = std::min(best_rec, (now_s() - t) / v.size() * 1e9);
        t = now_s();
        for (int64_t x : v) alphacore_hist_record(h, x);
        best_hist = std::min(best_hist, (now_s() - t) / v.size() * 1e9);
        t = now_s();
        for (double x : secs) ph.Observe(x);
        best_peer = std::min(best_peer, (now_s() - t) / v.size() * 1e9);
    }
    printf("record, ns/value (best of 5, %zu values)\n", v.size());
    printf("  alphacore_recorder_record     %7.2f   ratio to Observe %.3f (goal <= 0.2)\n", best_rec, best_rec / best_peer);
    printf("  alphacore_hist_record         %7.2f   ratio to Observe %.3f\n", best_hist, best_hist / best_peer);
    printf("  prometheus-cpp Observe        %7.2f\n", best_peer);
    alphacore_recorder_destroy(r);
    alphacore_hist_destroy(h);
}

static void scrape_disturbance(const std::vector<int64_t> &v) {
    alphacore_metrics *m;
    alphacore_recorder *r;
    alphacore_metrics_create(&m);
    alphacore_recorder_create(1, 3600000000000LL, 3, &r);
    alphacore_metrics_add_recorder(m, "disturb", "x", NULL, NULL, r, NULL);
    std::vector<char> buf(1 << 20);
    double with_s = 1e9, without_s = 1e9;
    int scrapes = 0;
    for (int round = 0; round < 6; round++) {
        bool scraping = round % 2 == 1;
        std::atomic<bool> stop{false};
        std::thread scraper;
        if (scraping) scraper = std::thread([&] {
            pin(0);
            while (!stop.load()) {
                alphacore_metrics_write(m, ALPHACORE_METRICS_TEXT, buf.data(), buf.size());
                scrapes++;
                for (int i = 0; i < 100 && !stop.load(); i++) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
        });
        std::thread writer([&] {
            pin(1);
            double best = 1e9;
            for (int rep = 0; rep < 200; rep++) {
                double t = now_s();
                for (int64_t x : v) alphacore_recorder_record(r, x);
                best = std::min(best, (now_s() - t) / v.size() * 1e9);
            }
            (scraping ? with_s : without_s) = std::min(scraping ? with_s : without_s, best);
        });
        writer.join();
        stop = true;
        if (scraper.joinable()) scraper.join();
    }
    printf("recorder record on CPU 1, 10 text scrapes/s on CPU 0 (%d scrapes): %.2f ns vs %.2f ns without: ratio %.3f (goal <= 1.05)\n",
           scrapes, with_s, without_s, with_s / without_s);
    alphacore_metrics_remove(m, r);
    alphacore_recorder_destroy(r);
    alphacore_metrics_destroy(m);
}

static double scrape_cpu_ms(alphacore_metrics *m, int fmt, std::vector<char> &buf, int64_t *size) {
    double best = 1e9;
    for (int i = 0; i < 7; i++) {
        double t = now_s(CLOCK_THREAD_CPUTIME_ID);
        *size = alphacore_metrics_write(m, fmt, buf.data(), buf.size());
        best = std::min(best, (now_s(CLOCK_THREAD_CPUTIME_ID) - t) * 1e3);
    }
    return best;
}

static void big_scrape() {
    const int N = 100;
    std::vector<int64_t> v = values(10000000);
    alphacore_hist *first;
    alphacore_hist_create(1, 3600000000000LL, 3, &first);
    alphacore_hist_record_batch(first, v.data(), v.size());
    std::vector<alphacore_hist *> hs{first};
    for (int i = 1; i < N; i++) { alphacore_hist *c; alphacore_hist_copy(first, &c); hs.push_back(c); }
    std::vector<double> b30;
    for (int i = 0; i < 30; i++) b30.push_back(1e-6 * std::pow(1e7, i / 29.0));
    alphacore_metric_opts o30 = ALPHACORE_METRIC_OPTS_INIT, o8 = ALPHACORE_METRIC_OPTS_INIT;
    o30.bounds = b30.data(); o30.bound_count = 30;
    o8.schema = 8;
    alphacore_metrics *m, *m30, *m8;
    alphacore_metrics_create(&m); alphacore_metrics_create(&m30); alphacore_metrics_create(&m8);
    for (int i = 0; i < N; i++) {
        char labels[32];
        snprintf(labels, sizeof labels, "h=\"%d\"", i);
        alphacore_metrics_add_hist(m, "bench_latency", "100 histograms.", NULL, labels, hs[i], NULL);
        alphacore_metrics_add_hist(m30, "bench_latency", "100 histograms.", NULL, labels, hs[i], &o30);
        alphacore_metrics_add_hist(m8, "bench_latency", "100 histograms.", NULL, labels, hs[i], &o8);
    }
    std::vector<char> buf(64 << 20);
    int64_t text, om, pb3, text30, pb8;
    double t_text = scrape_cpu_ms(m, ALPHACORE_METRICS_TEXT, buf, &text);
    double t_om = scrape_cpu_ms(m, ALPHACORE_METRICS_OPENMETRICS, buf, &om);
    double t_pb = scrape_cpu_ms(m, ALPHACORE_METRICS_PROTOBUF, buf, &pb3);
    double t_text30 = scrape_cpu_ms(m30, ALPHACORE_METRICS_TEXT, buf, &text30);
    double t_pb8 = scrape_cpu_ms(m8, ALPHACORE_METRICS_PROTOBUF, buf, &pb8);
    // The peer: the same 100 histograms in prometheus-cpp (22 buckets), filled from our counts.
    prometheus::Registry preg;
    auto &fam = prometheus::BuildHistogram().Name("bench_latency_seconds").Help("100 histograms.").Register(preg);
    std::vector<double> lad = ladder(), incr(lad.size() + 1, 0.0);
    double sum = 0;
    for (int64_t x : v) {
        double s = x * 1e-9;
        sum += s;
        incr[std::lower_bound(lad.begin(), lad.end(), s) - lad.begin()] += 1;
    }
    for (int i = 0; i < N; i++) fam.Add({{"h", std::to_string(i)}}, lad).ObserveMultiple(incr, sum);
    prometheus::TextSerializer ser;
    double t_peer = 1e9;
    size_t peer_size = 0;
    for (int i = 0; i < 7; i++) {
        double t = now_s(CLOCK_THREAD_CPUTIME_ID);
        std::ostringstream os;
        ser.Serialize(os, preg.Collect());
        peer_size = os.str().size();
        t_peer = std::min(t_peer, (now_s(CLOCK_THREAD_CPUTIME_ID) - t) * 1e3);
    }
    printf("scrape of %d histograms (3 digits, 1 ns .. 1 h, 10 M values each, log-uniform 20 ns .. 10 ms), thread CPU, best of 7\n", N);
    printf("  text 0.0.4, 22 buckets          %7.3f ms  %8lld bytes  (goal <= 2 ms)\n", t_text, (long long)text);
    printf("  OpenMetrics, 22 buckets         %7.3f ms  %8lld bytes\n", t_om, (long long)om);
    printf("  protobuf, native schema 3 + 22  %7.3f ms  %8lld bytes  vs text with 30 buckets %lld bytes: ratio %.3f (goal <= 1)\n",
           t_pb, (long long)pb3, (long long)text30, (double)pb3 / text30);
    printf("  protobuf, native schema 8 + 22  %7.3f ms  %8lld bytes\n", t_pb8, (long long)pb8);
    printf("  text 0.0.4, 30 buckets          %7.3f ms  %8lld bytes\n", t_text30, (long long)text30);
    printf("  prometheus-cpp TextSerializer   %7.3f ms  %8zu bytes  (22 buckets); ours/peer text %.3f\n", t_peer, peer_size,
           t_text / t_peer);
    for (int i = 0; i < N; i++) { alphacore_metrics_remove(m, hs[i]); alphacore_metrics_remove(m30, hs[i]); alphacore_metrics_remove(m8, hs[i]); }
    alphacore_metrics_destroy(m); alphacore_metrics_destroy(m30); alphacore_metrics_destroy(m8);
    for (auto *h : hs) alphacore_hist_destroy(h);
}

int main() {
    std::vector<int64_t> v = values(1 << 20);
    record_costs(v);
    scrape_disturbance(v);
    big_scrape();
    return 0;
}
