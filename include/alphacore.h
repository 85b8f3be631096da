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
#if !defined(__x86_64__) && !defined(__i386__) && !defined(__aarch64__)
#include <time.h>
#endif

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
    /* No user-readable cycle counter: CLOCK_MONOTONIC nanoseconds stand in for cycles. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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
 * significant_digits 1..5, and HdrHistogram's sizing rule: unit_magnitude + sub_bucket_half_
 * count_magnitude <= 61, where unit_magnitude = floor(log2(lowest_discernible)) and
 * sub_bucket_half_count_magnitude = ceil(log2(2 * 10^significant_digits)) - 1 (= 4, 7, 10, 14,
 * 17 for 1..5 digits): the sub-buckets of the lowest unit must fit in 62 bits. So
 * lowest_discernible must stay below 2^(62 - that magnitude): alphacore_hist_create(INT64_MAX/2,
 * INT64_MAX, 5) is -EINVAL (61 + 17), (2^44, INT64_MAX, 5) is fine and 2^45 is not. -EINVAL for
 * any of these, -ENOMEM. MT-Safe. */
ALPHACORE_API int alphacore_hist_create(int64_t lowest_discernible, int64_t highest_trackable,
                                        int significant_digits, alphacore_hist **out) ALPHACORE_NOEXCEPT;
/* NULL is fine. */
ALPHACORE_API void alphacore_hist_destroy(alphacore_hist *h) ALPHACORE_NOEXCEPT;
/* A new histogram, same configuration and contents. */
ALPHACORE_API int alphacore_hist_copy(const alphacore_hist *src, alphacore_hist **out) ALPHACORE_NOEXCEPT;
/* Bytes used by the histogram: 104 + 8 * counts length (HdrHistogram_c's hdr_get_memory_size). */
ALPHACORE_API int64_t alphacore_hist_footprint(const alphacore_hist *h) ALPHACORE_NOEXCEPT;

/* The total-count rule: the calls that add many counts at once (record_n, record_batch,
 * record_corrected, add, decode) refuse with -EOVERFLOW, changing nothing, to take a
 * histogram's total above ALPHACORE_HIST_MAX_TOTAL (2^62). The single-value records then have
 * 2^62 records of headroom before INT64_MAX (146 years at one record per nanosecond), so they
 * need no check: the total never wraps, at no cost to the record. */
#define ALPHACORE_HIST_MAX_TOTAL ((int64_t)1 << 62)

/* Recording. 0, -ERANGE (value < 0 or > highest_trackable; nothing changes), -EINVAL (NULL). */
ALPHACORE_API int alphacore_hist_record(alphacore_hist *h, int64_t value) ALPHACORE_NOEXCEPT;
/* Header-inline twin of alphacore_hist_record for C and C++ hot paths: the same range check,
 * bucket arithmetic and updates, without the call into the library (a cross-library call costs
 * about as much as the record itself). It reads the histogram's memory layout below, which is
 * fixed within major version 0 (ALPHACORE_HIST_LAYOUT_VERSION). NULL gives -EINVAL and an
 * out-of-range value -ERANGE, as from alphacore_hist_record, but alphacore_last_detail() is not
 * set. Single writer, like alphacore_hist_record. */
#define ALPHACORE_HIST_LAYOUT_VERSION 1
typedef struct alphacore_hist_layout_v1 {
    int64_t highest_trackable;      /* records accept 0 .. highest_trackable */
    int64_t sub_bucket_mask;
    int64_t total_count;
    int64_t min_nonzero;            /* INT64_MAX when none */
    int64_t max_value;
    int32_t unit_magnitude;
    int32_t sub_bucket_half_count_magnitude;
    int32_t sub_bucket_half_count;
    int32_t sub_bucket_count;
    int32_t bucket_count;
    int32_t counts_len;
    int32_t significant_digits;
    int32_t leading_zero_base;      /* 64 - unit_magnitude - (half_count_magnitude + 1) */
    int64_t lowest_discernible;
    int64_t start_ns, end_ns;
    int64_t total_from_counts;      /* non-zero after alphacore_hist_record_atomic: the total is
                                     * then the counts' sum (total_count lags behind it) */
#if !defined(__cplusplus)
    /* At byte offset 104. A flexible array member tells a C compiler that the counts never
     * alias the fields above, so a loop of inline records may keep total, min and max in
     * registers and store them once (the loop is the only writer: single writer). */
    int64_t counts[];
#endif
    /* In C++ the int64_t counts[counts_len] follow at byte offset 104 all the same. */
} alphacore_hist_layout_v1;

static inline int alphacore_hist_record_inline(alphacore_hist *h, int64_t value) ALPHACORE_NOEXCEPT {
#if defined(__GNUC__) || defined(__clang__)
    alphacore_hist_layout_v1 *l = (alphacore_hist_layout_v1 *)(void *)h;
    /* The same return values as alphacore_hist_record, without its detail text (call it for
     * that): no call on the rejection paths, so a compiler may keep the loop's state in registers. */
    if (__builtin_expect(h == NULL, 0)) return -22;                                               /* -EINVAL */
    if ((uint64_t)value > (uint64_t)l->highest_trackable) return -34;          /* -ERANGE */
    int32_t bucket = l->leading_zero_base - (int32_t)__builtin_clzll((uint64_t)(value | l->sub_bucket_mask));
    int64_t sub = value >> (bucket + l->unit_magnitude);
#if !defined(__cplusplus)
    l->counts[((int64_t)bucket << l->sub_bucket_half_count_magnitude) + sub]++;
#else
    int64_t *counts = (int64_t *)(void *)((char *)(void *)h + 104);
    counts[((int64_t)bucket << l->sub_bucket_half_count_magnitude) + sub]++;
#endif
    l->total_count++;       /* never wraps: see ALPHACORE_HIST_MAX_TOTAL */
    if (value != 0 && value < l->min_nonzero) l->min_nonzero = value;
    if (value > l->max_value) l->max_value = value;
    return 0;
#else
    return alphacore_hist_record(h, value);
#endif
}

/* count >= 0; -EOVERFLOW if the total would pass ALPHACORE_HIST_MAX_TOTAL. */
ALPHACORE_API int alphacore_hist_record_n(alphacore_hist *h, int64_t value, int64_t count) ALPHACORE_NOEXCEPT;
/* Atomic read-modify-writes: many threads may record into one histogram concurrently. Each
 * record is one atomic add to the value's count (plus min/max when they move); the total is
 * not kept per record, so after an atomic record alphacore_hist_total_count and the other
 * single-writer calls sum the counts (O(counts)) until alphacore_hist_reset. -EOVERFLOW
 * (nothing changes) if the value's count is INT64_MAX. */
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
/* n percentiles (any order) answered in one pass into values[0..n-1]. 0, -EINVAL, or -ENOMEM
 * (16 bytes of working memory per percentile could not be allocated). */
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
 * added) if dst's total would pass ALPHACORE_HIST_MAX_TOTAL, -EINVAL for NULL. */
ALPHACORE_API int64_t alphacore_hist_add(alphacore_hist *dst, const alphacore_hist *src) ALPHACORE_NOEXCEPT;

/* The percentile distribution table of HdrHistogram's outputPercentileDistribution (Java
 * format: header, one line per percentile tick, mean/stddev, max/total, buckets), values
 * divided by value_scale (> 0). ticks_per_half_distance 1 ... 1000 (5 is HdrHistogram's usual).
 * snprintf-style: returns the length of the full text (without NUL) and writes at most cap
 * bytes including the NUL; buf may be NULL when cap == 0. -EINVAL for bad arguments. */
ALPHACORE_API int64_t alphacore_hist_format_percentiles(const alphacore_hist *h, int ticks_per_half_distance,
                                                        double value_scale, char *buf, size_t cap) ALPHACORE_NOEXCEPT;

/* The V2 compressed encoding, base64 ("HISTFAAA..."). Byte-identical to HdrHistogram_c 0.11.10's
 * hdr_log_encode for every histogram (an empty one included: one empty slot, 56 characters), and
 * to Python hdrh's except for an empty histogram (hdrh writes a zero-byte payload, which
 * HdrHistogram_c refuses). Java HdrHistogram writes a lone empty slot as a count of 0 where these
 * write a run of -1, so its bytes differ whenever one occurs; it decodes ours to the same counts.
 * Tests/interop (make test-interop) proves each claim against all three. snprintf-style like
 * above. A size query (buf NULL or cap too small) keeps its result for the encode that follows
 * with the same histogram state, so ask-allocate-encode costs about one encode. */
ALPHACORE_API int64_t alphacore_hist_encode(const alphacore_hist *h, char *buf, size_t cap) ALPHACORE_NOEXCEPT;
/* The same at a chosen zlib level: -1 (the default, as alphacore_hist_encode) or 0 ... 9. Every
 * level decodes to the same counts in any HdrHistogram implementation; only -1 is byte-identical
 * to theirs. Level 1 encodes about twice as fast for a few tenths of a percent more bytes (see
 * BENCHMARKS.md). -EINVAL for another level. */
ALPHACORE_API int64_t alphacore_hist_encode_level(const alphacore_hist *h, int level, char *buf,
                                                  size_t cap) ALPHACORE_NOEXCEPT;
/* Decodes len bytes of base64 (surrounding whitespace ignored) into a new histogram: the V2
 * encoding, and V1 and V0 (jHiccup 2.0.6 and 2.0.1 logs) with 2-, 4- or 8-byte words, compressed
 * or the uncompressed payload alone, as HdrHistogram_c and Java read them.
 * -ALPHACORE_EFORMAT for malformed input (bad base64, cookie, word size, lengths, zlib data,
 * counts that do not fit the declared configuration), -EOVERFLOW for counts summing past 2^62 (ALPHACORE_HIST_MAX_TOTAL), -E2BIG
 * for len > 128 MiB (the largest valid encoding is about 75 MB), -EINVAL for NULL, -ENOMEM (the decoded bytes, 3/4 of len, or the histogram
 * could not be allocated). Memory is bounded by the declared configuration (at most
 * about 50 MB, allocated lazily), never by lengths the input claims. */
ALPHACORE_API int alphacore_hist_decode(const char *b64, size_t len, alphacore_hist **out) ALPHACORE_NOEXCEPT;

/* Interval timestamps carried by a histogram (nanoseconds since the epoch, 0 = unset); set by
 * alphacore_recorder_sample, used by the interval log. */
