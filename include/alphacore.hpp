/* alphacore.hpp: a header-only C++17 layer over the C contract in alphacore.h.
 *
 * - Move-only owners (RAII): Histogram, Recorder, Reader, Region, Metrics (and its MetricsServer),
 *   Channel and ChannelReader;
 *   a PinnedThread guard that puts the thread's previous affinity back. A moved-from owner holds nothing: its calls reach the C
 *   functions with a NULL handle and fail with EINVAL, they never touch freed memory.
 * - Hot paths add nothing to C: Histogram::record is alphacore_hist_record_inline, Recorder::record
 *   and Reader::poll are one C call; no virtual functions; no allocation where C has none.
 * - Errors: every fallible call has an overload taking `alphacore::error&` (never throws; usable
 *   with -fno-exceptions). An error is a std::error_code in the generic (errno) category plus the
 *   library's detail text (alphacore_last_detail() at the failure). With exceptions enabled the
 *   overloads without `error&` throw std::system_error(code, detail).
 * - Completions: Reader::poll returns a Batch, a range over the harvested alphacore_completion
 *   entries (an alphacore::span: std::span in C++20, a small span-like view in C++17) that gives
 *   the buffers back when it ends.
 *
 * The owners call the C functions that own the resources; do not destroy a handle through the
 * C API while an owner holds it: take it out first with release(). */
#ifndef ALPHACORE_HPP
#define ALPHACORE_HPP

#include <alphacore.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#if __cplusplus >= 202002L && defined(__has_include)
#if __has_include(<span>)
#include <span>
#endif
#endif

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define ALPHACORE_HPP_EXCEPTIONS 1
#else
#define ALPHACORE_HPP_EXCEPTIONS 0
#endif

namespace alphacore {

/* ---- span: std::span where the library has it, else a minimal contiguous view ------------ */

#if defined(__cpp_lib_span)
template <class T>
using span = std::span<T>;
#else
template <class T>
class span {
public:
    using element_type = T;
    using value_type = typename std::remove_cv<T>::type;
    using size_type = std::size_t;
    using iterator = T *;

    constexpr span() noexcept : p_(nullptr), n_(0) {}
    constexpr span(T *p, std::size_t n) noexcept : p_(p), n_(n) {}
    template <std::size_t N>
    constexpr span(T (&a)[N]) noexcept : p_(a), n_(N) {}
    /* From a contiguous container (std::vector, std::array) or another span. */
    template <class C, class = decltype(static_cast<T *>(std::declval<C &>().data())),
              class = decltype(std::declval<C &>().size())>
    constexpr span(C &c) noexcept : p_(c.data()), n_(c.size()) {}

    constexpr T *data() const noexcept { return p_; }
    constexpr std::size_t size() const noexcept { return n_; }
    constexpr bool empty() const noexcept { return n_ == 0; }
    constexpr T &operator[](std::size_t i) const noexcept { return p_[i]; }
    constexpr T *begin() const noexcept { return p_; }
    constexpr T *end() const noexcept { return p_ + n_; }
    constexpr span first(std::size_t n) const noexcept { return span(p_, n); }
    constexpr span subspan(std::size_t off, std::size_t n) const noexcept { return span(p_ + off, n); }

private:
    T *p_;
    std::size_t n_;
};
#endif

/* ---- errors -------------------------------------------------------------------------------- */

/* A failed call: its errno as a std::error_code (generic category; the library's own
 * ALPHACORE_E* codes keep their values) and the detail text the library gave for it, copied
 * into the error (at most 255 bytes; no allocation, so filling one never throws). */
class error {
public:
    error() noexcept { detail_[0] = '\0'; }
    /* From a negative return of a C function; copies alphacore_last_detail() now. */
    explicit error(int rc) noexcept : code_(rc < 0 ? -rc : rc, std::generic_category()) {
        const char *d = alphacore_last_detail();
        std::size_t i = 0;
        for (; d != nullptr && d[i] != '\0' && i + 1 < sizeof detail_; i++) detail_[i] = d[i];
        detail_[i] = '\0';
    }

