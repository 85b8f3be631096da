#include "alphacore_shims.h"
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static _Thread_local char detail_buffer[ACSHIM_DETAIL_CAP];
static _Thread_local char errtext_buffer[ACSHIM_ERRTEXT_CAP];

char *acshim_detail_buffer(void) { return detail_buffer; }
char *acshim_errtext_buffer(void) { return errtext_buffer; }
const char *acshim_strerrordesc(int err) { return strerrordesc_np(err); }

long acshim_io_uring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags,
                           const void *arg, size_t argsz) {
    return syscall(SYS_io_uring_enter, fd, to_submit, min_complete, flags, arg, (size_t)argsz);
}
long acshim_epoll_pwait2(int epfd, void *events, int maxevents, const void *timeout) {
    return syscall(SYS_epoll_pwait2, epfd, events, maxevents, timeout, (void *)0, (size_t)0);
}
long acshim_read_nowait(int fd, void *buf, size_t len) {
    struct iovec iov = {buf, len};
    return preadv2(fd, &iov, 1, -1, RWF_NOWAIT);
}