ALPHACORE_API int alphacore_hist_set_times(alphacore_hist *h, int64_t start_ns, int64_t end_ns) ALPHACORE_NOEXCEPT;
ALPHACORE_API int alphacore_hist_get_times(const alphacore_hist *h, int64_t *start_ns, int64_t *end_ns) ALPHACORE_NOEXCEPT;

/* Interval recorder: writers on any threads record without locks or waiting (each thread its
 * own shard, found through a thread-local cache; a plain increment per value); a reporting
 * thread takes the values recorded since its previous sample. Every value lands in exactly one
 * sample. */
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

/* Copies len bytes of log text (text may be NULL if len is 0). 0, -EINVAL (NULL), -E2BIG (len >
 * 512 MiB), -ENOMEM (no memory for the copy). MT-Safe. */
ALPHACORE_API int alphacore_hist_log_reader_create(const char *text, size_t len,
                                                   alphacore_hist_log_reader **out) ALPHACORE_NOEXCEPT;
ALPHACORE_API void alphacore_hist_log_reader_destroy(alphacore_hist_log_reader *r) ALPHACORE_NOEXCEPT;
/* 1 and a new histogram in *out (entry filled if not NULL), 0 at the end of the log, or a
 * negative errno (-ALPHACORE_EFORMAT names the line in alphacore_last_detail()). Comment lines,
 * the legend and blank lines are skipped; StartTime and BaseTime are honoured. */
ALPHACORE_API int alphacore_hist_log_reader_next(alphacore_hist_log_reader *r, alphacore_hist **out,
                                                 alphacore_hist_log_entry *entry) ALPHACORE_NOEXCEPT;

/* ======================================================================================
 * CPU placement: topology, pinning, priority, NUMA policy      (see alphacore_pin_thread(3))
 * ====================================================================================== */

/* CPU and node sets cross the ABI as Linux cpulist text ("0-3,8,10-11", written snprintf-style
 * into a caller buffer: the return value is the full length without the NUL, the buffer gets
 * at most cap-1 bytes and a NUL; buf may be NULL when cap is 0) or as bitmasks of uint64_t
 * words (CPU i is bit i%64 of word i/64). Masks are sized from /sys/devices/system/cpu/possible:
 * alphacore_topology_mask(ALPHACORE_CPUS_POSSIBLE, NULL, 0) returns the words needed.
 *
 * The topology is read once from sysfs (below ALPHACORE_SYSROOT when set) and cached; the
 * allowed CPUs are the process's affinity mask (its main thread's, at load time) intersected
 * with the cgroup v1/v2 cpuset (found from /proc/self/cgroup, walking up the cgroup tree) and
 * the online CPUs. All functions here are MT-Safe. */
#include <pthread.h>

/* `which` for alphacore_topology_list and alphacore_topology_mask. */
#define ALPHACORE_CPUS_POSSIBLE        0
#define ALPHACORE_CPUS_ONLINE          1
#define ALPHACORE_CPUS_ALLOWED         2   /* affinity & cgroup cpuset & online */
#define ALPHACORE_CPUS_ISOLATED        3   /* isolcpus= */
#define ALPHACORE_CPUS_NOHZ_FULL       4
#define ALPHACORE_NODES_ONLINE         5   /* NUMA node ids (may be sparse) */
#define ALPHACORE_NODES_WITH_MEMORY    6

/* Reads the topology again (after CPU hotplug, a cgroup move, or a new ALPHACORE_SYSROOT).
 * 0, or -ENOENT (no /sys/devices/system/cpu/possible under the root), -EINVAL (malformed). */
ALPHACORE_API int alphacore_topology_reload(void) ALPHACORE_NOEXCEPT;

/* The set `which` as a cpulist into buf (snprintf-style). Returns the length, or -EINVAL
 * (unknown which, NULL buf with cap > 0). */
ALPHACORE_API int alphacore_topology_list(int which, char *buf, size_t cap) ALPHACORE_NOEXCEPT;

/* The set `which` as a bitmask: writes min(nwords, needed) words (zeroing the rest of the
 * caller's words) and returns the number of words needed. -EINVAL as above. */
ALPHACORE_API int alphacore_topology_mask(int which, uint64_t *words, size_t nwords) ALPHACORE_NOEXCEPT;

/* Where the allowed set came from, in words, e.g. "cgroup v2 cpuset 0-3
 * (/sys/fs/cgroup/app/cpuset.cpus.effective); process affinity 0-7 (/proc/self/status);
 * online 0-7". snprintf-style. */
ALPHACORE_API int alphacore_cpus_allowed_source(char *buf, size_t cap) ALPHACORE_NOEXCEPT;

/* The NUMA node of a CPU from the cached topology: a few nanoseconds, no lock, no system
 * call. Returns the node, -EINVAL (negative or past the possible CPUs), -ENOENT (a CPU sysfs
 * places on no node, e.g. offline). */
ALPHACORE_API int alphacore_cpu_node(int cpu) ALPHACORE_NOEXCEPT;

typedef struct alphacore_cpu_info {
    uint32_t struct_size;      /* set by the caller: sizeof(alphacore_cpu_info) */
    int32_t  cpu;
    int32_t  online;           /* 0 or 1 */
    int32_t  allowed;          /* in ALPHACORE_CPUS_ALLOWED */
    int32_t  isolated;
    int32_t  nohz_full;
    int32_t  core_id;          /* -1 when sysfs does not say (offline CPUs) */
    int32_t  package_id;
    int32_t  die_id;
    int32_t  l3_id;            /* L3 instance (cache/index3/id), -1 if none */
    int32_t  node;             /* NUMA node, -1 if unknown */
    int32_t  smt_count;        /* hardware threads in this CPU's core, itself included; 0 unknown */
    uint32_t reserved[4];      /* written as 0 */
} alphacore_cpu_info;
#define ALPHACORE_CPU_INFO_INIT { sizeof(alphacore_cpu_info), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, {0} }

/* Fills *info for a possible CPU (min(info->struct_size, sizeof) bytes). 0, -EINVAL (NULL info,
 * struct_size < 8, cpu negative or past the possible CPUs). */
ALPHACORE_API int alphacore_cpu_info_get(int cpu, alphacore_cpu_info *info) ALPHACORE_NOEXCEPT;

/* The SMT siblings of a CPU (its core's hardware threads, itself included) as a cpulist.
 * snprintf-style; -EINVAL for a bad cpu, -ENOENT when sysfs does not say (offline). */
ALPHACORE_API int alphacore_cpu_siblings(int cpu, char *buf, size_t cap) ALPHACORE_NOEXCEPT;

/* The CPUs of a NUMA node as a cpulist (empty for a CPU-less node). snprintf-style;
 * -ENOENT for a node that does not exist. */
ALPHACORE_API int alphacore_node_cpus(int node, char *buf, size_t cap) ALPHACORE_NOEXCEPT;

/* A node's MemTotal and MemFree in bytes (either pointer may be NULL). 0 or -ENOENT. A
 * memoryless node reports 0. Read at topology load. */
ALPHACORE_API int alphacore_node_memory(int node, uint64_t *total_bytes, uint64_t *free_bytes) ALPHACORE_NOEXCEPT;

/* The sysfs distance between two nodes (10 = local), or -ENOENT. */
ALPHACORE_API int alphacore_node_distance(int from, int to) ALPHACORE_NOEXCEPT;

/* The longest string arguments, in bytes without the NUL. The library reads at most one byte
 * more (strnlen), so a longer string is refused with the error its function lists (-ERANGE for
 * a thread name, -EINVAL for the others) and is never read past that span; a string with no
 * NUL at all inside it is the caller's undefined behaviour, as in libc. */
#define ALPHACORE_CPULIST_MAX      65536  /* cpulists and node lists (doctor_opts.cpus and nic_cpus too) */
#define ALPHACORE_NICS_MAX         4096   /* doctor_opts.nics */
#define ALPHACORE_ROLES_SPEC_MAX   65536  /* alphacore_roles_set */
#define ALPHACORE_ROLE_NAME_MAX    256    /* alphacore_pin_role, alphacore_role_cpus */
#define ALPHACORE_THREAD_NAME_MAX  15     /* alphacore_thread_name_set (Linux's TASK_COMM_LEN - 1) */
#define ALPHACORE_SHM_NAME_MAX     200    /* alphacore_mem_shared_create/_open/_unlink */
#define ALPHACORE_HUGEPAGES_SPEC_MAX 4096 /* alphacore_doctor_opts.hugepages */

/* Parses a cpulist strictly ("N" and "A-B" with A <= B, joined by single commas; digits
 * only; ids up to 1048575) into words. Returns the number of CPUs in it, -EINVAL (NULL,
 * empty, malformed), -ERANGE (an id above 1048575, or above nwords * 64 - 1: the detail says
 * how many words are needed). words may be NULL when nwords is 0 (validation only: then any
 * non-empty set is -ERANGE). */
ALPHACORE_API int alphacore_cpulist_parse(const char *cpulist, uint64_t *words, size_t nwords) ALPHACORE_NOEXCEPT;

/* Formats nwords words as a cpulist into buf, snprintf-style ("" for an empty set).
 * -EINVAL for NULL words with nwords > 0. */
ALPHACORE_API int alphacore_cpulist_format(const uint64_t *words, size_t nwords, char *buf, size_t cap) ALPHACORE_NOEXCEPT;

/* Pins the calling thread to one CPU: validated against the allowed set, set, confirmed
 * (the thread runs there when it returns), remembered for alphacore_pin_verify. 0, or
 * -EINVAL (negative, past the possible CPUs, offline, outside the allowed set: the detail names
 * the set and where it came from; or the kernel refused it because the cpuset changed since
 * the topology was loaded), -EAGAIN (another thread changed the mask meanwhile). On failure
 * the thread's affinity is unchanged. */
ALPHACORE_API int alphacore_pin_thread(int cpu) ALPHACORE_NOEXCEPT;

/* Pins the calling thread to a cpulist, validated as a whole, then read back: a set the
 * kernel silently shrank is undone (previous mask restored) and reported as -EINVAL.
 * Errors as alphacore_pin_thread, and -EINVAL/-ERANGE for a malformed list. */
ALPHACORE_API int alphacore_pin_thread_list(const char *cpulist) ALPHACORE_NOEXCEPT;

