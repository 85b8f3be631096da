/* GNU-only calls and macros that Swift cannot see. No logic lives here: each function is a
 * one-line wrapper, and the storage is the thread-local detail buffer the C ABI hands out. */
#ifndef ALPHACORE_SHIMS_H
#define ALPHACORE_SHIMS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

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
/* preadv2(fd, {buf, len}, 1, -1, RWF_NOWAIT): a read of a pipe or other stream that never
 * blocks, whatever the fd's O_NONBLOCK flag (-1 and EAGAIN when nothing is there). */
long acshim_read_nowait(int fd, void *_Nonnull buf, size_t len);

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
