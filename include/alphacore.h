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
 * Latency: HDR histograms, recorder, interval log                    (see alphacore_hist(3))
 * ====================================================================================== */

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
