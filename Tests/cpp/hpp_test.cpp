// alphacore.hpp through the installed CMake package: owners, moves, errors, the pinned-thread
// guard, completions as a range, and bad input (use after move, a double close through the C
// handle). Built twice: with exceptions, and with -fno-exceptions (error-code overloads only).
#include <alphacore.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>
#include <sys/socket.h>
#include <unistd.h>

static int failures = 0, passes = 0;
#define EXPECT(c) do { if (c) ++passes; else { ++failures; std::fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c); } } while (0)

using alphacore::error;

// Owners are move-only, one pointer wide (Region: the C struct), without virtual functions.
static_assert(!std::is_copy_constructible<alphacore::Histogram>::value, "move-only");
static_assert(!std::is_copy_assignable<alphacore::Reader>::value, "move-only");
static_assert(std::is_nothrow_move_constructible<alphacore::Histogram>::value, "noexcept move");
static_assert(std::is_nothrow_move_assignable<alphacore::Region>::value, "noexcept move");
static_assert(!std::is_polymorphic<alphacore::Histogram>::value && !std::is_polymorphic<alphacore::Reader>::value, "no vtable");
static_assert(sizeof(alphacore::Histogram) == sizeof(void *) && sizeof(alphacore::Recorder) == sizeof(void *), "one pointer");
static_assert(sizeof(alphacore::Region) == sizeof(alphacore_region), "the C struct");
static_assert(!std::is_move_constructible<alphacore::PinnedThread>::value, "the guard stays in its scope");
static_assert(noexcept(std::declval<alphacore::Histogram &>().record(1)), "hot path noexcept");

static void histograms() {
    error err;
    alphacore::Histogram h(1, 3600000000000LL, 3, err);
    EXPECT(!err && h);
    std::vector<int64_t> vals;
    for (int64_t v = 1; v < 5000000; v = v * 3 + 7) vals.push_back(v);
    alphacore_hist *c = nullptr;
    EXPECT(alphacore_hist_create(1, 3600000000000LL, 3, &c) == 0);
    for (int64_t v : vals) {
        EXPECT(h.record(v) == 0);
        EXPECT(alphacore_hist_record(c, v) == 0);
    }
    // The C++ record and the library's record leave identical histograms (same wire bytes).
    alphacore::Histogram lib(c);
    EXPECT(h.encode(err) == lib.encode(err) && !err);
    EXPECT(h.total_count() == static_cast<int64_t>(vals.size()) && h.max() == lib.max() && h.min() == lib.min());
    EXPECT(h.record(-1) == -ERANGE && h.record(3600000000001LL) == -ERANGE);
    EXPECT(h.record_batch(vals, err) && !err);
    const int64_t bad[] = {5, -3};
    EXPECT(!h.record_batch(bad, err) && err.value() == ERANGE && std::strlen(err.detail()) > 0);
    EXPECT(err.code() == std::errc::result_out_of_range && err.code().category() == std::generic_category());
    EXPECT(err.message().find(err.detail()) != std::string::npos);
    // Bad configuration: EINVAL with the library's detail text, an empty owner.
    alphacore::Histogram none(0, 10, 3, err);
    EXPECT(!none && err.value() == EINVAL && std::strlen(err.detail()) > 0);
    std::string text = h.encode(err);
    alphacore::Histogram back = alphacore::Histogram::decode(text.data(), text.size(), err);
    EXPECT(!err && back.total_count() == h.total_count());
    alphacore::Histogram junk = alphacore::Histogram::decode("not base64!", 11, err);
    EXPECT(!junk && err);

    // Use after move: the moved-from owner is empty; its calls fail with EINVAL, never crash.
    alphacore::Histogram moved(std::move(h));
    EXPECT(!h && moved && moved.total_count() > 0);
    EXPECT(h.record(5) == -EINVAL);
    EXPECT(h.record_n(5, 2) == -EINVAL && h.total_count() < 0);
    EXPECT(h.encode(err).empty() && err.value() == EINVAL);
    EXPECT(!h.clear(err) && err.value() == EINVAL);
    alphacore::Histogram other(1, 1000, 2, err);
    other = std::move(moved);   // the old histogram of `other` is destroyed, moved's is taken
    EXPECT(!moved && other.total_count() > 0);
    alphacore::Histogram &alias = other;
    other = std::move(alias);   // self-move keeps it
    EXPECT(other && other.total_count() > 0);

    // A double close through the C handle: take the handle out first (release), then destroy
    // it through C; the owner is empty and destroys nothing at its end.
    alphacore_hist_destroy(other.release());
    EXPECT(!other && other.record(1) == -EINVAL);
    other.reset();   // no-op

    alphacore::Recorder rec(1, 1000000, 3, err);
    EXPECT(!err && rec.record(42) == 0 && rec.record(-1) == -ERANGE);
    alphacore::Histogram into(1, 1000000, 3, err);
    EXPECT(rec.sample(into, err) && into.total_count() == 1);
    alphacore::Recorder gone(std::move(rec));
    EXPECT(rec.record(1) == -EINVAL && !rec.sample(into, err) && err.value() == EINVAL);
}