/* Pins another live thread of this process (by pthread_t) to a cpulist; same checks and
 * read-back. -ESRCH for 0 or a thread that has exited (joined, or detached and finished); no
 * mask changes then. (Python: threading.get_ident() is the pthread_t.)
 * The target thread's alphacore_pin_verify record is not changed: verify checks the pins a
 * thread made itself. */
ALPHACORE_API int alphacore_pin_pthread(pthread_t thread, const char *cpulist) ALPHACORE_NOEXCEPT;

/* Whether the calling thread still runs inside the set it was last pinned to by this library:
 * sched_getcpu() against a thread-local copy of that set, no system call. Catches a thread
 * moved out (mask changed by another thread or taskset, cpuset change, hotplug); does not see
 * a mask widened while the thread still runs on a pinned CPU. 1 yes, 0 no, -ENOENT (this
 * thread was never pinned by the library), -EOVERFLOW (pinned set beyond CPU 1023). */
ALPHACORE_API int alphacore_pin_verify(void) ALPHACORE_NOEXCEPT;

/* The CPU the calling thread runs on (sched_getcpu via the rseq area: no system call). */
ALPHACORE_API int alphacore_current_cpu(void) ALPHACORE_NOEXCEPT;

/* The calling thread's affinity mask now, as a cpulist. snprintf-style. */
ALPHACORE_API int alphacore_thread_affinity(char *buf, size_t cap) ALPHACORE_NOEXCEPT;

/* A saved affinity mask (and the library's pin record) of a thread. */
typedef struct alphacore_affinity alphacore_affinity;
/* Saves the calling thread's mask into a new *out. 0, -EINVAL (NULL out), -ENOMEM. */
ALPHACORE_API int alphacore_affinity_save(alphacore_affinity **out) ALPHACORE_NOEXCEPT;
/* Puts the saved mask back on the calling thread exactly. 0, -EINVAL (NULL, or the kernel
 * refuses: the cpuset no longer holds any of it). */
ALPHACORE_API int alphacore_affinity_restore(const alphacore_affinity *saved) ALPHACORE_NOEXCEPT;
/* Frees a saved mask; NULL is fine. */
ALPHACORE_API void alphacore_affinity_free(alphacore_affinity *saved) ALPHACORE_NOEXCEPT;

/* NUMA: status, memory policy (libnuma's numaif syscall wrappers only). */
#define ALPHACORE_NUMA_UNAVAILABLE  0   /* ENOSYS: no NUMA system calls (kernel or seccomp) */
#define ALPHACORE_NUMA_DENIED       1   /* EPERM: refused (e.g. Docker's default seccomp) */
#define ALPHACORE_NUMA_SINGLE_NODE  2   /* works, one node with memory */
#define ALPHACORE_NUMA_AVAILABLE    3   /* works, two or more nodes with memory */

/* One of ALPHACORE_NUMA_*, probed with get_mempolicy on each call; the detail is not set. */
ALPHACORE_API int alphacore_numa_status(void) ALPHACORE_NOEXCEPT;

/* Memory policy modes (the kernel's MPOL_* values). */
#define ALPHACORE_MPOL_DEFAULT     0
#define ALPHACORE_MPOL_PREFERRED   1   /* exactly one node */
#define ALPHACORE_MPOL_BIND        2
#define ALPHACORE_MPOL_INTERLEAVE  3
#define ALPHACORE_MPOL_LOCAL       4

/* Sets the calling thread's memory policy. nodes: a node list ("0", "0,2"), NULL or "" for
 * DEFAULT and LOCAL. 0, -EINVAL (bad mode, malformed list, unknown or memoryless nodes, a
 * node count the mode does not take), -ENOSYS / -EPERM (NUMA unavailable / denied). */
ALPHACORE_API int alphacore_mem_policy_set(int mode, const char *nodes) ALPHACORE_NOEXCEPT;

#define ALPHACORE_MBIND_STRICT 1u   /* move pages already there; -EIO if some cannot move */

/* Sets the policy of [addr, addr + len) (addr page-aligned). Errors as
 * alphacore_mem_policy_set, and -EINVAL (NULL or unaligned addr, len 0, unknown flags),
 * -EFAULT (range not mapped), -EIO (STRICT and pages could not be moved). */
ALPHACORE_API int alphacore_mem_bind(void *addr, size_t len, int mode, const char *nodes, unsigned flags) ALPHACORE_NOEXCEPT;

/* The node holding the page at addr now (does not fault it in). -ENOENT (page not present:
 * never touched), -EFAULT (not mapped), -EINVAL (NULL), -ENOSYS / -EPERM. */
ALPHACORE_API int alphacore_mem_node_of(const void *addr) ALPHACORE_NOEXCEPT;

/* Roles: a spec such as "collector=2-4;orderbook=5-6;network=7-8" (name=cpulist items joined by
 * ';', names of letters, digits, '_', '-', '.'; no CPU in two roles), validated as a whole
 * against the allowed set. Set by alphacore_roles_set, or taken from the ALPHACORE_CPUS
 * environment variable on first use. */

/* Installs a role spec (NULL: read ALPHACORE_CPUS now), resetting the turn counters. 0, or
 * -EINVAL (malformed, overlapping roles, a CPU outside the allowed set: the detail names it),
 * -ERANGE (an id above 1048575), -ENOENT (NULL and ALPHACORE_CPUS unset). On failure the
 * previous spec stays. */
ALPHACORE_API int alphacore_roles_set(const char *spec) ALPHACORE_NOEXCEPT;

/* Pins the calling thread to the role's next CPU (the k-th call for a role gets its
 * (k mod n)-th CPU) and returns that CPU. -ENOENT (unknown role, or no spec set and
 * ALPHACORE_CPUS unset), -EINVAL (NULL, or ALPHACORE_CPUS invalid), and the errors of
 * alphacore_pin_thread. */
ALPHACORE_API int alphacore_pin_role(const char *role) ALPHACORE_NOEXCEPT;

/* The CPUs of a role as a cpulist, snprintf-style. -ENOENT as alphacore_pin_role. */
ALPHACORE_API int alphacore_role_cpus(const char *role, char *buf, size_t cap) ALPHACORE_NOEXCEPT;

/* Priority. Each change is one system call, made entirely or not at all. */
#define ALPHACORE_SCHED_OTHER 0
#define ALPHACORE_SCHED_FIFO  1
#define ALPHACORE_SCHED_RR    2

/* Sets the calling thread's nice value (-20..19). 0, -EINVAL (out of range), -EACCES (lowering
 * it, even back from an earlier increase, needs CAP_SYS_NICE or RLIMIT_NICE >= 20 - nice: the
 * detail says which is missing). */
ALPHACORE_API int alphacore_set_nice(int nice) ALPHACORE_NOEXCEPT;

/* Sets the calling thread's policy: ALPHACORE_SCHED_FIFO or _RR with priority 1..99, or
 * ALPHACORE_SCHED_OTHER with priority 0. 0, -EINVAL (bad policy or priority), -EPERM (the
 * detail says why: CAP_SYS_NICE missing and RLIMIT_RTPRIO below the priority, or the cgroup's
 * cpu.rt_runtime_us is 0). */
ALPHACORE_API int alphacore_set_realtime(int policy, int priority) ALPHACORE_NOEXCEPT;

/* Names the calling thread (at most ALPHACORE_THREAD_NAME_MAX = 15 bytes; shown by top -H,
 * ps -L, /proc/.../comm). 0, -EINVAL (NULL), -ERANGE (longer than 15 bytes: at most 16 bytes
 * are read). */
ALPHACORE_API int alphacore_thread_name_set(const char *name) ALPHACORE_NOEXCEPT;

/* The calling thread's name, snprintf-style. */
ALPHACORE_API int alphacore_thread_name_get(char *buf, size_t cap) ALPHACORE_NOEXCEPT;



/* ======================================================================================
 * Memory: huge-page regions                                     (see alphacore_mem_alloc(3))
 * ====================================================================================== */

/* What backs a region: the ladder's tiers, best first (also indexes alphacore_region.refused). */
typedef enum alphacore_mem_backing {
    ALPHACORE_MEM_HUGE_1G = 0,   /* hugetlb, 1 GiB pages (reserved from the pool at alloc) */
    ALPHACORE_MEM_HUGE_2M = 1,   /* hugetlb, 2 MiB pages */
    ALPHACORE_MEM_THP     = 2,   /* transparent huge pages, verified in /proc/self/smaps */
    ALPHACORE_MEM_BASE    = 3    /* base pages (4 KiB) */
} alphacore_mem_backing;
#define ALPHACORE_MEM_TIERS 4

/* alphacore_mem_opts.flags */
#define ALPHACORE_MEM_REQUIRE_HUGE 0x01u  /* hugetlb pages or -ENOMEM: no THP/base fallback */
#define ALPHACORE_MEM_NO_THP       0x02u  /* skip THP; base pages get MADV_NOHUGEPAGE */
#define ALPHACORE_MEM_PREFAULT     0x04u  /* fault all pages in now (MADV_POPULATE_WRITE) */
#define ALPHACORE_MEM_LOCK         0x08u  /* mlock (RLIMIT_MEMLOCK/CAP_IPC_LOCK checked first) */
#define ALPHACORE_MEM_NODE_STRICT  0x10u  /* pages only from the node (MPOL_BIND), else preferred */

#define ALPHACORE_MEM_NODE_LOCAL (-1)     /* the node of first touch; with NODE_STRICT, the
                                             calling CPU's node */

/* Options of alphacore_mem_alloc (extensible: set struct_size, keep reserved zero). */
typedef struct alphacore_mem_opts {
    uint32_t struct_size;  /* = sizeof(alphacore_mem_opts) */
    uint32_t flags;        /* ALPHACORE_MEM_* */
    int32_t  node;         /* NUMA node, or ALPHACORE_MEM_NODE_LOCAL */
    uint32_t reserved0;    /* must be 0 */
    uint64_t page_size;    /* 0 = best; else the largest page size to try: 1 GiB, 2 MiB, 4096 */
    uint64_t reserved[4];  /* must be 0 */
} alphacore_mem_opts;
#define ALPHACORE_MEM_OPTS_INIT { sizeof(alphacore_mem_opts), 0, ALPHACORE_MEM_NODE_LOCAL, 0, 0, {0} }