    const std::error_code &code() const noexcept { return code_; }
    int value() const noexcept { return code_.value(); }
    const char *detail() const noexcept { return detail_; }
    /* "<strerror>: <detail>" */
    std::string message() const {
        std::string m = alphacore_strerror(code_.value());
        if (detail_[0] != '\0') m.append(": ").append(detail_);
        return m;
    }
    explicit operator bool() const noexcept { return static_cast<bool>(code_); }
    operator std::error_code() const noexcept { return code_; }
    void clear() noexcept {
        code_.clear();
        detail_[0] = '\0';
    }

private:
    std::error_code code_;
    char detail_[256];
};

namespace detail {
/* rc < 0: fills err and returns false; else clears err and returns true. Cold on failure. */
inline bool ok(int rc, error &err) noexcept {
    if (rc >= 0) {
        if (err) err.clear();
        return true;
    }
    err = error(rc);
    return false;
}
inline bool ok64(int64_t rc, error &err) noexcept { return ok(rc < 0 ? static_cast<int>(rc) : 0, err); }
#if ALPHACORE_HPP_EXCEPTIONS
[[noreturn]] inline void raise(const error &e) { throw std::system_error(e.code(), e.detail()); }
inline void check(int rc) {
    if (rc < 0) raise(error(rc));
}
template <class T>
T value_or_throw(T &&v, const error &e) {
    if (e) raise(e);
    return std::forward<T>(v);
}
#endif
}  // namespace detail

/* ---- owners -------------------------------------------------------------------------------- */

namespace detail {
/* A move-only owner of one C handle, destroyed with Destroy (which takes NULL). No virtual
 * functions: the owners below derive from it only to share these members. */
template <class T, void (*Destroy)(T *)>
class owner {
public:
    owner() noexcept = default;
    /* Adopts a handle from the C API; NULL gives an empty owner. */
    explicit owner(T *adopt) noexcept : p_(adopt) {}
    owner(const owner &) = delete;
    owner &operator=(const owner &) = delete;
    owner(owner &&o) noexcept : p_(o.release()) {}
    owner &operator=(owner &&o) noexcept {
        if (this != &o) reset(o.release());
        return *this;
    }
    ~owner() { Destroy(p_); }

    T *get() const noexcept { return p_; }
    /* Gives the handle up (the caller destroys it); the owner is empty afterwards. */
    T *release() noexcept { return std::exchange(p_, nullptr); }
    void reset(T *p = nullptr) noexcept { Destroy(std::exchange(p_, p)); }
    explicit operator bool() const noexcept { return p_ != nullptr; }

protected:
    T *p_ = nullptr;
};
}  // namespace detail

/* ---- Histogram ----------------------------------------------------------------------------- */

class Histogram : public detail::owner<alphacore_hist, alphacore_hist_destroy> {
public:
    using owner::owner;
    Histogram() noexcept = default;
    Histogram(int64_t lowest, int64_t highest, int digits, error &err) noexcept {
        detail::ok(alphacore_hist_create(lowest, highest, digits, &p_), err);
    }
#if ALPHACORE_HPP_EXCEPTIONS
    Histogram(int64_t lowest, int64_t highest, int digits) {
        detail::check(alphacore_hist_create(lowest, highest, digits, &p_));
    }
#endif

    /* The hot path: alphacore_hist_record_inline itself. 0, -ERANGE, -EINVAL (empty owner). */
    int record(int64_t value) noexcept { return alphacore_hist_record_inline(p_, value); }
    int record_n(int64_t value, int64_t count) noexcept { return alphacore_hist_record_n(p_, value, count); }
    int record_atomic(int64_t value) noexcept { return alphacore_hist_record_atomic(p_, value); }
    int record_corrected(int64_t value, int64_t expected_interval) noexcept {
        return alphacore_hist_record_corrected(p_, value, expected_interval);
    }
    bool record_batch(span<const int64_t> values, error &err) noexcept {
        return detail::ok(alphacore_hist_record_batch(p_, values.data(), values.size()), err);
    }

    int64_t value_at_percentile(double p) const noexcept { return alphacore_hist_value_at_percentile(p_, p); }
    int64_t min() const noexcept { return alphacore_hist_min(p_); }
    int64_t max() const noexcept { return alphacore_hist_max(p_); }
    double mean() const noexcept { return alphacore_hist_mean(p_); }
    double stddev() const noexcept { return alphacore_hist_stddev(p_); }
    int64_t total_count() const noexcept { return alphacore_hist_total_count(p_); }
    int64_t count_at_value(int64_t v) const noexcept { return alphacore_hist_count_at_value(p_, v); }
    int64_t footprint() const noexcept { return alphacore_hist_footprint(p_); }

