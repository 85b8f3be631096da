// A small C++ engine over alphacore.hpp: a collector thread pinned for its lifetime reads a feed
// (a stream socket) through a Reader, stamps each message with the cycle counter and records the
// feed-to-handler latency into a Histogram (the header-inline record), in a Region on the best
// pages the host gives. Error-code overloads only, so it also builds with -fno-exceptions.
#include <alphacore.hpp>

#include <cstdio>
#include <cstring>
#include <thread>
#include <sys/socket.h>
#include <unistd.h>

namespace {

constexpr int kMessages = 20000;

struct Tick {
    uint64_t sent_cycles;
    uint64_t seq;
};

int fail(const char *what, const alphacore::error &e) {
    std::fprintf(stderr, "engine: %s: %s\n", what, e.message().c_str());
    return -1;
}

// The collector: pinned to the CPU it runs on now (within the allowed set) while it reads; the
// previous affinity comes back when it returns. A completion carries one or more whole ticks.
// Returns the ticks received, or -1.
int collect(int fd, alphacore::Histogram &latency, alphacore::Region &book) {
    alphacore::error err;
    alphacore::PinnedThread pinned(alphacore_current_cpu(), err);
    if (err) std::printf("engine: not pinned (%s)\n", err.message().c_str());

    alphacore_reader_opts opts = ALPHACORE_READER_OPTS_INIT;
    opts.framing = ALPHACORE_FRAME_FIXED;
    opts.frame_size = sizeof(Tick);
    opts.buf_count = 64;
    alphacore::Reader reader(&opts, err);
    if (err) return fail("reader", err);
    if (!reader.add(fd, 1, err)) return fail("add", err);

    alphacore_completion out[64];
    uint64_t expected = 0;
    for (bool done = false; !done;) {
        alphacore::Batch batch = reader.poll(out, 1, 1'000'000'000, err);
        if (err) return fail("poll", err);
        for (const alphacore_completion &c : batch) {
            if (c.result <= 0) {   // the end of the feed (or its error)
                done = true;
                continue;
            }
            auto bytes = alphacore::payload(c);
            for (size_t off = 0; off + sizeof(Tick) <= bytes.size(); off += sizeof(Tick)) {
                Tick t;
                std::memcpy(&t, bytes.data() + off, sizeof t);
                if (t.seq != expected++) {
                    std::fprintf(stderr, "engine: tick %llu out of order\n", static_cast<unsigned long long>(t.seq));
                    return -1;
                }
                latency.record(static_cast<int64_t>(alphacore::cycles_to_ns(alphacore::cycles() - t.sent_cycles)));
                static_cast<unsigned char *>(book.data())[t.seq % book.size()]++;
            }
        }
    }   // each Batch gives its buffers back at the end of its iteration
    reader.remove(fd, err);
    return static_cast<int>(expected);
}

}  // namespace

int main() {
    alphacore::error err;
    // The order book's memory: 2 MiB on huge pages when the pool has them, else THP/base pages.
    alphacore::Region book(2u << 20, nullptr, err);
    if (err) {
        fail("region", err);
        return 1;
    }
    std::memset(book.data(), 0, book.size());

    alphacore::Histogram latency(1, 10'000'000'000LL, 3, err);
    if (err) {
        fail("histogram", err);
        return 1;
    }

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        std::perror("engine: socketpair");
        return 1;
    }
    // The feed: a producer thread writes fixed-size ticks.
    std::thread feed([fd = sv[1]] {
        for (int i = 0; i < kMessages; i++) {
            Tick t{alphacore::cycles(), static_cast<uint64_t>(i)};
            const char *p = reinterpret_cast<const char *>(&t);
            for (size_t off = 0; off < sizeof t;) {
                ssize_t n = send(fd, p + off, sizeof t - off, MSG_NOSIGNAL);   // EPIPE, not SIGPIPE
                if (n <= 0) break;
                off += static_cast<size_t>(n);
            }
        }
        close(fd);
    });

    int received = collect(sv[0], latency, book);
    close(sv[0]);   // a feed still writing (the collector failed) gets EPIPE and ends
    feed.join();

    std::printf("engine: libalphacore %s, %d ticks, region %zu bytes on %llu-byte pages\n", alphacore::version(),
                received, book.size(), static_cast<unsigned long long>(book.page_size()));
    std::printf("engine: feed-to-handler latency p50 %lld ns, p99 %lld ns, max %lld ns\n",
                static_cast<long long>(latency.value_at_percentile(50.0)),
                static_cast<long long>(latency.value_at_percentile(99.0)), static_cast<long long>(latency.max()));
    return received == kMessages && latency.total_count() == kMessages ? 0 : 1;
}