/* alphacore_region.flags: what was done to the region */
#define ALPHACORE_REGION_PREFAULTED 0x01u  /* every page faulted in */
#define ALPHACORE_REGION_LOCKED     0x02u  /* mlocked */
#define ALPHACORE_REGION_SHARED     0x04u  /* a named shared region (MAP_SHARED over a file) */
#define ALPHACORE_REGION_NODE_BOUND 0x08u  /* an mbind policy for the node is set */
#define ALPHACORE_REGION_THP_PROBED 0x10u  /* THP verified by faulting the first 2 MiB only */

/* A region, filled by alphacore_mem_alloc (or _plan, with addr NULL). Read the fields; do not
 * change them: alphacore_mem_free checks addr, size, page_size, fd and cookie against the
 * library's registry of live regions. A copy of the struct is the same region: freeing any copy
 * frees it, once; a second free (through the original or another copy), a forged struct, or
 * one with any of those five fields changed is refused with -EINVAL and nothing is unmapped. */
typedef struct alphacore_region {
    void    *addr;         /* start; aligned to page_size */
    uint64_t size;         /* mapped bytes: the request rounded up to page_size */
    uint64_t requested;    /* the size asked for */
    uint64_t page_size;    /* page size that backs it (THP: 2 MiB when verified) */
    uint64_t huge_bytes;   /* bytes verified in huge pages (THP: AnonHugePages/ShmemPmdMapped) */
    int32_t  backing;      /* alphacore_mem_backing */
    int32_t  node;         /* NUMA node the pages were verified on; -1 unknown (not faulted in) */
    int32_t  refused[ALPHACORE_MEM_TIERS]; /* per tier: 0, or -errno why it was not used */
    uint32_t flags;        /* ALPHACORE_REGION_* */
    int32_t  fd;           /* shared regions: the file (owned by the region: do not close it); -1 */
    uint64_t cookie;       /* library-private: identifies the live region */
    uint64_t reserved[4];
} alphacore_region;

/* Maps a region of at least size bytes with the best pages the host gives: 1 GiB hugetlb ->
 * 2 MiB hugetlb -> THP -> base pages, checking each pool's usable pages first (free - reserved
 * + overcommit - surplus, per node with NODE_STRICT). Hugetlb tiers are used only when size is
 * at least one page of that size, unless opts->page_size names it. opts may be NULL (defaults).
 * Fills *out, including refused[] (why each better tier was not used). Returns 0, or -EINVAL
 * (size 0, NULL out, unknown flags, bad page size, a node that does not exist), -E2BIG (unknown
 * options tail), -EOVERFLOW (size overflows when rounded), -ENOMEM (REQUIRE_HUGE and no
 * hugetlb tier; no memory; the memlock limit), -EPERM (LOCK with RLIMIT_MEMLOCK 0 and no
 * CAP_IPC_LOCK), or the errno of the last tier's failure. MT-Safe. */
ALPHACORE_API int alphacore_mem_alloc(size_t size, const alphacore_mem_opts *opts,
                                      alphacore_region *out) ALPHACORE_NOEXCEPT;

/* Unmaps a region with its recorded page size (and closes a shared region's file) and clears
 * *r. Returns 0, or -EINVAL for NULL or a region that is not live (freed already, copied,
 * forged). MT-Safe. */
ALPHACORE_API int alphacore_mem_free(alphacore_region *r) ALPHACORE_NOEXCEPT;

/* The ladder's decision without mapping: fills *out (addr NULL, cookie 0) with the tier
 * alphacore_mem_alloc would try first now and why the better tiers are refused. Same errors
 * as alphacore_mem_alloc's argument checks. MT-Safe. */
ALPHACORE_API int alphacore_mem_plan(size_t size, const alphacore_mem_opts *opts,
                                     alphacore_region *out) ALPHACORE_NOEXCEPT;

/* Writes a report in words (backing, node, flags, and each refused tier with its reason) into
 * buf, snprintf-style: returns the length the full text needs (without the NUL), writes at
 * most cap-1 bytes and a NUL. buf may be NULL with cap 0. -EINVAL for NULL r. MT-Safe. */
ALPHACORE_API int alphacore_mem_report(const alphacore_region *r, char *buf, size_t cap) ALPHACORE_NOEXCEPT;

/* Named shared regions for inter-process use. The name (1-200 (ALPHACORE_SHM_NAME_MAX) bytes of [A-Za-z0-9._-], not
 * starting with '.') names the file alphacore.<name>, created mode 0600: for a hugetlb tier in
 * a writable hugetlbfs mount of that page size (e.g. /dev/hugepages/alphacore.<name>), for THP
 * and base pages in /dev/shm. The same ladder, options and report as alphacore_mem_alloc; a
 * hugetlb tier without a hugetlbfs mount is refused with -ENOENT. Memory is committed at
 * creation (hugetlb reservation; posix_fallocate on tmpfs), so touching never raises SIGBUS.
 * The name appears only once the region is complete (made unnamed with O_TMPFILE, then linked;
 * O_EXCL where a file system refuses O_TMPFILE): a creator that dies midway leaves no name.
 * The region holds the open file (fd) until alphacore_mem_free, which does not remove the name.
 * Returns 0, -EEXIST (the name exists), -EINVAL (a bad name), or alphacore_mem_alloc's errors.
 * MT-Safe. */
ALPHACORE_API int alphacore_mem_shared_create(const char *name, size_t size, const alphacore_mem_opts *opts,
                                              alphacore_region *out) ALPHACORE_NOEXCEPT;

/* Opens and maps a named region another process created (looking in every hugetlbfs mount,
 * then /dev/shm): its size and backing are the creator's; opts gives node, PREFAULT, LOCK,
 * NODE_STRICT (and REQUIRE_HUGE: -ENOMEM if the file is not in hugetlb pages). Returns 0,
 * -ENOENT (no such name), -EACCES (another user's region), -EINVAL, or mapping errors. MT-Safe. */
ALPHACORE_API int alphacore_mem_shared_open(const char *name, const alphacore_mem_opts *opts,
                                            alphacore_region *out) ALPHACORE_NOEXCEPT;

/* Removes the name; regions mapped from it stay valid until freed. 0, -ENOENT, -EINVAL, -EACCES
 * (another user's region: the sticky /dev/shm lets only its owner remove it; the kernel's EPERM
 * is reported as -EACCES, as alphacore_mem_shared_open reports the same region). MT-Safe. */
ALPHACORE_API int alphacore_mem_shared_unlink(const char *name) ALPHACORE_NOEXCEPT;

/* One huge-page pool: a page size, globally (node -1) or on one NUMA node. Counts in pages.
 * usable = free - reserved + (overcommit - surplus); per node: min(free + global overcommit
 * headroom, global usable) (per-node sysfs has no reserved or overcommit counts). */
typedef struct alphacore_hugepage_pool {
    uint64_t page_size;
    int32_t  node;         /* -1 = global */
    uint32_t reserved0;
    uint64_t total;
    uint64_t free;
    uint64_t reserved;     /* resv_hugepages: promised to mappings, not yet faulted */
    uint64_t surplus;
    uint64_t overcommit;   /* nr_overcommit_hugepages (global only) */
    uint64_t usable;
} alphacore_hugepage_pool;

/* Fills up to cap pools (per page size, largest first: the global pool, then each node's).
 * Returns the number of pools that exist (may exceed cap: call again with a larger array);
 * out may be NULL with cap 0. MT-Safe. */
ALPHACORE_API int alphacore_hugepage_pools(alphacore_hugepage_pool *out, size_t cap) ALPHACORE_NOEXCEPT;

/* ======================================================================================
 * Batched reads: io_uring and epoll reader                  (see alphacore_reader_create(3))
 * ====================================================================================== */

/* One reader reads many stream fds (sockets, pipes) with few system calls. On io_uring it keeps
 * one multishot recv (or read) armed per fd, feeding a ring of buffers the library owns
 * (provided buffers); a poll submits, waits and runs the deferred completions in one
 * io_uring_enter. Where io_uring is refused (seccomp, kernel.io_uring_disabled, RLIMIT_MEMLOCK)
 * the same calls run on edge-triggered epoll, and alphacore_reader_info() says which backend is
 * in use and why.
 *
 * Thread-safety: a reader belongs to one thread (MT-Unsafe per handle): create, poll, release,
 * add, remove, read_batch and destroy must all be called from the thread that created it (the
 * io_uring ring is set up with SINGLE_ISSUER | DEFER_TASKRUN). Different readers are
 * independent. */
typedef struct alphacore_reader alphacore_reader;   /* opaque */

/* alphacore_reader_opts.backend */
#define ALPHACORE_READER_AUTO     0u   /* io_uring if the probe passes, else epoll */
#define ALPHACORE_READER_IO_URING 1u   /* io_uring or fail with the errno that refused it */
#define ALPHACORE_READER_EPOLL    2u   /* edge-triggered epoll */

/* alphacore_reader_opts.flags */
#define ALPHACORE_READER_SQPOLL      (1u << 0) /* io_uring: kernel submission thread on sqpoll_cpu */
#define ALPHACORE_READER_BUSY_POLL   (1u << 1) /* = profile SPIN with the poll's timeout as the spin
                                                  budget (never blocks); only with profile 0 */
#define ALPHACORE_READER_HUGE_PAGES  (1u << 2) /* buffers on huge pages where the pool allows */
#define ALPHACORE_READER_NO_FALLBACK (1u << 3) /* AUTO: fail instead of falling back to epoll */

/* alphacore_reader_opts.framing: completions carry whole messages only. A message that
 * straddles two buffers is reassembled by the library and handed out on its own. */
#define ALPHACORE_FRAME_NONE  0u  /* raw bytes as they arrive */
#define ALPHACORE_FRAME_FIXED 1u  /* messages of exactly frame_size bytes */
#define ALPHACORE_FRAME_U16LE 2u  /* 2-byte little-endian length, then that many bytes */
#define ALPHACORE_FRAME_U16BE 3u  /* 2-byte big-endian (network order) length, then the bytes */
#define ALPHACORE_FRAME_U32LE 4u  /* 4-byte little-endian length, then the bytes */
#define ALPHACORE_FRAME_U32BE 5u  /* 4-byte big-endian length, then the bytes */

/* alphacore_reader_opts.profile: how a poll waits (see alphacore_reader_poll(3)). */
#define ALPHACORE_READER_PROFILE_THROUGHPUT 0u /* batching: min_complete and min_wait_ns as given */
#define ALPHACORE_READER_PROFILE_LATENCY    1u /* return as soon as one completion is ready:
                                                  min_complete counts as 1, min_wait_ns as 0 */
