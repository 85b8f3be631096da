/* GNU-only calls and macros that Swift cannot see. No logic lives here: each function is a
 * one-line wrapper, and the storage is the thread-local detail buffer the C ABI hands out. */
#ifndef ALPHACORE_SHIMS_H
#define ALPHACORE_SHIMS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Cycle counter: rdtsc on x86-64, cntvct_el0 on arm64. */
static inline uint64_t acshim_cycles(void) {
#if defined(__x86_64__) || defined(__i386__)
    uint32_t lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
#elif defined(__aarch64__)
    uint64_t v;
    __asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(v));
    return v;
#else
    return 0;
#endif
}

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

/* The CPU the calling thread runs on, from the rseq area glibc registers (one load, no
 * system call); -1 where rseq is unavailable (then use sched_getcpu). */
#if defined(__has_include)
#if __has_include(<sys/rseq.h>) && (defined(__x86_64__) || defined(__aarch64__))
#include <sys/rseq.h>
#define ACSHIM_HAVE_RSEQ 1
#endif
#endif
static inline int32_t acshim_rseq_cpu(void) {
#if defined(ACSHIM_HAVE_RSEQ) && defined(__x86_64__)
    int32_t cpu;
    if (__rseq_size == 0) return -1;
    __asm__ __volatile__("movl %%fs:(%1), %0" : "=r"(cpu) : "r"(__rseq_offset + 4));
    return cpu;
#elif defined(ACSHIM_HAVE_RSEQ) && defined(__aarch64__)
    char *tp;
    if (__rseq_size == 0) return -1;
    __asm__ __volatile__("mrs %0, tpidr_el0" : "=r"(tp));
    return *(volatile int32_t *)(tp + __rseq_offset + 4);
#else
    return -1;
#endif
}

/* sched_getcpu (GNU): the fallback when rseq is not registered. */
int acshim_sched_getcpu(void);

/* Thread-local buffers: the last-failure detail and the strerror text of unknown codes. */
enum { ACSHIM_DETAIL_CAP = 512, ACSHIM_ERRTEXT_CAP = 64 };
char *_Nonnull acshim_detail_buffer(void);
char *_Nonnull acshim_errtext_buffer(void);

/* glibc's strerrordesc_np: a static, locale-independent description, or NULL. */
const char *_Nullable acshim_strerrordesc(int err);

#ifdef __cplusplus
}
#endif
#endif