    bool clear(error &err) noexcept { return detail::ok(alphacore_hist_reset(p_), err); }
    /* Adds other's counts; returns the number of values that did not fit (dropped), or -1 on error. */
    int64_t add(const Histogram &other, error &err) noexcept {
        int64_t rc = alphacore_hist_add(p_, other.p_);
        return detail::ok64(rc, err) ? rc : -1;
    }
    Histogram copy(error &err) const noexcept {
        alphacore_hist *c = nullptr;
        detail::ok(alphacore_hist_copy(p_, &c), err);
        return Histogram(c);
    }
    /* The V2 compressed wire format, base64 (what HdrHistogram tools read). */
    std::string encode(error &err) const {
        std::string out;
        int64_t need = alphacore_hist_encode(p_, nullptr, 0);
        if (!detail::ok64(need, err)) return out;
        out.resize(static_cast<std::size_t>(need) + 1);
        int64_t got = alphacore_hist_encode(p_, &out[0], out.size());
        if (!detail::ok64(got, err)) return std::string();
        out.resize(static_cast<std::size_t>(got));
        return out;
    }
    static Histogram decode(const char *b64, std::size_t len, error &err) noexcept {
        alphacore_hist *h = nullptr;
        detail::ok(alphacore_hist_decode(b64, len, &h), err);
        return Histogram(h);
    }

#if ALPHACORE_HPP_EXCEPTIONS
    void record_batch(span<const int64_t> values) {
        detail::check(alphacore_hist_record_batch(p_, values.data(), values.size()));
    }
    void clear() { detail::check(alphacore_hist_reset(p_)); }
    int64_t add(const Histogram &other) {
        int64_t rc = alphacore_hist_add(p_, other.p_);
        if (rc < 0) detail::raise(error(static_cast<int>(rc)));
        return rc;
    }
    Histogram copy() const {
        error e;
        return detail::value_or_throw(copy(e), e);
    }
    std::string encode() const {
        error e;
        return detail::value_or_throw(encode(e), e);
    }
    static Histogram decode(const char *b64, std::size_t len) {
        error e;
        return detail::value_or_throw(decode(b64, len, e), e);
    }
#endif

};

/* ---- Recorder ------------------------------------------------------------------------------ */

class Recorder : public detail::owner<alphacore_recorder, alphacore_recorder_destroy> {
public:
    using owner::owner;
    Recorder() noexcept = default;
    Recorder(int64_t lowest, int64_t highest, int digits, error &err) noexcept {
        detail::ok(alphacore_recorder_create(lowest, highest, digits, &p_), err);
    }
#if ALPHACORE_HPP_EXCEPTIONS
    Recorder(int64_t lowest, int64_t highest, int digits) {
        detail::check(alphacore_recorder_create(lowest, highest, digits, &p_));
    }
#endif

    /* Any thread, wait-free: one C call. 0, -ERANGE, -EINVAL. */
    int record(int64_t value) noexcept { return alphacore_recorder_record(p_, value); }
    /* Replaces into's contents with the values recorded since the previous sample. */
    bool sample(Histogram &into, error &err) noexcept { return detail::ok(alphacore_recorder_sample(p_, into.get()), err); }
#if ALPHACORE_HPP_EXCEPTIONS
    void sample(Histogram &into) { detail::check(alphacore_recorder_sample(p_, into.get())); }
#endif

};

/* ---- Reader and its completions ------------------------------------------------------------ */

/* The bytes of one completion (empty for an end of stream or an error). */
inline span<const unsigned char> payload(const alphacore_completion &c) noexcept {
    return c.result > 0 ? span<const unsigned char>(static_cast<const unsigned char *>(c.data),
                                                    static_cast<std::size_t>(c.result))
                        : span<const unsigned char>();
}

/* The completions of one poll: a range (begin/end, size, operator[], view()) that gives their
 * buffers back to the reader when it ends, or earlier with release(). Move-only. */
class Batch {
public:
    Batch() noexcept = default;
    Batch(alphacore_reader *r, alphacore_completion *p, std::size_t n) noexcept : r_(r), p_(p), n_(n) {}
    Batch(const Batch &) = delete;
    Batch &operator=(const Batch &) = delete;
    Batch(Batch &&o) noexcept : r_(o.r_), p_(o.p_), n_(std::exchange(o.n_, 0)) {}
    Batch &operator=(Batch &&o) noexcept {
        if (this != &o) {
            release();
            r_ = o.r_;
            p_ = o.p_;
            n_ = std::exchange(o.n_, 0);
        }
        return *this;
    }
    ~Batch() { release(); }