#define ALPHACORE_READER_PROFILE_SPIN       2u /* never sleep in the kernel while waiting, for up to
                                                  spin_us microseconds, then block */
#define ALPHACORE_READER_SPIN_US_DEFAULT    100u  /* spin_us 0 means this */
#define ALPHACORE_READER_SPIN_US_MAX        1000000u

typedef struct alphacore_reader_opts {
    uint32_t struct_size;   /* = sizeof(alphacore_reader_opts) */
    uint32_t backend;       /* ALPHACORE_READER_AUTO, _IO_URING or _EPOLL */
    uint32_t flags;         /* ALPHACORE_READER_* flags */
    int32_t  sqpoll_cpu;    /* SQPOLL: the CPU of the kernel thread; -1 = not pinned */
    uint32_t capacity;      /* most fds added at once (1..65536); default 1024 */
    uint32_t buf_size;      /* bytes per buffer (64..1 MiB, multiple of 64); default 4096 */
    uint32_t buf_count;     /* buffers (a power of two, 2..32768); default 2048 */
    uint32_t framing;       /* ALPHACORE_FRAME_*; default NONE */
    uint32_t frame_size;    /* FIXED: the message size; length-prefixed: 0 */
    uint32_t sqpoll_idle_ms;/* SQPOLL: idle time before the thread sleeps; 0 = 1000 */
    uint32_t profile;       /* ALPHACORE_READER_PROFILE_*; default THROUGHPUT */
    uint32_t spin_us;       /* SPIN: the spin budget per poll (0 = ALPHACORE_READER_SPIN_US_DEFAULT,
                               at most ALPHACORE_READER_SPIN_US_MAX); other profiles: 0 */
    uint64_t reserved[3];   /* must be 0 */
} alphacore_reader_opts;
#define ALPHACORE_READER_OPTS_INIT \
    { sizeof(alphacore_reader_opts), ALPHACORE_READER_AUTO, 0u, -1, 1024u, 4096u, 2048u, \
      ALPHACORE_FRAME_NONE, 0u, 0u, ALPHACORE_READER_PROFILE_THROUGHPUT, 0u, {0, 0, 0} }

/* One completion: data read from one fd, its end, or its error. */
typedef struct alphacore_completion {
    uint64_t    user_data; /* as given to alphacore_reader_add (read_batch: the index) */
    const void *data;      /* the bytes, in a buffer the library owns; NULL when result <= 0 */
    int32_t     result;    /* bytes (> 0); 0 = end of stream; -errno for this fd alone */
    uint32_t    buf_id;    /* give back with alphacore_reader_release; ALPHACORE_NO_BUFFER if none */
    int32_t     fd;        /* the fd it came from */
    uint32_t    flags;     /* ALPHACORE_COMPLETION_* */
} alphacore_completion;
#define ALPHACORE_NO_BUFFER 0xFFFFFFFFu
#define ALPHACORE_COMPLETION_REASSEMBLED (1u << 0) /* one message the library put back together */
#define ALPHACORE_COMPLETION_LAST        (1u << 1) /* the fd's last completion: it was removed */

/* What alphacore_reader_info reports. */
typedef struct alphacore_reader_details {
    uint32_t struct_size;     /* set by the caller: sizeof(alphacore_reader_details) */
    uint32_t backend;         /* ALPHACORE_READER_IO_URING or ALPHACORE_READER_EPOLL */
    uint32_t requested;       /* the backend asked for */
    int32_t  uring_errno;     /* 0, or the (positive) errno that refused io_uring */
    char     uring_stage[32]; /* where io_uring was refused: "io_uring_setup", "opcode probe",
                                 "nop round trip", "buffer ring"; "" if not refused */
    char     reason[192];     /* the choice in words */
    uint32_t setup_flags;     /* io_uring setup flags in effect (0 on epoll) */
    uint32_t features;        /* io_uring features the kernel reported (0 on epoll) */
    uint32_t sq_entries;
    uint32_t cq_entries;
    uint32_t capacity;
    uint32_t buf_size;
    uint32_t buf_count;
    uint32_t flags;           /* the ALPHACORE_READER_* flags in effect (HUGE_PAGES only if obtained) */
    uint32_t framing;
    uint32_t frame_size;
    uint64_t buffer_bytes;    /* bytes of buffer memory */
    uint32_t profile;         /* ALPHACORE_READER_PROFILE_* in effect (SPIN for BUSY_POLL) */
    uint32_t spin_us;         /* SPIN: the budget in effect; 0xFFFFFFFF = the poll's timeout (BUSY_POLL) */
    uint64_t reserved[3];
} alphacore_reader_details;

/* Counters since creation. */
typedef struct alphacore_reader_counters {
    uint32_t struct_size;  /* set by the caller: sizeof(alphacore_reader_counters) */
    uint32_t fds;          /* fds added now */
    uint64_t polls;        /* alphacore_reader_poll and _poll_copy calls */
    uint64_t syscalls;     /* system calls made by polls, releases and batches */
    uint64_t completions;  /* completions handed out */
    uint64_t bytes;        /* bytes handed out */
    uint64_t messages;     /* whole messages handed out (framing) */
    uint64_t reassembled;  /* messages put back together from two or more reads */
    uint64_t enobufs;      /* times an fd waited for a free buffer (no data is lost) */
    uint64_t rearms;       /* reads armed again after the kernel ended them */
    uint64_t overflows;    /* times the kernel held completions back (CQ full); none are lost */
    uint64_t eofs;         /* fds that reached end of stream */
    uint64_t errors;       /* per-fd errors handed out */
    uint64_t buffers_held; /* buffers the caller holds now */
    uint64_t reserved[4];
} alphacore_reader_counters;

/* Creates a reader (opts NULL = defaults). Returns 0 and *out, or -EINVAL (bad option, NULL
 * out), -E2BIG (unknown non-zero option bytes), -ENOMEM, -EPERM/-ENOSYS/-ENOMEM/... (the
 * errno that refused io_uring, with backend IO_URING or with NO_FALLBACK), -EMFILE. */
ALPHACORE_API int alphacore_reader_create(const alphacore_reader_opts *opts,
                                          alphacore_reader **out) ALPHACORE_NOEXCEPT;
/* Cancels every read, waits until the kernel has let go of the buffers, frees everything.
 * Buffers the caller holds become invalid. NULL is fine. */
ALPHACORE_API void alphacore_reader_destroy(alphacore_reader *r) ALPHACORE_NOEXCEPT;
/* The backend in use and why. 0, or -EINVAL (NULL, struct_size too small). */
ALPHACORE_API int alphacore_reader_info(const alphacore_reader *r,
                                        alphacore_reader_details *out) ALPHACORE_NOEXCEPT;
/* Starts reading fd; its completions carry user_data. The reader takes stream sockets (TCP,
 * AF_UNIX), datagram sockets (UDP, AF_UNIX datagram: one completion per datagram; a datagram
 * longer than buf_size is cut to buf_size, as recv(2) does), pipes and FIFOs, and other
 * pollable fds such as eventfd and timerfd (idle, they cost no system call). 0, or -EBADF (not
 * open), -EEXIST (already added), -EINVAL (a regular file, directory or block device: use
 * alphacore_read_batch; or the reader's own io_uring or epoll fd), -ENOSPC (capacity reached),
 * -EOPNOTSUPP (io_uring: not a socket, and the kernel lacks multishot read, Linux 6.7). */
ALPHACORE_API int alphacore_reader_add(alphacore_reader *r, int fd, uint64_t user_data) ALPHACORE_NOEXCEPT;
/* Stops reading fd; data not yet handed out is dropped. The fd may be closed right after.
 * 0, or -ENOENT (not added), -EINVAL (NULL reader). */
ALPHACORE_API int alphacore_reader_remove(alphacore_reader *r, int fd) ALPHACORE_NOEXCEPT;

/* Harvests up to max completions into out. Returns as soon as min_complete are ready, or
 * when min_wait_ns has passed with at least one ready, or when timeout_ns has passed
 * (returning 0: a timeout is not an error). timeout_ns = -1 waits without limit; 0 never
 * waits; min_complete = 0 never waits. The profile changes this (ALPHACORE_READER_PROFILE_*).
 * A signal delivered to the polling thread (process-directed or pthread_kill) ends every wait
 * on both backends: the poll returns what it has, or 0. A wait the library's own work ended
 * (a hang-up check, a partial message) may also return fewer than min_complete, even 0,
 * before the timeout: loop on the count. An fd with unread bytes is handed out by the next
 * poll that has room (completions and free buffers).
 * System calls (measured, alphacore_reader_poll(3)): an idle blocking poll makes 1 on both
 * backends (200 idle sockets + 1 eventfd, 500 ms); a poll that may wait more than once (io_uring
 * while a hung-up fd is watched, epoll with min_complete > 1, the spin profile) adds 2
 * (rt_sigprocmask around it, so that no signal is missed between its waits). Under load:
 * 0.0039 per message on io_uring at 1024 sockets x 1 message (min_complete 256, min_wait 50 us),
 * about 1 per message on epoll (one read per message).
 * Each completion with a buffer must be given back with alphacore_reader_release.
 * Returns the count, or -EINVAL (NULL r or out, max = 0, min_complete > max, negative
 * min_wait_ns, timeout_ns < -1), -ENOBUFS (nothing ready and every buffer is held by the
 * caller while fds wait for one: release some). */
ALPHACORE_API int alphacore_reader_poll(alphacore_reader *r, alphacore_completion *out, uint32_t max,
                                        uint32_t min_complete, int64_t min_wait_ns,
                                        int64_t timeout_ns) ALPHACORE_NOEXCEPT;
/* Gives the buffers of n completions back (entries without a buffer are skipped). Returns the
 * number of buffers given back, or -EINVAL (NULL with n > 0, or a buf_id the caller does not
 * hold: the valid ones are still given back). */
ALPHACORE_API int alphacore_reader_release(alphacore_reader *r, const alphacore_completion *completions,
                                           uint32_t n) ALPHACORE_NOEXCEPT;
/* Like alphacore_reader_poll, but copies the data into buf (one after another; each
 * completion's data points into buf) and gives the buffers back at once: for callers that
 * cannot hold library buffers. Harvests at most buf_cap / buf_size completions. Returns the
 * count, or the errors of alphacore_reader_poll, or -EINVAL (buf NULL, buf_cap < buf_size). */
