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
 * change them: alphacore_mem_free checks addr, size and cookie against the library's registry
 * of live regions, so a copy, a forged struct or a second free is refused with -EINVAL. */
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
    int32_t  fd;           /* shared regions: the file descriptor; -1 otherwise */
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

/* Named shared regions for inter-process use. The name (1-200 bytes of [A-Za-z0-9._-], not
 * starting with '.') names the file alphacore.<name>, created mode 0600: for a hugetlb tier in
 * a writable hugetlbfs mount of that page size (e.g. /dev/hugepages/alphacore.<name>), for THP
 * and base pages in /dev/shm. The same ladder, options and report as alphacore_mem_alloc; a
 * hugetlb tier without a hugetlbfs mount is refused with -ENOENT. Memory is committed at
 * creation (hugetlb reservation; posix_fallocate on tmpfs), so touching never raises SIGBUS.
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

/* Removes the name; regions mapped from it stay valid until freed. 0, -ENOENT, -EINVAL. MT-Safe. */
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

/* ======================================================================================
 * Doctor: host readiness checks                              (see alphacore_doctor_run(3))
 * ====================================================================================== */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ALPHACORE_H */
