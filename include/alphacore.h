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
#define ALPHACORE_READER_BUSY_POLL   (1u << 1) /* poll spins (no sleep) until ready or timeout */
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
    uint64_t reserved[4];   /* must be 0 */
} alphacore_reader_opts;
#define ALPHACORE_READER_OPTS_INIT \
    { sizeof(alphacore_reader_opts), ALPHACORE_READER_AUTO, 0u, -1, 1024u, 4096u, 2048u, \
      ALPHACORE_FRAME_NONE, 0u, 0u, {0, 0, 0, 0} }

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
    uint64_t reserved[4];
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
/* Starts reading fd (a socket, pipe or other pollable stream fd); its completions carry
 * user_data. 0, or -EBADF (not open), -EEXIST (already added), -EINVAL (a regular file,
 * directory or block device: use alphacore_read_batch), -ENOSPC (capacity reached). */
ALPHACORE_API int alphacore_reader_add(alphacore_reader *r, int fd, uint64_t user_data) ALPHACORE_NOEXCEPT;
/* Stops reading fd; data not yet handed out is dropped. The fd may be closed right after.
 * 0, or -ENOENT (not added), -EINVAL (NULL reader). */
ALPHACORE_API int alphacore_reader_remove(alphacore_reader *r, int fd) ALPHACORE_NOEXCEPT;

/* Harvests up to max completions into out. Returns as soon as min_complete are ready, or
 * when min_wait_ns has passed with at least one ready, or when timeout_ns has passed
 * (returning 0: a timeout is not an error). timeout_ns = -1 waits without limit; 0 never
 * waits; min_complete = 0 never waits. On io_uring one poll is at most one system call.
 * Each completion with a buffer must be given back with alphacore_reader_release.
 * Returns the count, or -EINVAL (NULL r or out, max = 0, min_complete > max, negative
 * min_wait_ns, timeout_ns < -1), -ENOBUFS (nothing ready and every buffer is held by the
 * caller while fds wait for one: release some). A signal ends the wait early, like a timeout
 * (the count may be 0). */
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

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ALPHACORE_H */