ALPHACORE_API int alphacore_reader_poll_copy(alphacore_reader *r, alphacore_completion *out, uint32_t max,
                                             void *buf, size_t buf_cap, uint32_t min_complete,
                                             int64_t min_wait_ns, int64_t timeout_ns) ALPHACORE_NOEXCEPT;

/* One batch of reads: fds[i] read once (at offsets[i] for files; offsets NULL or
 * UINT64_MAX = the current position, as for sockets and pipes) into a library buffer of
 * buf_size bytes, one submission, out[i] its result (user_data = i). O_DIRECT files work
 * when the offset is aligned (the buffers are page aligned). Reads not done by timeout_ns
 * (-1 = no limit) end with -ETIMEDOUT. Release the buffers as for poll. Returns n (every
 * out[i] is filled), or -EINVAL (NULL arrays with n > 0, n > buf_count, bad timeout),
 * -ENOBUFS (fewer than n batch buffers free). The fds need not be added. */
ALPHACORE_API int alphacore_read_batch(alphacore_reader *r, const int *fds, const uint64_t *offsets,
                                       uint32_t n, alphacore_completion *out,
                                       int64_t timeout_ns) ALPHACORE_NOEXCEPT;

/* The counters. 0, or -EINVAL (NULL, struct_size too small). */
ALPHACORE_API int alphacore_reader_stats(const alphacore_reader *r,
                                         alphacore_reader_counters *out) ALPHACORE_NOEXCEPT;

/* ======================================================================================
 * Doctor: host readiness checks                              (see alphacore_doctor_run(3))
 * ====================================================================================== */

/* The doctor reads /proc and /sys (below the ALPHACORE_SYSROOT prefix when set, as the topology
 * does) and judges the host against what a latency-critical engine needs. It changes nothing.
 * Each check has an id, a severity, what it saw, what it expects, its source and advice; the
 * JSON schema ("alphacore-doctor/1") is documented in docs/doctor.md. */

/* Severities, in order of gravity (unknown: the doctor could not tell, and says why). */
#define ALPHACORE_DOCTOR_OK      0
#define ALPHACORE_DOCTOR_INFO    1
#define ALPHACORE_DOCTOR_UNKNOWN 2
#define ALPHACORE_DOCTOR_WARN    3
#define ALPHACORE_DOCTOR_FAIL    4

/* Flags of alphacore_doctor_opts. */
#define ALPHACORE_DOCTOR_PROBE  0x1u  /* also measure jitter, the tick and core-to-core latency (time-boxed) */
#define ALPHACORE_DOCTOR_TEXT   0x2u  /* write the table for people instead of JSON */
#define ALPHACORE_DOCTOR_COLOUR 0x4u  /* with TEXT: ANSI colours on the severities */

typedef struct alphacore_doctor_opts {
    uint32_t struct_size;      /* = sizeof(alphacore_doctor_opts) */
    uint32_t flags;            /* ALPHACORE_DOCTOR_* */
    const char *cpus;          /* the engine's hot CPUs as a cpulist ("2-5", ids <= 8191, at most
                                  ALPHACORE_CPULIST_MAX bytes); NULL: isolated or all */
    const char *hugepages;     /* huge pages needed, "SIZE:COUNT[@NODE],...": "2M:512@0,1G:2" (at most
                                  ALPHACORE_HUGEPAGES_SPEC_MAX bytes); or NULL */
    uint32_t probe_ms;         /* jitter probe time per hot CPU, 1..60000; 0 = 250 */
    uint32_t reserved0;        /* must be 0 */
    uint64_t reserved[4];      /* must be 0 */
    /* Since 0.2 (a 0.1 caller's struct_size of 64 leaves them at their defaults): the feed's
     * network path (docs/doctor.md). */
    const char *nics;          /* comma-separated NICs the feed arrives on (at most ALPHACORE_NICS_MAX
                                  bytes); NULL: the default route's (and pid's) */
    const char *nic_cpus;      /* cpulist the engine chose for the NICs' IRQs (at most
                                  ALPHACORE_CPULIST_MAX bytes); NULL: anywhere but the hot CPUs */
    uint64_t burst_bytes;      /* largest burst one socket must absorb (net.rmem); 0: not judged */
    int32_t pid;               /* the engine's process: its sockets name NICs too; 0: none */
    uint32_t profile;          /* ALPHACORE_DOCTOR_PROFILE_*: how the engine's reader waits */
} alphacore_doctor_opts;
#define ALPHACORE_DOCTOR_OPTS_INIT { sizeof(alphacore_doctor_opts), 0, NULL, NULL, 0, 0, {0, 0, 0, 0}, NULL, NULL, 0, 0, 0 }

/* Reader profiles of alphacore_doctor_opts.profile (judge busy polling, coalescing and GRO). */
#define ALPHACORE_DOCTOR_PROFILE_LATENCY    0u  /* waits in epoll/io_uring: kernel busy polling wanted */
#define ALPHACORE_DOCTOR_PROFILE_THROUGHPUT 1u  /* sleeps until data comes (also "blocking") */
#define ALPHACORE_DOCTOR_PROFILE_SPIN       2u  /* polls with a zero timeout from its own CPU */

/* How many checks came out with each severity. */
typedef struct alphacore_doctor_summary {
    uint32_t ok, info, unknown, warn, fail;
    uint32_t checks;           /* total */
    uint32_t worst;            /* the gravest ALPHACORE_DOCTOR_* severity */
    uint32_t reserved0;
    uint64_t elapsed_us;       /* how long the run took */
} alphacore_doctor_summary;

/* Runs the checks (and the probes with ALPHACORE_DOCTOR_PROBE) and writes the report, JSON or
 * text, into buf snprintf-style: returns the length of the whole report (without the NUL) and
 * writes at most cap-1 bytes plus a NUL; buf may be NULL when cap is 0. 64 KiB is plenty.
 * summary (optional) receives the counts. A missing, unreadable or garbled file gives an
 * `unknown` check with the reason, never an error. Returns -EINVAL for bad opts (a cpulist or
 * huge-page need that does not parse, unknown flags, probe_ms > 60000, NULL buf with cap > 0,
 * a NIC name that is empty, longer than 15 bytes or holds '/', burst_bytes above 2^40, a
 * negative pid, an unknown profile),
 * -E2BIG for a non-zero tail beyond the known struct. MT-Safe (probes start threads). */
ALPHACORE_API int alphacore_doctor_run(const alphacore_doctor_opts *opts, char *buf, size_t cap,
                                       alphacore_doctor_summary *summary) ALPHACORE_NOEXCEPT;

/* ======================================================================================
 * Channels: one producer, many consumer processes, over shared memory
 *                                                        (see alphacore_channel_create(3))
 * ====================================================================================== */

/* A channel is a named shared region (huge pages where the pool allows, the ladder of
 * alphacore_mem_shared_create) holding a ring of `capacity` bytes. One producer claims and
 * commits variable-length messages (up to max_msg bytes); each carries a sequence number
 * (1, 2, ... per epoch) and its publish time. Any number of processes read it.
 *
 * Safety mechanism: a per-message seqlock plus a lap check. The producer stores its write
 * intent before overwriting anything and commits each record's seq word last (release). A
 * reader accepts a record only when its header names the reader's own position and the
 * expected seq, then checks after the batch that the producer has not begun overwriting it:
 * poll never hands out a record that was torn when handed out. Zero-copy data stays valid
 * until the producer laps the reader: in broadcast mode call alphacore_channel_reader_check
 * after reading (alphacore_channel_poll_copy does the check after copying). Every length and
 * offset read from shared memory is checked against the ring before use.
 *
 * Delivery: BROADCAST (default) never makes the producer wait: a lapped reader gets
 * -EOVERFLOW once (reader_info.last_lost = the exact number lost) and then resumes at the
 * oldest intact message. BACKPRESSURE: each reader registers (pid + start time); the producer
 * waits for (or, with NONBLOCK, refuses with -EAGAIN) the slowest live registered reader; a
 * reader that died is found and dropped. A producer that dies shows as producer_alive = 0 and
 * an old heartbeat; creating the same name again (same geometry) takes the channel over with
 * a new epoch, which readers see as -ECONNRESET once before its first message.
 *
 * Thread-safety: a channel (producer) handle and a reader handle each belong to one thread at
 * a time (MT-Unsafe per handle); different handles are independent. */
typedef struct alphacore_channel alphacore_channel;                 /* opaque: the producer */
typedef struct alphacore_channel_reader alphacore_channel_reader;   /* opaque: a consumer */

/* alphacore_channel_opts.flags */
#define ALPHACORE_CHANNEL_BACKPRESSURE (1u << 0) /* the producer waits for the slowest reader */
#define ALPHACORE_CHANNEL_CYCLES       (1u << 1) /* publish times in alphacore_cycles(), not now_ns */
#define ALPHACORE_CHANNEL_NONBLOCK     (1u << 2) /* BACKPRESSURE: -EAGAIN instead of waiting */
#define ALPHACORE_CHANNEL_NO_TIME      (1u << 3) /* no publish time (ts 0): no clock read per message;
                                                    not with CYCLES; readers cannot ask for READER_HIST */

typedef struct alphacore_channel_opts {
    uint32_t struct_size;     /* = sizeof(alphacore_channel_opts) */
    uint32_t flags;           /* ALPHACORE_CHANNEL_* */
    uint64_t capacity;        /* ring bytes: a power of two, 4096 .. 2^40; default 1 MiB */
    uint32_t max_msg;         /* largest message; 32 + max_msg rounded up to 32 <= capacity / 4 */
    int32_t  node;            /* NUMA node of the memory; -1 = where the producer runs (first touch) */
    uint32_t mem_flags;       /* ALPHACORE_MEM_* for the region (REQUIRE_HUGE, LOCK, ...) */
    uint32_t reserved0;       /* must be 0 */
    uint64_t wait_timeout_ns; /* BACKPRESSURE: longest claim wait, then -ETIMEDOUT; 0 = no limit */
    uint64_t reserved[4];     /* must be 0 */
} alphacore_channel_opts;
#define ALPHACORE_CHANNEL_OPTS_INIT \
    { sizeof(alphacore_channel_opts), 0u, 1048576u, 4096u, -1, 0u, 0u, 0u, {0, 0, 0, 0} }