static void regions() {
    error err;
    alphacore::Region r(1 << 20, nullptr, err);
    EXPECT(!err && r && r.size() >= (1u << 20) && r.bytes().size() == r.size());
    std::memset(r.data(), 7, r.size());
    EXPECT(r.report().size() > 0);
    alphacore::Region m(std::move(r));
    EXPECT(!r && m && static_cast<unsigned char *>(m.data())[100] == 7);
    EXPECT(r.close(err) && !err);   // an empty region closes as a no-op
    // A double close through the C handle: a copy of the struct is freed through C; the owner's
    // own free is then refused by the library's registry (EINVAL), not a second munmap.
    alphacore_region copy = m.native();
    EXPECT(alphacore_mem_free(&copy) == 0);
    EXPECT(!m.close(err) && err.value() == EINVAL && !m);
    alphacore::Region n(4096, nullptr, err);
    alphacore_region copy2 = n.native();
    EXPECT(alphacore_mem_free(&copy2) == 0);   // n's destructor meets EINVAL, quietly
    alphacore_mem_opts bad = ALPHACORE_MEM_OPTS_INIT;
    bad.flags = 0x8000;
    alphacore::Region refused(4096, &bad, err);
    EXPECT(!refused && err.value() == EINVAL);
}

static void readers() {
    error err;
    alphacore_reader_opts o = ALPHACORE_READER_OPTS_INIT;
    o.backend = ALPHACORE_READER_EPOLL;
    o.buf_count = 16;
    alphacore::Reader r(&o, err);
    EXPECT(!err && r);
    int sv[2];
    EXPECT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    EXPECT(r.add(sv[0], 77, err));
    EXPECT(!r.add(sv[0], 78, err) && err.value() == EEXIST);
    EXPECT(!r.add(-1, 1, err) && err.value() == EBADF && std::strlen(err.detail()) > 0);
    EXPECT(write(sv[1], "hello", 5) == 5);
    alphacore_completion out[8];
    std::string got;
    {
        alphacore::Batch b;
        for (int i = 0; i < 20 && b.empty(); i++) b = r.poll(out, 1, 100000000, err);
        EXPECT(!err && b.size() == 1);
        for (const alphacore_completion &c : b) {
            EXPECT(c.user_data == 77);
            auto bytes = alphacore::payload(c);
            got.assign(reinterpret_cast<const char *>(bytes.data()), bytes.size());
        }
        alphacore::span<const alphacore_completion> v = b.view();
        EXPECT(v.size() == 1 && v[0].fd == sv[0]);
        alphacore_reader_counters k;
        EXPECT(r.stats(k, err) && k.buffers_held == 1);
    }   // the batch gives its buffer back here
    EXPECT(got == "hello");
    alphacore_reader_counters k;
    EXPECT(r.stats(k, err) && k.buffers_held == 0);
    EXPECT(r.poll(alphacore::span<alphacore_completion>(), 1, 0, err).empty() && err.value() == EINVAL);
    alphacore::Reader moved(std::move(r));
    EXPECT(!r.add(sv[1], 1, err) && err.value() == EINVAL);
    EXPECT(r.poll(out, 1, 0, err).empty() && err.value() == EINVAL);
    EXPECT(moved.remove(sv[0], err));
    close(sv[0]);
    close(sv[1]);
}

static void pinned() {
    // On a thread of its own, so the process's other threads keep their masks whatever happens.
    std::thread t([] {
        char before[1024], during[1024], after[1024];
        EXPECT(alphacore_thread_affinity(before, sizeof before) > 0);
        error err;
        {
            alphacore::PinnedThread bad(-1, err);
            EXPECT(!bad.pinned() && err.value() == EINVAL);
            alphacore_thread_affinity(during, sizeof during);
            EXPECT(std::strcmp(before, during) == 0);   // a failed pin leaves the mask alone
        }
        int cpu = alphacore_current_cpu();
        {
            alphacore::PinnedThread guard(cpu, err);
            EXPECT(!err && guard.pinned());
            alphacore_thread_affinity(during, sizeof during);
            EXPECT(std::to_string(cpu) == during && alphacore_pin_verify() == 1);
        }
        alphacore_thread_affinity(after, sizeof after);
        EXPECT(std::strcmp(before, after) == 0);   // the previous affinity is back
    });
    t.join();
}

