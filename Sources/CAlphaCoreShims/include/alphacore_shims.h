/* GNU-only calls and macros that Swift cannot see. No logic lives here: each function is a
 * one-line wrapper, and the storage is the thread-local detail buffer the C ABI hands out. */
#ifndef ALPHACORE_SHIMS_H
#define ALPHACORE_SHIMS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/prctl.h>   /* PR_GET_THP_DISABLE, by name in Swift */

#include "../../../include/alphacore.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Cycle counter: the public header's inline alphacore_rdtsc (one definition of the asm). */
static inline uint64_t acshim_cycles(void) { return alphacore_rdtsc(); }

/* The counter frequency the hardware states (arm64 cntfrq_el0); 0 where it must be measured. */
static inline uint64_t acshim_cycles_frequency(void) {
#if defined(__aarch64__)
    uint64_t v;
    __asm__ __volatile__("mrs %0, cntfrq_el0" : "=r"(v));
    return v;
#else
    return 0;
#endif
}

static inline void acshim_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("pause" ::: "memory");
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

/* Acquire loads and release stores on the kernel-shared io_uring ring indexes. */
static inline uint32_t acshim_load_acquire_u32(const uint32_t *_Nonnull p) {
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void acshim_store_release_u32(uint32_t *_Nonnull p, uint32_t v) {
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}
static inline void acshim_store_release_u16(uint16_t *_Nonnull p, uint16_t v) {
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* io_uring_enter(2), io_uring_setup(2) and epoll_pwait2(2) as plain calls (syscall(2) is
 * variadic). They return -1 and set errno like the libc wrappers. */
long acshim_io_uring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags,
                           const void *_Nullable arg, size_t argsz);
long acshim_epoll_pwait2(int epfd, void *_Nonnull events, int maxevents,
                         const void *_Nullable timeout);
/* epoll_pwait2 with a kernel signal mask for the wait (8 bytes, as rt_sigprocmask(2) takes). */
long acshim_epoll_pwait2_mask(int epfd, void *_Nonnull events, int maxevents,
                              const void *_Nullable timeout, const uint64_t *_Nonnull sigmask);
/* Signal masks for waits that must not miss a signal (the pselect pattern): block every
 * asynchronous signal and save the caller's mask in *old (the kernel's 8-byte sigset), wait
 * with *old as the wait's mask (a signal pending or arriving ends the wait with EINTR), then
 * restore *old (a pending signal's handler runs then). The synchronous signals (SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS) and glibc's internal ones stay unblocked. */
int acshim_signals_block(uint64_t *_Nonnull old);
int acshim_signals_restore(const uint64_t *_Nonnull old);
/* Whether a signal the caller's mask `old` lets through is pending (rt_sigpending(2)). */
int acshim_signals_pending(const uint64_t *_Nonnull old);
/* Bytes of the kernel's signal set (the sigmask_sz of io_uring_getevents_arg). */
#ifndef ACSHIM_KERNEL_SIGSET_BYTES
#define ACSHIM_KERNEL_SIGSET_BYTES 8
#endif
/* O_TMPFILE by name (glibc's fcntl.h shows it only under _GNU_SOURCE): an unnamed file in a
 * directory, named later with linkat (shared regions appear only when complete). */
#include <fcntl.h>
#ifdef O_TMPFILE
enum { ACSHIM_O_TMPFILE = O_TMPFILE };
#else
enum { ACSHIM_O_TMPFILE = __O_TMPFILE };
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif
enum { ACSHIM_AT_EMPTY_PATH = AT_EMPTY_PATH };
/* poll(2) of one fd with timeout 0: the revents (POLLIN, POLLHUP, ...), or -1 and errno. */
int acshim_poll_now(int fd);
/* preadv2(fd, {buf, len}, 1, -1, RWF_NOWAIT): a read of a pipe or other stream that never
 * blocks, whatever the fd's O_NONBLOCK flag (-1 and EAGAIN when nothing is there). */
long acshim_read_nowait(int fd, void *_Nonnull buf, size_t len);

/* futex(2) on a word in shared memory (not FUTEX_PRIVATE: the channel's waiters are other
 * processes). timeout is a relative struct timespec or NULL. -1 and errno like syscall(2). */
long acshim_futex_wait(uint32_t *_Nonnull word, uint32_t expected, const void *_Nullable timeout);
long acshim_futex_wake(uint32_t *_Nonnull word, int count);

/* Thread-local buffers: the last-failure detail and the strerror text of unknown codes. */
enum { ACSHIM_DETAIL_CAP = 512, ACSHIM_ERRTEXT_CAP = 64 };
char *_Nonnull acshim_detail_buffer(void);
char *_Nonnull acshim_errtext_buffer(void);

/* glibc's strerrordesc_np: a static, locale-independent description, or NULL. */
const char *_Nullable acshim_strerrordesc(int err);

/* Memory: prctl is variadic. */
int acshim_prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4,
                 unsigned long arg5);

/* ---- CPU placement (glibc GNU extensions; masks are uint64_t words, sized by the caller
 * from /sys/devices/system/cpu/possible, never CPU_SETSIZE). Each returns what glibc returns. */
int acshim_sched_setaffinity(int tid, size_t bytes, const uint64_t *_Nonnull mask);
int acshim_sched_getaffinity(int tid, size_t bytes, uint64_t *_Nonnull mask);
int acshim_pthread_setname(unsigned long thread, const char *_Nonnull name);
int acshim_pthread_getname(unsigned long thread, char *_Nonnull buf, size_t len);
unsigned long acshim_pthread_self(void);
int acshim_gettid(void);
/* tgkill(2) (syscall(2) is variadic): with sig 0, whether tid is a live thread of tgid. */
int acshim_tgkill(int tgid, int tid, int sig);
int acshim_sched_getcpu(void);
/* glibc 2.35+: the thread's rseq area (cpu_id at offset 4), what sched_getcpu itself reads. */
extern const ptrdiff_t __rseq_offset;
/* sched_getcpu without the call: glibc's own fast path (rseq cpu_id), and sched_getcpu when
 * rseq is not registered (cpu_id < 0). */