    span<const alphacore_completion> view() const noexcept { return span<const alphacore_completion>(p_, n_); }
    const alphacore_completion *begin() const noexcept { return p_; }
    const alphacore_completion *end() const noexcept { return p_ + n_; }
    std::size_t size() const noexcept { return n_; }
    bool empty() const noexcept { return n_ == 0; }
    const alphacore_completion &operator[](std::size_t i) const noexcept { return p_[i]; }
    /* Gives the buffers back now (once); the batch is empty afterwards. */
    void release() noexcept {
        if (n_ != 0) alphacore_reader_release(r_, p_, static_cast<uint32_t>(n_));
        n_ = 0;
    }

private:
    alphacore_reader *r_ = nullptr;
    alphacore_completion *p_ = nullptr;
    std::size_t n_ = 0;
};

class Reader : public detail::owner<alphacore_reader, alphacore_reader_destroy> {
public:
    using owner::owner;
    Reader() noexcept = default;
    /* opts NULL = the defaults. */
    explicit Reader(const alphacore_reader_opts *opts, error &err) noexcept {
        detail::ok(alphacore_reader_create(opts, &p_), err);
    }
#if ALPHACORE_HPP_EXCEPTIONS
    explicit Reader(const alphacore_reader_opts *opts = nullptr) { detail::check(alphacore_reader_create(opts, &p_)); }
#endif

    bool add(int fd, uint64_t user_data, error &err) noexcept { return detail::ok(alphacore_reader_add(p_, fd, user_data), err); }
    bool remove(int fd, error &err) noexcept { return detail::ok(alphacore_reader_remove(p_, fd), err); }
    /* Harvests into out (one C call); the Batch gives the buffers back when it ends. On failure
     * the batch is empty and err says why. */
    Batch poll(span<alphacore_completion> out, uint32_t min_complete, int64_t timeout_ns, error &err,
               int64_t min_wait_ns = 0) noexcept {
        int n = alphacore_reader_poll(p_, out.data(), static_cast<uint32_t>(out.size()), min_complete, min_wait_ns,
                                      timeout_ns);
        if (!detail::ok(n, err)) return Batch();
        return Batch(p_, out.data(), static_cast<std::size_t>(n));
    }
    bool info(alphacore_reader_details &out, error &err) const noexcept {
        out.struct_size = sizeof out;
        return detail::ok(alphacore_reader_info(p_, &out), err);
    }
    bool stats(alphacore_reader_counters &out, error &err) const noexcept {
        out.struct_size = sizeof out;
        return detail::ok(alphacore_reader_stats(p_, &out), err);
    }
#if ALPHACORE_HPP_EXCEPTIONS
    void add(int fd, uint64_t user_data) { detail::check(alphacore_reader_add(p_, fd, user_data)); }
    void remove(int fd) { detail::check(alphacore_reader_remove(p_, fd)); }
    Batch poll(span<alphacore_completion> out, uint32_t min_complete, int64_t timeout_ns, int64_t min_wait_ns = 0) {
        error e;
        Batch b = poll(out, min_complete, timeout_ns, e, min_wait_ns);
        if (e) detail::raise(e);
        return b;
    }
    alphacore_reader_details info() const {
        alphacore_reader_details d{};
        d.struct_size = sizeof d;
        detail::check(alphacore_reader_info(p_, &d));
        return d;
    }
    alphacore_reader_counters stats() const {
        alphacore_reader_counters c{};
        c.struct_size = sizeof c;
        detail::check(alphacore_reader_stats(p_, &c));
        return c;
    }
#endif

};

/* ---- Region -------------------------------------------------------------------------------- */

/* A huge-page region (alphacore_mem_alloc) or a named shared one; freed when the owner ends. */
class Region {
public:
    Region() noexcept : r_() {}
    /* opts NULL = the defaults. */
    Region(std::size_t size, const alphacore_mem_opts *opts, error &err) noexcept : r_() {
        detail::ok(alphacore_mem_alloc(size, opts, &r_), err);
    }
#if ALPHACORE_HPP_EXCEPTIONS
    explicit Region(std::size_t size, const alphacore_mem_opts *opts = nullptr) : r_() {
        detail::check(alphacore_mem_alloc(size, opts, &r_));
    }
#endif
    static Region shared_create(const char *name, std::size_t size, const alphacore_mem_opts *opts, error &err) noexcept {
        Region r;
        detail::ok(alphacore_mem_shared_create(name, size, opts, &r.r_), err);
        return r;
    }
    static Region shared_open(const char *name, const alphacore_mem_opts *opts, error &err) noexcept {
        Region r;
        detail::ok(alphacore_mem_shared_open(name, opts, &r.r_), err);
        return r;
    }
#if ALPHACORE_HPP_EXCEPTIONS
    static Region shared_create(const char *name, std::size_t size, const alphacore_mem_opts *opts = nullptr) {
        Region r;
        detail::check(alphacore_mem_shared_create(name, size, opts, &r.r_));
        return r;
    }
    static Region shared_open(const char *name, const alphacore_mem_opts *opts = nullptr) {
        Region r;
        detail::check(alphacore_mem_shared_open(name, opts, &r.r_));
        return r;
    }
#endif
    Region(const Region &) = delete;
    Region &operator=(const Region &) = delete;
    Region(Region &&o) noexcept : r_(std::exchange(o.r_, alphacore_region())) {}
    Region &operator=(Region &&o) noexcept {
        if (this != &o) {
            error ignored_on_move;
            close(ignored_on_move);
            r_ = std::exchange(o.r_, alphacore_region());
        }
        return *this;
    }
    ~Region() {
        if (r_.addr != nullptr) alphacore_mem_free(&r_);
    }