static void metrics() {
    error err;
    alphacore::Metrics m = alphacore::Metrics::create(err);
    EXPECT(!err && m);
    alphacore::Histogram h(1, 3600000000000LL, 3, err);
    EXPECT(h.record(1500) == 0);
    EXPECT(m.add("engine_latency", "feed to handler", nullptr, "venue=\"XNAS\"", h, err));
    EXPECT(!m.add("engine_latency", "feed to handler", nullptr, "venue=\"XNAS\"", h, err) && err.value() == EEXIST);
    EXPECT(!m.add("bad name!", "x", nullptr, nullptr, h, err) && err.value() == EINVAL && std::strlen(err.detail()) > 0);
    uint64_t *orders = m.counter("engine_orders", "orders sent", "", nullptr, err);
    EXPECT(orders != nullptr && !err);
    if (orders) *orders += 3;
    std::string text = m.write(ALPHACORE_METRICS_TEXT, err);
    EXPECT(!err && text.find("engine_latency_seconds_count{venue=\"XNAS\"} 1") != std::string::npos);
    EXPECT(text.find("engine_orders_total 3") != std::string::npos);
    EXPECT(m.remove(h.get(), err) >= 1 && m.remove(h.get(), err) == -1 && err.value() == ENOENT);
    alphacore::MetricsServer s = m.serve("127.0.0.1:0", err);
    EXPECT(!err && s.port() > 0);
    EXPECT(s.stop(err) && !s && s.port() < 0);
    alphacore::Metrics moved(std::move(m));
    EXPECT(m.write(ALPHACORE_METRICS_TEXT, err).empty() && err.value() == EINVAL);
    EXPECT(moved.write(ALPHACORE_METRICS_OPENMETRICS, err).find("# EOF") != std::string::npos);
}

static void channels() {
    error err;
    char name[64];
    std::snprintf(name, sizeof name, "hpp-test-%d-%u", static_cast<int>(getpid()), static_cast<unsigned>(alphacore_now_ns()));
    alphacore::Channel ch(name, nullptr, err);
    EXPECT(!err && ch);
    alphacore::ChannelReader rd(name, nullptr, err);
    EXPECT(!err && rd);
    EXPECT(ch.publish("one", 3) == 0);
    void *slot = nullptr;
    EXPECT(ch.claim(3, &slot) == 0 && slot != nullptr);
    if (slot) std::memcpy(slot, "two", 3);
    EXPECT(ch.claim(1, &slot) == -EBUSY);   /* one claim open at a time */
    EXPECT(ch.commit(slot) == 0);
    alphacore_channel_msg out[8];
    auto got = rd.poll(out, err);
    EXPECT(!err && got.size() == 2);
    if (got.size() == 2) {
        EXPECT(got[0].len == 3 && std::memcmp(got[0].data, "one", 3) == 0 && got[1].seq == got[0].seq + 1);
        EXPECT(std::memcmp(got[1].data, "two", 3) == 0 && rd.check() == 0);
    }
    EXPECT(rd.poll(out, err).empty() && !err);
    EXPECT(rd.poll(alphacore::span<alphacore_channel_msg>(), err).empty() && err.value() == EINVAL);
    alphacore::ChannelReader none("no-such-channel-here", nullptr, err);
    EXPECT(!none && err.value() == ENOENT);
    alphacore::Channel moved(std::move(ch));
    EXPECT(ch.publish("x", 1) == -EINVAL && moved.publish("three", 5) == 0);
    EXPECT(alphacore::Channel::unlink(name, err) && !alphacore::Channel::unlink(name, err) && err.value() == ENOENT);
}

#if ALPHACORE_HPP_EXCEPTIONS
static void exceptions() {
    try {
        alphacore::Histogram h(0, 10, 3);
        EXPECT(!"no throw");
    } catch (const std::system_error &e) {
        EXPECT(e.code() == std::errc::invalid_argument && std::string(e.what()).size() > 20);
    }
    alphacore::Histogram h(1, 1000, 2);
    try {
        const int64_t bad[] = {-1};
        h.record_batch(bad);
        EXPECT(!"no throw");
    } catch (const std::system_error &e) {
        EXPECT(e.code().value() == ERANGE);
    }
    alphacore::Histogram gone(std::move(h));
    try {
        h.encode();
        EXPECT(!"no throw");
    } catch (const std::system_error &e) {
        EXPECT(e.code().value() == EINVAL);
    }
    try {
        alphacore::PinnedThread p(-1);
        EXPECT(!"no throw");
    } catch (const std::system_error &e) {
        EXPECT(e.code().value() == EINVAL);
    }
}
#endif

int main() {
    histograms();
    regions();
    readers();
    pinned();
    metrics();
    channels();
#if ALPHACORE_HPP_EXCEPTIONS
    exceptions();
    const char *mode = "exceptions";
#else
    const char *mode = "-fno-exceptions";
#endif
    std::printf("cpp hpp (C++%ld, %s): %d passed, %d failed\n", __cplusplus / 100 % 100, mode, passes, failures);
    return failures == 0 ? 0 : 1;
}
