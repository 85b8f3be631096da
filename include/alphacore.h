/*
 * alphacore.h - the public C interface of libalphacore.
 *
 * One header, one shared library (libalphacore.so.0). Every exported name starts with
 * alphacore_, every macro with ALPHACORE_. Functions return 0 (or a count) on success and a
 * negative errno on failure; they never set errno, never print, never exit. The thread-local
 * alphacore_last_detail() explains the most recent failure on the calling thread in words.
 *
 * Compiles clean as C11 and C++17. See man/man3 for one page per function.
 */
#ifndef ALPHACORE_H
#define ALPHACORE_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define ALPHACORE_API __attribute__((visibility("default")))
#else
#define ALPHACORE_API
#endif

#ifdef __cplusplus
#define ALPHACORE_NOEXCEPT noexcept
extern "C" {
#else
#define ALPHACORE_NOEXCEPT
#endif

/* ======================================================================================
 * Version
 * ====================================================================================== */

#define ALPHACORE_VERSION_MAJOR 0
#define ALPHACORE_VERSION_MINOR 1
#define ALPHACORE_VERSION_PATCH 0
/* major * 10000 + minor * 100 + patch, as alphacore_version_number() returns it */
#define ALPHACORE_VERSION_NUMBER \
    (ALPHACORE_VERSION_MAJOR * 10000 + ALPHACORE_VERSION_MINOR * 100 + ALPHACORE_VERSION_PATCH)

/* The version of the library actually loaded (compare with ALPHACORE_VERSION_NUMBER). MT-Safe. */
ALPHACORE_API unsigned alphacore_version_number(void) ALPHACORE_NOEXCEPT;
/* "0.1.0": a static string, never NULL. MT-Safe. */
ALPHACORE_API const char *alphacore_version_string(void) ALPHACORE_NOEXCEPT;

/* ======================================================================================
 * Errors
 * ====================================================================================== */

/* The library's own error codes, beyond the errno range (returned negated, like errno). */
#define ALPHACORE_EBASE     20000
#define ALPHACORE_EFORMAT   20001   /* malformed input data (text, base64, wire format) */
#define ALPHACORE_EINTERNAL 20002   /* an internal invariant failed; please report */

/* A description of any int: a negative (or positive) errno, one of the ALPHACORE_E* codes,
 * 0 ("success"), or anything else ("unknown error N"). Never NULL. The string is static or
 * thread-local and stays valid until the next call on the same thread. MT-Safe. */
ALPHACORE_API const char *alphacore_strerror(int err) ALPHACORE_NOEXCEPT;

/* Words about the most recent failure on the calling thread ("" if none yet), for example
 * "cpu 5 is not in the allowed set 0-3 (cgroup cpuset)". Successful calls leave it alone.
 * Thread-local; valid until the next failing call on the same thread. Never NULL. MT-Safe. */
ALPHACORE_API const char *alphacore_last_detail(void) ALPHACORE_NOEXCEPT;

/* ======================================================================================
 * Clock
 * ====================================================================================== */

/* CLOCK_MONOTONIC in nanoseconds (vDSO, no system call). MT-Safe. */
ALPHACORE_API uint64_t alphacore_now_ns(void) ALPHACORE_NOEXCEPT;

/* The CPU's cycle counter: TSC on x86-64 (rdtsc), the virtual counter (cntvct_el0) on arm64.
 * Not serialising. MT-Safe. */
ALPHACORE_API uint64_t alphacore_cycles(void) ALPHACORE_NOEXCEPT;

/* Converts a cycle count (or a difference of two) to nanoseconds with the frequency calibrated
 * once per process (the first call may take about 10 ms). Defined for every input: uses 128-bit
 * arithmetic, error at most 1 ns against the calibrated frequency, saturates at UINT64_MAX.
 * MT-Safe. */
ALPHACORE_API uint64_t alphacore_cycles_to_ns(uint64_t cycles) ALPHACORE_NOEXCEPT;

/* The calibrated cycle-counter frequency in Hz (calibrating first if needed). MT-Safe. */
ALPHACORE_API uint64_t alphacore_cycles_per_second(void) ALPHACORE_NOEXCEPT;

/* Header-inline cycle counter for C and C++ callers: the same value as alphacore_cycles()
 * without a call. (Python and other FFI callers use alphacore_cycles().) */
static inline uint64_t alphacore_rdtsc(void) ALPHACORE_NOEXCEPT {
#if defined(__x86_64__) || defined(__i386__)
    uint32_t lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
#elif defined(__aarch64__)
    uint64_t v;
    __asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(v));
    return v;
#else
    return alphacore_cycles();
#endif
}