    void *data() const noexcept { return r_.addr; }
    std::size_t size() const noexcept { return static_cast<std::size_t>(r_.size); }
    span<unsigned char> bytes() const noexcept { return span<unsigned char>(static_cast<unsigned char *>(r_.addr), size()); }
    uint64_t page_size() const noexcept { return r_.page_size; }
    alphacore_mem_backing backing() const noexcept { return static_cast<alphacore_mem_backing>(r_.backing); }
    const alphacore_region &native() const noexcept { return r_; }
    explicit operator bool() const noexcept { return r_.addr != nullptr; }
    /* The ladder's report in words. */
    std::string report() const {
        int need = alphacore_mem_report(&r_, nullptr, 0);
        if (need <= 0) return std::string();
        std::string s(static_cast<std::size_t>(need) + 1, '\0');
        alphacore_mem_report(&r_, &s[0], s.size());
        s.resize(static_cast<std::size_t>(need));
        return s;
    }
    /* Frees now. A region already freed through the C API (a copy of native()) gives EINVAL. */
    bool close(error &err) noexcept {
        if (r_.addr == nullptr) return detail::ok(0, err);
        bool done = detail::ok(alphacore_mem_free(&r_), err);
        r_ = alphacore_region();
        return done;
    }

private:
    alphacore_region r_;
};

/* ---- Metrics ------------------------------------------------------------------------------- */

namespace detail {
inline void stop_server(alphacore_metrics_server *s) noexcept { alphacore_metrics_server_stop(s); }
}  // namespace detail

/* A running scrape endpoint (alphacore_metrics_serve); stopped when the owner ends. */
class MetricsServer : public detail::owner<alphacore_metrics_server, detail::stop_server> {
public:
    using owner::owner;
    MetricsServer() noexcept = default;
    /* The TCP port it listens on; -EINVAL for an empty owner. */
    int port() const noexcept { return alphacore_metrics_server_port(p_); }
    /* Stops now: the thread has exited and its sockets are closed when this returns. */
    bool stop(error &err) noexcept { return detail::ok(alphacore_metrics_server_stop(release()), err); }
};

/* A Prometheus registry (alphacore_metrics_*). It reads the histograms, recorders and readers
 * registered with it but does not own them: remove() one before its owner ends. */
class Metrics : public detail::owner<alphacore_metrics, alphacore_metrics_destroy> {
public:
    using owner::owner;
    Metrics() noexcept = default;
    static Metrics create(error &err) noexcept {
        Metrics m;
        detail::ok(alphacore_metrics_create(&m.p_), err);
        return m;
    }
    bool add(const char *name, const char *help, const char *unit, const char *labels, Histogram &h,
             error &err, const alphacore_metric_opts *opts = nullptr) noexcept {
        return detail::ok(alphacore_metrics_add_hist(p_, name, help, unit, labels, h.get(), opts), err);
    }
    bool add(const char *name, const char *help, const char *unit, const char *labels, Recorder &r,
             error &err, const alphacore_metric_opts *opts = nullptr) noexcept {
        return detail::ok(alphacore_metrics_add_recorder(p_, name, help, unit, labels, r.get(), opts), err);
    }
    bool add(const char *labels, Reader &r, error &err) noexcept {
        return detail::ok(alphacore_metrics_add_reader(p_, labels, r.get()), err);
    }
    /* A counter slot the registry owns (add to it; a scrape reads it); nullptr on failure. */
    uint64_t *counter(const char *name, const char *help, const char *unit, const char *labels, error &err) noexcept {
        uint64_t *slot = nullptr;
        detail::ok(alphacore_metrics_counter(p_, name, help, unit, labels, &slot), err);
        return slot;
    }
    int64_t *gauge(const char *name, const char *help, const char *unit, const char *labels, error &err) noexcept {
        int64_t *slot = nullptr;
        detail::ok(alphacore_metrics_gauge(p_, name, help, unit, labels, &slot), err);
        return slot;
    }
    bool add_host(const char *labels, error &err) noexcept { return detail::ok(alphacore_metrics_add_host(p_, labels), err); }
    bool add_thread(const char *name, const char *labels, error &err) noexcept {
        return detail::ok(alphacore_metrics_add_thread(p_, name, labels), err);
    }
    /* Unregisters every series reading `handle` (h.get(), r.get(), a slot); how many, or -1. */
    int remove(const void *handle, error &err) noexcept {
        int n = alphacore_metrics_remove(p_, handle);
        return detail::ok(n, err) ? n : -1;
    }
    /* The exposition in `format` (ALPHACORE_METRICS_TEXT, _OPENMETRICS, _PROTOBUF: binary). */
    std::string write(int format, error &err) const {
        std::string out;
        for (int attempt = 0; attempt < 4; attempt++) {   /* a series added meanwhile may grow it */
            int64_t need = alphacore_metrics_write(p_, format, out.empty() ? nullptr : &out[0], out.size());
            if (!detail::ok64(need, err)) return std::string();
            if (static_cast<std::size_t>(need) < out.size()) {
                out.resize(static_cast<std::size_t>(need));
                return out;
            }
            out.assign(static_cast<std::size_t>(need) + 1, '\0');
        }
        err = error(-EAGAIN);
        return std::string();
    }
    /* Serves the registry on `listen` ("127.0.0.1:0" picks a free port); opts NULL = defaults. */
    MetricsServer serve(const char *listen, error &err, const alphacore_serve_opts *opts = nullptr) noexcept {
        alphacore_metrics_server *s = nullptr;
        detail::ok(alphacore_metrics_serve(p_, listen, opts, &s), err);
        return MetricsServer(s);
    }
#if ALPHACORE_HPP_EXCEPTIONS
    static Metrics create() {
        error e;
        return detail::value_or_throw(create(e), e);
    }
    std::string write(int format) const {
        error e;
        return detail::value_or_throw(write(format, e), e);
    }
    MetricsServer serve(const char *listen, const alphacore_serve_opts *opts = nullptr) {
        error e;
        return detail::value_or_throw(serve(listen, e, opts), e);
    }
#endif
};

/* ---- Channel ------------------------------------------------------------------------------- */

/* The producer of a shared-memory channel (alphacore_channel_create); destroyed when the owner
 * ends (the name stays: Channel::unlink removes it). claim/commit/publish are one C call each. */
class Channel : public detail::owner<alphacore_channel, alphacore_channel_destroy> {
public:
    using owner::owner;
    Channel() noexcept = default;
    /* opts NULL = the defaults. */
    Channel(const char *name, const alphacore_channel_opts *opts, error &err) noexcept {
        detail::ok(alphacore_channel_create(name, opts, &p_), err);
    }
#if ALPHACORE_HPP_EXCEPTIONS
    explicit Channel(const char *name, const alphacore_channel_opts *opts = nullptr) {
        detail::check(alphacore_channel_create(name, opts, &p_));
    }
#endif
    /* The hot path: 0 or -errno, as the C functions. */
    int claim(std::size_t len, void **ptr) noexcept { return alphacore_channel_claim(p_, len, ptr); }
    int commit(void *ptr) noexcept { return alphacore_channel_commit(p_, ptr); }
    int publish(const void *msg, std::size_t len) noexcept { return alphacore_channel_publish(p_, msg, len); }
    int heartbeat() noexcept { return alphacore_channel_heartbeat(p_); }
    static bool unlink(const char *name, error &err) noexcept { return detail::ok(alphacore_channel_unlink(name), err); }
};

/* A consumer of a channel (alphacore_channel_open); closed when the owner ends. */
class ChannelReader : public detail::owner<alphacore_channel_reader, alphacore_channel_reader_close> {
public:
    using owner::owner;
    ChannelReader() noexcept = default;
    ChannelReader(const char *name, const alphacore_channel_reader_opts *opts, error &err) noexcept {
        detail::ok(alphacore_channel_open(name, opts, &p_), err);
    }
#if ALPHACORE_HPP_EXCEPTIONS
    explicit ChannelReader(const char *name, const alphacore_channel_reader_opts *opts = nullptr) {
        detail::check(alphacore_channel_open(name, opts, &p_));
    }
#endif
    /* Up to out.size() messages without copying (one C call): the ones handed out, or empty
     * with err set (EOVERFLOW: lapped; ECONNRESET: a new producer; EPROTO: a scribbled record). */
    span<const alphacore_channel_msg> poll(span<alphacore_channel_msg> out, error &err) noexcept {
        int n = alphacore_channel_poll(p_, out.data(), static_cast<uint32_t>(out.size()));
        if (!detail::ok(n, err)) return span<const alphacore_channel_msg>();
        return span<const alphacore_channel_msg>(out.data(), static_cast<std::size_t>(n));
    }
    /* 0 while the latest poll's messages are intact, -EOVERFLOW once overwritten. */
    int check() const noexcept { return alphacore_channel_reader_check(p_); }
    /* 1 when poll has something, 0 on timeout, -errno. */
    int wait(int64_t timeout_ns) noexcept { return alphacore_channel_wait(p_, timeout_ns); }
};

/* ---- PinnedThread -------------------------------------------------------------------------- */

/* Pins the calling thread (one CPU or a cpulist) for the guard's lifetime and puts the previous
 * affinity back when it ends. Neither copyable nor movable: it belongs to the thread's scope.
 * If pinning fails, err says why and the thread is unchanged (pinned() is false). */
class PinnedThread {
public:
    PinnedThread(int cpu, error &err) noexcept { pin(save_and_pin(cpu), err); }
    PinnedThread(const char *cpulist, error &err) noexcept { pin(save_and_pin_list(cpulist), err); }
#if ALPHACORE_HPP_EXCEPTIONS
    explicit PinnedThread(int cpu) {
        error e;
        pin(save_and_pin(cpu), e);
        if (e) detail::raise(e);
    }
    explicit PinnedThread(const char *cpulist) {
        error e;
        pin(save_and_pin_list(cpulist), e);
        if (e) detail::raise(e);
    }
#endif
    PinnedThread(const PinnedThread &) = delete;
    PinnedThread &operator=(const PinnedThread &) = delete;
    ~PinnedThread() {
        if (saved_ != nullptr) {
            alphacore_affinity_restore(saved_);
            alphacore_affinity_free(saved_);
        }
    }
    bool pinned() const noexcept { return saved_ != nullptr; }

private:
    struct attempt {
        alphacore_affinity *saved;
        int rc;
    };
    static attempt save_and_pin(int cpu) noexcept {
        attempt a{nullptr, 0};
        a.rc = alphacore_affinity_save(&a.saved);
        if (a.rc >= 0) a.rc = alphacore_pin_thread(cpu);
        return a;
    }
    static attempt save_and_pin_list(const char *cpulist) noexcept {
        attempt a{nullptr, 0};
        a.rc = alphacore_affinity_save(&a.saved);
        if (a.rc >= 0) a.rc = alphacore_pin_thread_list(cpulist);
        return a;
    }
    void pin(attempt a, error &err) noexcept {
        if (detail::ok(a.rc, err)) {
            saved_ = a.saved;
        } else {
            alphacore_affinity_free(a.saved);   /* the pin failed: the mask is unchanged */
        }
    }
    alphacore_affinity *saved_ = nullptr;
};

/* ---- small helpers ------------------------------------------------------------------------- */

inline const char *version() noexcept { return alphacore_version_string(); }
inline uint64_t cycles() noexcept { return alphacore_rdtsc(); }
inline uint64_t cycles_to_ns(uint64_t c) noexcept { return alphacore_cycles_to_ns(c); }

}  // namespace alphacore

#endif /* ALPHACORE_HPP */
