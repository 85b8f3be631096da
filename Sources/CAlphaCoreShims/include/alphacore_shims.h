/* GNU-only calls and macros that Swift cannot see. No logic lives here: each function is a
 * one-line wrapper, and the storage is the thread-local detail buffer the C ABI hands out. */
#ifndef ALPHACORE_SHIMS_H
#define ALPHACORE_SHIMS_H

#include <stddef.h>
#include <stdint.h>

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

/* Thread-local buffers: the last-failure detail and the strerror text of unknown codes. */
enum { ACSHIM_DETAIL_CAP = 512, ACSHIM_ERRTEXT_CAP = 64 };
char *_Nonnull acshim_detail_buffer(void);
char *_Nonnull acshim_errtext_buffer(void);

/* glibc's strerrordesc_np: a static, locale-independent description, or NULL. */
const char *_Nullable acshim_strerrordesc(int err);

/* Memory: GNU-only calls (getcpu is _GNU_SOURCE; prctl is variadic). */
int acshim_getcpu(unsigned *_Nonnull cpu, unsigned *_Nonnull node);
int acshim_prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4,
                 unsigned long arg5);

#ifdef __cplusplus
}
#endif
#endif