/* ======================================================================================
 * Latency: HDR histograms, recorder, interval log             (see alphacore_hist_create(3))
 * ====================================================================================== */

/* HDR histograms with HdrHistogram's bucket arithmetic, V2 wire format and interval log.
 * A histogram is one allocation (a 104-byte header and int64 counts); the handle is its
 * address. Values are int64 in [0, highest_trackable]; anything else is -ERANGE and changes
 * nothing. Functions taking `const alphacore_hist *` only read. MT-Unsafe per handle except
 * alphacore_hist_record_atomic (any number of concurrent callers on one histogram). */
typedef struct alphacore_hist alphacore_hist;

/* HdrHistogram's rules: lowest_discernible >= 1, highest_trackable >= 2 * lowest_discernible,
 * significant_digits 1..5. -EINVAL otherwise, -ENOMEM. MT-Safe. */
ALPHACORE_API int alphacore_hist_create(int64_t lowest_discernible, int64_t highest_trackable,
                                        int significant_digits, alphacore_hist **out) ALPHACORE_NOEXCEPT;
/* NULL is fine. */
ALPHACORE_API void alphacore_hist_destroy(alphacore_hist *h) ALPHACORE_NOEXCEPT;
/* A new histogram, same configuration and contents. */
ALPHACORE_API int alphacore_hist_copy(const alphacore_hist *src, alphacore_hist **out) ALPHACORE_NOEXCEPT;
/* Bytes used by the histogram: 104 + 8 * counts length (HdrHistogram_c's hdr_get_memory_size). */
ALPHACORE_API int64_t alphacore_hist_footprint(const alphacore_hist *h) ALPHACORE_NOEXCEPT;

/* Recording. 0, -ERANGE (value < 0 or > highest_trackable; nothing changes), -EINVAL (NULL). */
ALPHACORE_API int alphacore_hist_record(alphacore_hist *h, int64_t value) ALPHACORE_NOEXCEPT;
/* count >= 0; -EOVERFLOW if a count or the total would overflow. */
ALPHACORE_API int alphacore_hist_record_n(alphacore_hist *h, int64_t value, int64_t count) ALPHACORE_NOEXCEPT;
/* Atomic read-modify-writes: many threads may record into one histogram concurrently. */
ALPHACORE_API int alphacore_hist_record_atomic(alphacore_hist *h, int64_t value) ALPHACORE_NOEXCEPT;
/* Coordinated-omission correction (HdrHistogram's recordValueWithExpectedInterval): also
 * records value - k * expected_interval for every k while that stays >= expected_interval.
 * expected_interval <= 0 records the value alone. */
ALPHACORE_API int alphacore_hist_record_corrected(alphacore_hist *h, int64_t value,
                                                  int64_t expected_interval) ALPHACORE_NOEXCEPT;
/* n values in one call. All or nothing: if any value is out of range, -ERANGE and nothing is
 * recorded (alphacore_last_detail() names the first such position). values may be NULL if n == 0. */
ALPHACORE_API int alphacore_hist_record_batch(alphacore_hist *h, const int64_t *values, size_t n) ALPHACORE_NOEXCEPT;

/* Queries. The value at a percentile in [0, 100] (HdrHistogram's definition: the highest
 * equivalent value of the first bucket whose cumulative count reaches the percentile; 0 gives
 * the lowest equivalent value). 0 for an empty histogram. -EINVAL for NaN, out-of-range
 * percentiles and NULL. */
ALPHACORE_API int64_t alphacore_hist_value_at_percentile(const alphacore_hist *h, double percentile) ALPHACORE_NOEXCEPT;
/* n percentiles (any order) answered in one pass into values[0..n-1]. 0 or -EINVAL. */
ALPHACORE_API int alphacore_hist_value_at_percentiles(const alphacore_hist *h, const double *percentiles,
                                                      int64_t *values, size_t n) ALPHACORE_NOEXCEPT;
/* Lowest / highest equivalent value of the smallest / largest recorded value (0 when empty),
 * or -EINVAL for NULL. */