static inline int acshim_current_cpu(void) {
    int cpu = *(volatile const int32_t *)((const char *)__builtin_thread_pointer() + __rseq_offset + 4);
    return cpu >= 0 ? cpu : acshim_sched_getcpu();
}

/* The calling thread's pinned set as the library last set it (alphacore_pin_verify reads it
 * without a system call). Initial-exec TLS: one %fs-relative load, no __tls_get_addr. */
enum { ACSHIM_PIN_WORDS = 16 };
struct acshim_pin_state {
    int32_t state;       /* Pinning.PinState: 0 never pinned, 1 pinned (words valid), 2 pinned beyond 1024 CPUs */
    uint32_t nwords;
    uint64_t words[ACSHIM_PIN_WORDS];
};
extern __thread struct acshim_pin_state acshim_pin_tls __attribute__((tls_model("initial-exec")));
static inline struct acshim_pin_state *_Nonnull acshim_pin_state(void) { return &acshim_pin_tls; }

/* The header of the CPU fast table (Pinning.swift's FastTable): an immutable block the topology
 * publishes for the hot paths (alphacore_cpu_node, pin checks). The header is followed by
 * mask_words uint64_t words of the allowed CPU set, then cpu_count int32_t node ids (-1 unknown).
 * shims.c asserts its size, so that the words that follow start 8-byte aligned. */
struct acshim_cpu_table {
    uint32_t cpu_count;   /* entries in the node table: CPU ids 0 ..< cpu_count */
    uint32_t mask_words;  /* 64-bit words of the allowed mask */
};

/* Latency recorder: the calling thread's writer slot (recorder id, shard address), cached per
 * thread. Initial-exec TLS: one %fs-relative load, no __tls_get_addr. */
struct acshim_rec_slot { uint64_t recorder; uint64_t shard; };
extern __thread struct acshim_rec_slot acshim_rec_tls __attribute__((tls_model("initial-exec")));
static inline struct acshim_rec_slot *_Nonnull acshim_rec_slot(void) { return &acshim_rec_tls; }


/* ---- Latency: the histogram and recorder headers, declared once (Swift reads the fields by
 * name). The histogram header is alphacore_hist_layout_v1 of the public header field for field
 * (shims.c asserts every offset); the int64_t counts follow it at byte offset 104. */
struct acshim_hist_header {
    int64_t highest;               /* highest_trackable: records accept 0 ... highest */
    int64_t sub_bucket_mask;
    int64_t total_count;           /* single-writer records; see total_from_counts */
    int64_t min_nonzero;           /* INT64_MAX when none */
    int64_t max_value;
    int32_t unit_magnitude;
    int32_t half_count_magnitude;  /* sub_bucket_half_count_magnitude */
    int32_t half_count;            /* sub_bucket_half_count */
    int32_t sub_bucket_count;
    int32_t bucket_count;
    int32_t counts_len;
    int32_t significant_digits;
    int32_t leading_zero_base;     /* 64 - unit_magnitude - (half_count_magnitude + 1) */
    int64_t lowest;
    int64_t start_ns, end_ns;
    /* Non-zero once alphacore_hist_record_atomic has recorded: atomic records add to the counts
     * only (one locked instruction, no shared total line), so the total is the counts' sum. */
    int64_t total_from_counts;
};
enum { ACSHIM_HIST_HEADER_SIZE = 104 };
/* Addresses of the fields updated with atomic read-modify-writes. */
static inline int64_t *_Nonnull acshim_hist_min_nonzero(struct acshim_hist_header *_Nonnull h) { return &h->min_nonzero; }
static inline int64_t *_Nonnull acshim_hist_max_value(struct acshim_hist_header *_Nonnull h) { return &h->max_value; }
static inline int64_t *_Nonnull acshim_hist_total_from_counts(struct acshim_hist_header *_Nonnull h) { return &h->total_from_counts; }
static inline int64_t *_Nonnull acshim_hist_counts(struct acshim_hist_header *_Nonnull h) {
    return (int64_t *)(void *)((char *)h + ACSHIM_HIST_HEADER_SIZE);
}

/* The recorder's header (64 bytes); the owner table follows at byte offset 64, then the shards. */
struct acshim_recorder_header {
    uint64_t id;                   /* unique per recorder in the process */
    int64_t shard_stride;          /* bytes from one shard's histogram to the next */
    int64_t last_sample_ns;        /* CLOCK_REALTIME of the last sample */
    int64_t reported_offset;       /* bytes from the header to the sampler's reported arrays */
    void *_Nullable allocation;    /* what calloc returned (the header is 64-byte aligned in it) */
    uint64_t unused[3];
};
enum { ACSHIM_RECORDER_OWNERS = 64 };
static inline int64_t *_Nonnull acshim_recorder_owners(struct acshim_recorder_header *_Nonnull r) {
    return (int64_t *)(void *)((char *)r + ACSHIM_RECORDER_OWNERS);
}

/* The histogram encoder's one-entry cache (a size query's result kept for the encode that
 * follows it): an atomic exchange of the entry pointer; the library's destructor frees it. */
void *_Nullable acshim_encode_cache_swap(void *_Nullable entry);
/* Puts entry back if the slot is empty; false (the caller frees entry) otherwise. */
_Bool acshim_encode_cache_restore(void *_Nonnull entry);

#ifdef __cplusplus
}
#endif
#endif