/* alphacore_channel_reader_opts.flags */
#define ALPHACORE_CHANNEL_READER_HIST        (1u << 0) /* poll records publish-to-poll latency (ns) */
#define ALPHACORE_CHANNEL_READER_FROM_OLDEST (1u << 1) /* start at the oldest intact message */
#define ALPHACORE_CHANNEL_READER_OBSERVER    (1u << 2) /* BACKPRESSURE: do not register */
#define ALPHACORE_CHANNEL_READER_SLEEP       (1u << 3) /* wait: spin spin_ns, then sleep on a futex */

typedef struct alphacore_channel_reader_opts {
    uint32_t struct_size;     /* = sizeof(alphacore_channel_reader_opts) */
    uint32_t flags;           /* ALPHACORE_CHANNEL_READER_* */
    uint64_t spin_ns;         /* SLEEP: spin this long before sleeping; default 50000 */
    uint64_t reserved[4];     /* must be 0 */
} alphacore_channel_reader_opts;
#define ALPHACORE_CHANNEL_READER_OPTS_INIT \
    { sizeof(alphacore_channel_reader_opts), 0u, 50000u, {0, 0, 0, 0} }

/* One message handed out by poll. */
typedef struct alphacore_channel_msg {
    const void *data;         /* the payload: in the ring (poll) or in the caller's buffer (poll_copy) */
    uint32_t    len;          /* payload bytes */
    uint32_t    flags;        /* 0 */
    uint64_t    seq;          /* 1, 2, ... within the producer's epoch */
    uint64_t    ts;           /* publish time: now_ns, or cycles with ALPHACORE_CHANNEL_CYCLES */
} alphacore_channel_msg;

/* What alphacore_channel_reader_info reports. */
typedef struct alphacore_channel_reader_details {
    uint32_t struct_size;     /* set by the caller: sizeof(alphacore_channel_reader_details) */
    uint32_t flags;           /* the channel's ALPHACORE_CHANNEL_* flags */
    uint64_t capacity;
    uint32_t max_msg;
    int32_t  producer_pid;    /* 0 when the producer closed the channel */
    uint32_t producer_alive;  /* 1 if that process still runs (pid and start time match) */
    uint32_t registered;      /* 1 if the producer waits for this reader (BACKPRESSURE) */
    uint64_t epoch;           /* 1 for the first producer, +1 for each takeover */
    uint64_t position;        /* the reader's byte position in the ring */
    uint64_t next_seq;        /* the seq the reader expects next (0 before its first message) */
    uint64_t producer_seq;    /* the last seq the producer committed */
    uint64_t backlog_bytes;   /* bytes committed but not yet read */
    uint64_t messages;        /* messages handed out */
    uint64_t lost;            /* messages lost to laps, in total */
    uint64_t last_lost;       /* lost at the latest -EOVERFLOW */
    uint64_t overflows;       /* -EOVERFLOW reports */
    uint64_t epoch_changes;   /* -ECONNRESET reports */
    uint64_t protocol_errors; /* records rejected (-EPROTO) */
    uint64_t heartbeat_ns;    /* the producer's latest sign of life (CLOCK_MONOTONIC ns) */
    uint64_t heartbeat_age_ns;/* now - heartbeat_ns */
    uint64_t reserved[4];
} alphacore_channel_reader_details;

/* Creates the channel `name` (1-200 bytes of [A-Za-z0-9._-], not starting with '.', no "..")
 * and returns the producer handle; opts NULL = defaults. If the name exists as a channel of the
 * same capacity, max_msg and flags whose producer is gone (closed or dead), it is taken over with
 * a new epoch. Returns 0, or -EINVAL (bad name, capacity not a power of two or out of range,
 * max_msg too large for the capacity, unknown flags, non-zero reserved, NULL out),
 * -ENAMETOOLONG, -E2BIG (unknown non-zero option bytes), -EEXIST (a live producer, another
 * geometry, or not a channel), or the errors of alphacore_mem_shared_create. MT-Safe. */
ALPHACORE_API int alphacore_channel_create(const char *name, const alphacore_channel_opts *opts,
                                           alphacore_channel **out) ALPHACORE_NOEXCEPT;
/* Marks the channel closed (readers see producer_alive 0), unmaps it and frees the handle. The
 * name stays (alphacore_channel_unlink removes it). NULL is fine. */
ALPHACORE_API void alphacore_channel_destroy(alphacore_channel *ch) ALPHACORE_NOEXCEPT;
/* Removes the name; processes that have it mapped keep it. 0, -ENOENT, -EINVAL. MT-Safe. */
ALPHACORE_API int alphacore_channel_unlink(const char *name) ALPHACORE_NOEXCEPT;

/* Reserves len bytes (0..max_msg) in the ring and sets *ptr to where the message goes; it is
 * published by alphacore_channel_commit(ch, *ptr). Returns 0, or -EINVAL (NULL ch or ptr, len
 * above max_msg), -EBUSY (a claim is open), -EAGAIN (BACKPRESSURE with NONBLOCK: the slowest
 * reader has not released the room), -ETIMEDOUT (BACKPRESSURE: wait_timeout_ns passed). No
 * allocation, lock or system call (BACKPRESSURE waits spin, then yield). */
ALPHACORE_API int alphacore_channel_claim(alphacore_channel *ch, size_t len, void **ptr) ALPHACORE_NOEXCEPT;
/* Publishes the claimed message (stamps its time and seq). 0, or -EINVAL (NULL ch, or ptr is
 * not the pointer the open claim returned: nothing is published). Wakes sleeping readers (one
 * futex call) only when there are any. */
ALPHACORE_API int alphacore_channel_commit(alphacore_channel *ch, void *ptr) ALPHACORE_NOEXCEPT;
/* Claim, copy len bytes from msg, commit. Same errors; -EINVAL for NULL msg with len > 0. */
ALPHACORE_API int alphacore_channel_publish(alphacore_channel *ch, const void *msg, size_t len) ALPHACORE_NOEXCEPT;
/* Records that the producer is alive while idle (heartbeat_ns). 0 or -EINVAL. */
ALPHACORE_API int alphacore_channel_heartbeat(alphacore_channel *ch) ALPHACORE_NOEXCEPT;

/* Opens the channel `name` for reading; the reader starts at the next message published (or
 * the oldest intact one with FROM_OLDEST). On a BACKPRESSURE channel it registers unless
 * OBSERVER. Returns 0, or -EINVAL (bad name, flags, reserved), -E2BIG, -ENOENT (no such
 * name), -EPROTO (the region is not a channel, or has another layout version), -EAGAIN (it is
 * still being created), -ENOSPC (all 64 reader slots of a BACKPRESSURE channel are held by
 * live readers), -ENOMEM. MT-Safe. */
ALPHACORE_API int alphacore_channel_open(const char *name, const alphacore_channel_reader_opts *opts,
                                         alphacore_channel_reader **out) ALPHACORE_NOEXCEPT;
/* Unregisters, unmaps and frees the reader (and its histogram). NULL is fine. */
ALPHACORE_API void alphacore_channel_reader_close(alphacore_channel_reader *rd) ALPHACORE_NOEXCEPT;

/* Hands out up to max messages without copying (data points into the ring; valid until the
 * next poll on a BACKPRESSURE channel, until lapped on a BROADCAST one: see _reader_check).
 * Never waits. Returns the count (0: nothing new), or -EINVAL (NULL rd or out, max 0),
 * -EOVERFLOW (lapped: reader_info.last_lost messages were lost; the next poll resumes at the
 * oldest intact one), -ECONNRESET (a new producer: the next poll reads its epoch), -EPROTO (a
 * record failed its checks: the shared memory was scribbled; the reader skips past it). */
ALPHACORE_API int alphacore_channel_poll(alphacore_channel_reader *rd, alphacore_channel_msg *out,
                                         uint32_t max) ALPHACORE_NOEXCEPT;
/* Like poll, but copies the payloads one after another into buf (each out[i].data points into
 * buf) and checks after copying that none was overwritten meanwhile (then -EOVERFLOW and
 * nothing is handed out). Takes as many messages as fit in cap. Same errors, and -EINVAL for
 * NULL buf with cap > 0. */
ALPHACORE_API int alphacore_channel_poll_copy(alphacore_channel_reader *rd, alphacore_channel_msg *out,
                                              uint32_t max, void *buf, size_t cap) ALPHACORE_NOEXCEPT;
/* After reading zero-copy data: 0 if every message of the latest poll is still intact,
 * -EOVERFLOW if the producer has begun overwriting them (discard what was read), -EINVAL. */
ALPHACORE_API int alphacore_channel_reader_check(const alphacore_channel_reader *rd) ALPHACORE_NOEXCEPT;
/* Waits until poll has something to report (returns 1) or timeout_ns passes (returns 0;
 * -1 = no limit, 0 = just look): spins, then with READER_SLEEP sleeps on the channel's futex
 * word after spin_ns (woken by the producer; each sleep at most 1 ms). -EINVAL. */
ALPHACORE_API int alphacore_channel_wait(alphacore_channel_reader *rd, int64_t timeout_ns) ALPHACORE_NOEXCEPT;
/* Position, losses, epoch and the producer's heartbeat. 0, or -EINVAL (NULL, struct_size
 * smaller than the first version of the struct). */
ALPHACORE_API int alphacore_channel_reader_info(const alphacore_channel_reader *rd,
                                                alphacore_channel_reader_details *out) ALPHACORE_NOEXCEPT;
/* The reader's publish-to-poll latency histogram (ns; filled by poll) when opened with
 * READER_HIST, else NULL. Owned by the reader: do not destroy it; it lives until reader_close. */
ALPHACORE_API alphacore_hist *alphacore_channel_reader_hist(alphacore_channel_reader *rd) ALPHACORE_NOEXCEPT;

/* ======================================================================================
 * Metrics: Prometheus exposition                             (see alphacore_metrics_create(3))
 * ====================================================================================== */

/* A registry names what the library (and the caller) measures, and writes it in the Prometheus
 * text format 0.0.4, OpenMetrics 1.0 text, or delimited protobuf (io.prometheus.client.MetricFamily)
 * with native histograms. Recording threads never touch the registry: they keep recording into
 * their histogram, recorder or counter slot, and a scrape reads those without stopping them.
 *
 * Names follow Prometheus: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, units [a-z0-9_]* (appended as a
 * suffix, `_seconds`, unless the name already ends so). Constant labels are one string in the
 * exposition's own form, `venue="XNAS",feed="A"` (escapes \\, \" and \n; NULL or "" for none);
 * label names [a-zA-Z_][a-zA-Z0-9_]*, not "__*", "le" or "quantile". A bad name gives -EINVAL and a
 * detail naming the character and its position; the same name and labels twice gives -EEXIST.
 *
 * Lifetime: the registry does not own the histograms, recorders and readers it reads. Call
 * alphacore_metrics_remove(reg, handle) before destroying one (a scrape would read freed memory).
 * Counter and gauge slots belong to the registry: valid until removed or the registry is destroyed.
 * Registry functions are MT-Safe (one lock, never taken by recording threads). */