ALPHACORE_API int64_t alphacore_hist_min(const alphacore_hist *h) ALPHACORE_NOEXCEPT;
ALPHACORE_API int64_t alphacore_hist_max(const alphacore_hist *h) ALPHACORE_NOEXCEPT;
/* Mean and standard deviation of the recorded values (at their buckets' median equivalent
 * values); 0 when empty, NaN for NULL. */
ALPHACORE_API double alphacore_hist_mean(const alphacore_hist *h) ALPHACORE_NOEXCEPT;
ALPHACORE_API double alphacore_hist_stddev(const alphacore_hist *h) ALPHACORE_NOEXCEPT;
/* Both in one pass. 0 or -EINVAL. */
ALPHACORE_API int alphacore_hist_mean_stddev(const alphacore_hist *h, double *mean, double *stddev) ALPHACORE_NOEXCEPT;
/* Number of recorded values, or -EINVAL. */
ALPHACORE_API int64_t alphacore_hist_total_count(const alphacore_hist *h) ALPHACORE_NOEXCEPT;
/* Count recorded in value's bucket; -ERANGE outside the histogram, -EINVAL for NULL. */
ALPHACORE_API int64_t alphacore_hist_count_at_value(const alphacore_hist *h, int64_t value) ALPHACORE_NOEXCEPT;
/* Empties the histogram (configuration kept). 0 or -EINVAL. */
ALPHACORE_API int alphacore_hist_reset(alphacore_hist *h) ALPHACORE_NOEXCEPT;
/* Adds src into dst (any two configurations). Returns the number of src values that did not
 * fit in dst (above its range; they are skipped, the rest is added), -EOVERFLOW (nothing
 * added) if dst's total would overflow, -EINVAL for NULL. */
ALPHACORE_API int64_t alphacore_hist_add(alphacore_hist *dst, const alphacore_hist *src) ALPHACORE_NOEXCEPT;

/* The percentile distribution table of HdrHistogram's outputPercentileDistribution (Java
 * format: header, one line per percentile tick, mean/stddev, max/total, buckets), values
 * divided by value_scale (> 0). ticks_per_half_distance >= 1 (5 is HdrHistogram's usual).
 * snprintf-style: returns the length of the full text (without NUL) and writes at most cap
 * bytes including the NUL; buf may be NULL when cap == 0. -EINVAL for bad arguments. */
ALPHACORE_API int64_t alphacore_hist_format_percentiles(const alphacore_hist *h, int ticks_per_half_distance,
                                                        double value_scale, char *buf, size_t cap) ALPHACORE_NOEXCEPT;

/* The V2 compressed encoding, base64 ("HISTFAAA..."), byte-identical to HdrHistogram's (Java,
 * HdrHistogram_c, Python hdrh). snprintf-style like above. */
ALPHACORE_API int64_t alphacore_hist_encode(const alphacore_hist *h, char *buf, size_t cap) ALPHACORE_NOEXCEPT;
/* Decodes len bytes of base64 (surrounding whitespace ignored) into a new histogram.
 * -ALPHACORE_EFORMAT for malformed input (bad base64, cookie, lengths, zlib data, counts that do
 * not fit the declared configuration), -EOVERFLOW for counts summing past INT64_MAX, -E2BIG
 * for len > 1 GiB, -EINVAL for NULL. Memory is bounded by the declared configuration (at most
 * about 50 MB, allocated lazily), never by lengths the input claims. */
ALPHACORE_API int alphacore_hist_decode(const char *b64, size_t len, alphacore_hist **out) ALPHACORE_NOEXCEPT;

/* Interval timestamps carried by a histogram (nanoseconds since the epoch, 0 = unset); set by
 * alphacore_recorder_sample, used by the interval log. */
ALPHACORE_API int alphacore_hist_set_times(alphacore_hist *h, int64_t start_ns, int64_t end_ns) ALPHACORE_NOEXCEPT;
ALPHACORE_API int alphacore_hist_get_times(const alphacore_hist *h, int64_t *start_ns, int64_t *end_ns) ALPHACORE_NOEXCEPT;

/* Interval recorder: writers on any threads record without locks or waiting (per-CPU shards,
 * one relaxed atomic add per value); a reporting thread takes the values recorded since its
 * previous sample. Every value lands in exactly one sample. */
typedef struct alphacore_recorder alphacore_recorder;

/* Same configuration rules as alphacore_hist_create. MT-Safe. */
ALPHACORE_API int alphacore_recorder_create(int64_t lowest_discernible, int64_t highest_trackable,
                                            int significant_digits, alphacore_recorder **out) ALPHACORE_NOEXCEPT;
