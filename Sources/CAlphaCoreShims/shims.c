#include "alphacore_shims.h"
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static _Thread_local char detail_buffer[ACSHIM_DETAIL_CAP];
static _Thread_local char errtext_buffer[ACSHIM_ERRTEXT_CAP];

char *acshim_detail_buffer(void) { return detail_buffer; }
char *acshim_errtext_buffer(void) { return errtext_buffer; }
const char *acshim_strerrordesc(int err) { return strerrordesc_np(err); }

int acshim_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5) {
    return prctl(option, a2, a3, a4, a5);
}
_Static_assert(offsetof(struct acshim_pin_state, words) == 8, "Pinning.wordsOffset");
__thread struct acshim_pin_state acshim_pin_tls __attribute__((tls_model("initial-exec")));
__thread struct acshim_rec_slot acshim_rec_tls __attribute__((tls_model("initial-exec")));
int acshim_sched_setaffinity(int tid, size_t bytes, const uint64_t *mask) { return sched_setaffinity(tid, bytes, (const cpu_set_t *)mask); }
int acshim_sched_getaffinity(int tid, size_t bytes, uint64_t *mask) { return sched_getaffinity(tid, bytes, (cpu_set_t *)mask); }
int acshim_pthread_setname(unsigned long t, const char *name) { return pthread_setname_np((pthread_t)t, name); }
int acshim_pthread_getname(unsigned long t, char *buf, size_t len) { return pthread_getname_np((pthread_t)t, buf, len); }
unsigned long acshim_pthread_self(void) { return (unsigned long)pthread_self(); }
int acshim_gettid(void) { return gettid(); }
int acshim_tgkill(int tgid, int tid, int sig) { return (int)syscall(SYS_tgkill, tgid, tid, sig); }
int acshim_sched_getcpu(void) { return sched_getcpu(); }
long acshim_io_uring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags,
                           const void *arg, size_t argsz) {
    return syscall(SYS_io_uring_enter, fd, to_submit, min_complete, flags, arg, (size_t)argsz);
}
long acshim_epoll_pwait2(int epfd, void *events, int maxevents, const void *timeout) {
    return syscall(SYS_epoll_pwait2, epfd, events, maxevents, timeout, (void *)0, (size_t)0);
}
long acshim_epoll_pwait2_mask(int epfd, void *events, int maxevents, const void *timeout, const uint64_t *sigmask) {
    return syscall(SYS_epoll_pwait2, epfd, events, maxevents, timeout, sigmask, (size_t)ACSHIM_KERNEL_SIGSET_BYTES);
}
static uint64_t blockable_signals(void) {
    sigset_t all;
    sigfillset(&all);   /* glibc leaves out its internal SIGCANCEL and SIGSETXID */
    static const int sync_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS};
    for (size_t i = 0; i < sizeof sync_signals / sizeof sync_signals[0]; i++) sigdelset(&all, sync_signals[i]);
    uint64_t set = 0;
    for (int s = 1; s <= 64; s++)
        if (sigismember(&all, s) == 1) set |= 1ull << (s - 1);
    return set;
}
int acshim_signals_block(uint64_t *old) {
    static uint64_t blocked;
    if (!blocked) blocked = blockable_signals();   /* same value from any thread: a benign race */
    return (int)syscall(SYS_rt_sigprocmask, SIG_BLOCK, &blocked, old, (size_t)ACSHIM_KERNEL_SIGSET_BYTES);
}
int acshim_signals_restore(const uint64_t *old) {
    return (int)syscall(SYS_rt_sigprocmask, SIG_SETMASK, old, (void *)0, (size_t)ACSHIM_KERNEL_SIGSET_BYTES);
}
int acshim_signals_pending(const uint64_t *old) {
    uint64_t pending = 0;
    if (syscall(SYS_rt_sigpending, &pending, (size_t)ACSHIM_KERNEL_SIGSET_BYTES) != 0) return 0;
    return (pending & ~*old) != 0;
}
int acshim_poll_now(int fd) {
    struct pollfd p = {fd, POLLIN, 0};
    int rc = poll(&p, 1, 0);
    return rc < 0 ? -1 : (rc == 0 ? 0 : p.revents);
}
long acshim_read_nowait(int fd, void *buf, size_t len) {
    struct iovec iov = {buf, len};
    return preadv2(fd, &iov, 1, -1, RWF_NOWAIT);
}
long acshim_futex_wait(uint32_t *word, uint32_t expected, const void *timeout) {
    return syscall(SYS_futex, word, FUTEX_WAIT, expected, timeout, (void *)0, 0);
}
long acshim_futex_wake(uint32_t *word, int count) {
    return syscall(SYS_futex, word, FUTEX_WAKE, count, (void *)0, (void *)0, 0);
}

/* The histogram header is the public alphacore_hist_layout_v1, field for field. */
#define ACSHIM_SAME_FIELD(ours, theirs) \
    _Static_assert(offsetof(struct acshim_hist_header, ours) == offsetof(alphacore_hist_layout_v1, theirs) && \
                   sizeof(((struct acshim_hist_header *)0)->ours) == sizeof(((alphacore_hist_layout_v1 *)0)->theirs), \
                   "acshim_hist_header." #ours " differs from alphacore_hist_layout_v1." #theirs)
ACSHIM_SAME_FIELD(highest, highest_trackable);
ACSHIM_SAME_FIELD(sub_bucket_mask, sub_bucket_mask);
ACSHIM_SAME_FIELD(total_count, total_count);
ACSHIM_SAME_FIELD(min_nonzero, min_nonzero);
ACSHIM_SAME_FIELD(max_value, max_value);
ACSHIM_SAME_FIELD(unit_magnitude, unit_magnitude);
ACSHIM_SAME_FIELD(half_count_magnitude, sub_bucket_half_count_magnitude);
ACSHIM_SAME_FIELD(half_count, sub_bucket_half_count);
ACSHIM_SAME_FIELD(sub_bucket_count, sub_bucket_count);
ACSHIM_SAME_FIELD(bucket_count, bucket_count);
ACSHIM_SAME_FIELD(counts_len, counts_len);
ACSHIM_SAME_FIELD(significant_digits, significant_digits);
ACSHIM_SAME_FIELD(leading_zero_base, leading_zero_base);
ACSHIM_SAME_FIELD(lowest, lowest_discernible);
ACSHIM_SAME_FIELD(start_ns, start_ns);
ACSHIM_SAME_FIELD(end_ns, end_ns);
ACSHIM_SAME_FIELD(total_from_counts, total_from_counts);
_Static_assert(sizeof(struct acshim_hist_header) == ACSHIM_HIST_HEADER_SIZE, "histogram header size");
_Static_assert(offsetof(alphacore_hist_layout_v1, counts) == ACSHIM_HIST_HEADER_SIZE, "counts offset");
_Static_assert(sizeof(struct acshim_recorder_header) == ACSHIM_RECORDER_OWNERS, "recorder header size");

static void *encode_cache;
void *acshim_encode_cache_swap(void *entry) { return __atomic_exchange_n(&encode_cache, entry, __ATOMIC_ACQ_REL); }
_Bool acshim_encode_cache_restore(void *entry) {
    void *expected = NULL;
    return __atomic_compare_exchange_n(&encode_cache, &expected, entry, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}
/* dlclose: nothing the library allocated outlives it. */
__attribute__((destructor)) static void acshim_encode_cache_fini(void) { free(acshim_encode_cache_swap(NULL)); }