typedef struct alphacore_metrics alphacore_metrics;   /* opaque */

/* Formats of alphacore_metrics_write. */
#define ALPHACORE_METRICS_TEXT        0   /* text/plain; version=0.0.4 */
#define ALPHACORE_METRICS_OPENMETRICS 1   /* application/openmetrics-text; version=1.0.0 (# EOF) */
#define ALPHACORE_METRICS_PROTOBUF    2   /* length-delimited MetricFamily, native + classic buckets */

/* How a histogram or recorder is exposed. NULL opts = all defaults. */
typedef struct alphacore_metric_opts {
    uint32_t struct_size;    /* = sizeof(alphacore_metric_opts) */
    int32_t  schema;         /* native histogram schema -4..8 (bucket growth 2^(2^-schema)); default 3.
                                Capped at the finest the HDR layout supports (8 for 3 digits, 6 for 2,
                                3 for 1): a native bucket is never finer than an HDR bucket. */
    const double *bounds;    /* classic `le` bounds in exposed units, strictly increasing, finite
                                (+Inf implied); NULL = 1 us .. 10 s in 1-2-5 steps for seconds */
    uint32_t bound_count;    /* 0..1000 */
    uint32_t reserved0;      /* must be 0 */
    uint64_t reserved[4];    /* must be 0 */
} alphacore_metric_opts;
#define ALPHACORE_METRIC_OPTS_INIT { sizeof(alphacore_metric_opts), 3, NULL, 0, 0, {0, 0, 0, 0} }

/* Creates an empty registry. -EINVAL for NULL out, -ENOMEM. MT-Safe. */
ALPHACORE_API int alphacore_metrics_create(alphacore_metrics **out) ALPHACORE_NOEXCEPT;
/* Destroys a registry (NULL is fine) and frees its counter and gauge slots. A server still
 * running keeps the registry's contents alive until it stops. MT-Safe. */
ALPHACORE_API void alphacore_metrics_destroy(alphacore_metrics *reg) ALPHACORE_NOEXCEPT;

/* Registers a histogram whose values are in ns (unit NULL or "seconds": shown in seconds with
 * the `_seconds` suffix) or in another unit ("bytes", "": shown as recorded). Exposed as a
 * cumulative histogram: classic buckets, _sum (from bucket midpoints), _count, and in protobuf
 * native buckets. The caller may keep recording from its single writer thread.
 * Returns 0; -EINVAL (NULL or dangling registry, NULL histogram, bad name, unit, labels, help,
 * schema or bounds), -EEXIST, -E2BIG (unknown opts tail), -ENOMEM. MT-Safe. */
ALPHACORE_API int alphacore_metrics_add_hist(alphacore_metrics *reg, const char *name, const char *help,
                                             const char *unit, const char *labels, alphacore_hist *h,
                                             const alphacore_metric_opts *opts) ALPHACORE_NOEXCEPT;
/* Same for a recorder: a scrape sums its writers' shards (cumulative since creation) without
 * stopping writers and without disturbing alphacore_recorder_sample. MT-Safe. */
ALPHACORE_API int alphacore_metrics_add_recorder(alphacore_metrics *reg, const char *name, const char *help,
                                                 const char *unit, const char *labels, alphacore_recorder *r,
                                                 const alphacore_metric_opts *opts) ALPHACORE_NOEXCEPT;
/* Registers a reader's counters: alphacore_reader_{messages,bytes,polls,syscalls,enobufs,
 * end_of_streams}_total with the given labels (give each reader a distinct label set).
 * -EINVAL, -EEXIST. MT-Safe. */
ALPHACORE_API int alphacore_metrics_add_reader(alphacore_metrics *reg, const char *labels,
                                               alphacore_reader *r) ALPHACORE_NOEXCEPT;
/* A counter the caller owns: *slot receives a 64-byte-aligned uint64_t that the caller adds to
 * (plain `++` from one thread, or __atomic_fetch_add relaxed from many); a scrape reads it.
 * `_total` is appended on output (give the name with or without it). -EINVAL, -EEXIST, -ENOMEM. */
ALPHACORE_API int alphacore_metrics_counter(alphacore_metrics *reg, const char *name, const char *help,
                                            const char *unit, const char *labels,
                                            uint64_t **slot) ALPHACORE_NOEXCEPT;
/* A gauge the caller owns (int64_t slot, stored or added to by the caller). */
ALPHACORE_API int alphacore_metrics_gauge(alphacore_metrics *reg, const char *name, const char *help,
                                          const char *unit, const char *labels,
                                          int64_t **slot) ALPHACORE_NOEXCEPT;
/* Host state: alphacore_hugepages_pages{page_size="...",state="total|free|reserved|surplus"} for
 * every huge page size the kernel offers (read at scrape). -ENOENT if it offers none. */
ALPHACORE_API int alphacore_metrics_add_host(alphacore_metrics *reg, const char *labels) ALPHACORE_NOEXCEPT;
/* Registers the calling thread (call it after pinning) under thread="name": alphacore_thread_on_cpus
 * is 1 while its mask is still within the CPUs it had at registration and it last ran on one of
 * them, 0 otherwise (moved, or exited); alphacore_thread_cpu is the CPU it last ran on (-1 once
 * exited). -EINVAL, -EEXIST. */
ALPHACORE_API int alphacore_metrics_add_thread(alphacore_metrics *reg, const char *name,
                                               const char *labels) ALPHACORE_NOEXCEPT;
/* Unregisters every series that reads `handle` (a histogram, recorder, reader or a slot this
 * registry gave out; a slot is freed). Returns how many series were removed; -ENOENT if none,
 * -EINVAL for a NULL or dangling registry or a NULL handle. MT-Safe. */
ALPHACORE_API int alphacore_metrics_remove(alphacore_metrics *reg, const void *handle) ALPHACORE_NOEXCEPT;
/* Writes everything in `format` into buf, snprintf-style: returns the full length (without a
 * NUL); when it is < cap, the whole output plus a NUL is written; otherwise at most cap-1 bytes
 * and a NUL (retry with the returned length + 1). buf may be NULL when cap is 0. Protobuf output
 * is binary: use the returned length, not strlen. -EINVAL (NULL or dangling registry, unknown
 * format, NULL buf with cap > 0). MT-Safe. */
ALPHACORE_API int64_t alphacore_metrics_write(alphacore_metrics *reg, int format, char *buf,
                                              size_t cap) ALPHACORE_NOEXCEPT;

/* The scrape endpoint: one thread serving HTTP/1.1 `GET /metrics` (and HEAD) from a registry,
 * with content negotiation on Accept (protobuf with native histograms, OpenMetrics 1.0, text
 * 0.0.4), gzip when Accept-Encoding allows it, and keep-alive. Requests with a body, malformed
 * requests: 400; other paths: 404; other methods: 405; a request head above max_request_bytes or
 * max_headers: 413. Each request has request_timeout_ms from its first byte to the end of its
 * response; beyond max_connections the connection that has waited longest is dropped, so slow
 * or half-open clients cannot starve scrapes, and memory is fixed at start
 * (max_connections * max_request_bytes plus the responses being written). Recording threads
 * never see the server. It never raises SIGPIPE (MSG_NOSIGNAL). */
typedef struct alphacore_metrics_server alphacore_metrics_server;   /* opaque */

#define ALPHACORE_SERVE_REMOTE 0x1u   /* allow a non-loopback listen address */

typedef struct alphacore_serve_opts {
    uint32_t struct_size;          /* = sizeof(alphacore_serve_opts) */
    uint32_t flags;                /* ALPHACORE_SERVE_* */
    const char *cpus;              /* cpulist for the server thread; NULL = the allowed CPUs no role
                                      and no registered thread uses (unpinned if none); "" = unpinned */
    uint32_t max_connections;      /* 1..4096, 0 = 16 */
    uint32_t request_timeout_ms;   /* 10..600000, 0 = 5000 */
    uint32_t idle_timeout_ms;      /* keep-alive idle time, 10..3600000, 0 = 60000 */
    uint32_t max_request_bytes;    /* 256..1048576, 0 = 8192 */
    uint32_t max_headers;          /* 1..10000, 0 = 64 */
    uint32_t reserved0;            /* must be 0 */
    uint64_t reserved[4];          /* must be 0 */
} alphacore_serve_opts;
#define ALPHACORE_SERVE_OPTS_INIT { sizeof(alphacore_serve_opts), 0, NULL, 0, 0, 0, 0, 0, 0, {0, 0, 0, 0} }

/* Starts serving `reg` on `listen` ("127.0.0.1:9464", "[::1]:0", ":9464" = 127.0.0.1; port 0 picks a
 * free port, see alphacore_metrics_server_port). The socket is bound before the call returns.
 * The server keeps the registry's contents alive until it stops. Returns 0; -EINVAL (NULL or
 * dangling registry, NULL out, an address that does not parse, a non-loopback address without
 * ALPHACORE_SERVE_REMOTE, a limit out of range, a bad cpulist), -EADDRINUSE (taken),
 * -EADDRNOTAVAIL, -EACCES, -E2BIG (unknown opts tail), -EAGAIN (no thread). MT-Safe. */
ALPHACORE_API int alphacore_metrics_serve(alphacore_metrics *reg, const char *listen,
                                          const alphacore_serve_opts *opts,
                                          alphacore_metrics_server **out) ALPHACORE_NOEXCEPT;
/* The TCP port the server listens on; -EINVAL for a NULL or stopped server. MT-Safe. */
ALPHACORE_API int alphacore_metrics_server_port(const alphacore_metrics_server *s) ALPHACORE_NOEXCEPT;
/* Stops the server: its thread has exited and every socket it opened is closed when this
 * returns. NULL is fine (0); a stopped (dangling) server gives -EINVAL. MT-Safe. */
ALPHACORE_API int alphacore_metrics_server_stop(alphacore_metrics_server *s) ALPHACORE_NOEXCEPT;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ALPHACORE_H */