/* NULL is fine. No writer may be recording. */
ALPHACORE_API void alphacore_recorder_destroy(alphacore_recorder *r) ALPHACORE_NOEXCEPT;
/* MT-Safe, wait-free. 0, -ERANGE, -EINVAL. */
ALPHACORE_API int alphacore_recorder_record(alphacore_recorder *r, int64_t value) ALPHACORE_NOEXCEPT;
/* MT-Safe; all or nothing like alphacore_hist_record_batch. */
ALPHACORE_API int alphacore_recorder_record_batch(alphacore_recorder *r, const int64_t *values, size_t n) ALPHACORE_NOEXCEPT;
/* Replaces into's contents with the values recorded since the previous sample (or creation)
 * and sets its interval times (CLOCK_REALTIME ns). into must have the recorder's configuration
 * (-EINVAL otherwise). One sampling thread at a time (MT-Unsafe per recorder for sample). */
ALPHACORE_API int alphacore_recorder_sample(alphacore_recorder *r, alphacore_hist *into) ALPHACORE_NOEXCEPT;

/* Interval log (HdrHistogram's histogram log format, read by hdrh's HistogramLogReader and
 * HdrHistogram's HistogramLogProcessor). The header: format version, StartTime (start_ns since
 * the epoch, 0 = omit), BaseTime (base_ns, 0 = omit) and the legend line. snprintf-style. */
ALPHACORE_API int64_t alphacore_hist_log_header(int64_t start_ns, int64_t base_ns, char *buf, size_t cap) ALPHACORE_NOEXCEPT;
/* One interval line: [Tag=tag,]start,length,max,base64 with start = (h's start - base_ns)
 * and length in seconds, max = max value / max_value_divisor (> 0; HdrHistogram uses 1e6 for
 * ns -> ms). tag may be NULL; it must not contain ',', ' ' or a line break. snprintf-style. */
ALPHACORE_API int64_t alphacore_hist_log_interval(const alphacore_hist *h, const char *tag, int64_t base_ns,
                                                  double max_value_divisor, char *buf, size_t cap) ALPHACORE_NOEXCEPT;

/* Reading a log: one interval per call. */
typedef struct alphacore_hist_log_reader alphacore_hist_log_reader;
typedef struct alphacore_hist_log_entry {
    uint32_t struct_size;     /* = sizeof(alphacore_hist_log_entry) */
    uint32_t reserved0;
    double start_s;           /* absolute start: line timestamp + BaseTime (seconds) */
    double length_s;          /* interval length (seconds) */
    double max;               /* the line's Interval_Max column */
    char tag[64];             /* "" when the line has no tag (longer tags: EFORMAT) */
    uint64_t reserved[4];
} alphacore_hist_log_entry;
#define ALPHACORE_HIST_LOG_ENTRY_INIT { sizeof(alphacore_hist_log_entry), 0, 0.0, 0.0, 0.0, {0}, {0} }

/* Copies len bytes of log text. MT-Safe. */
ALPHACORE_API int alphacore_hist_log_reader_create(const char *text, size_t len,
                                                   alphacore_hist_log_reader **out) ALPHACORE_NOEXCEPT;
ALPHACORE_API void alphacore_hist_log_reader_destroy(alphacore_hist_log_reader *r) ALPHACORE_NOEXCEPT;
/* 1 and a new histogram in *out (entry filled if not NULL), 0 at the end of the log, or a
 * negative errno (-ALPHACORE_EFORMAT names the line in alphacore_last_detail()). Comment lines,
 * the legend and blank lines are skipped; StartTime and BaseTime are honoured. */
ALPHACORE_API int alphacore_hist_log_reader_next(alphacore_hist_log_reader *r, alphacore_hist **out,
                                                 alphacore_hist_log_entry *entry) ALPHACORE_NOEXCEPT;

/* ======================================================================================
 * CPU placement: topology, pinning, priority, NUMA policy             (see alphacore_pin(3))
 * ====================================================================================== */

/* ======================================================================================
 * Memory: huge-page regions                                     (see alphacore_mem_alloc(3))
 * ====================================================================================== */

/* ======================================================================================
 * Batched reads: io_uring and epoll reader                  (see alphacore_reader_create(3))
 * ====================================================================================== */

/* ======================================================================================
 * Doctor: host readiness checks                              (see alphacore_doctor_run(3))
 * ====================================================================================== */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ALPHACORE_H */
