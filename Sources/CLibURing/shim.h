/* liburing.h defines _XOPEN_SOURCE and _GNU_SOURCE before its system includes, which would give
 * this module other definitions of fd_set and friends than Glibc's and the shims' modules
 * (clang then rejects the mix). Including those headers first, with the default feature
 * macros, keeps one definition everywhere. */
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <inttypes.h>
#include <time.h>
#include <fcntl.h>
#include <sched.h>
#include <liburing.h>

/* ---- io_uring names liburing 2.3 lacks, spelled by name (values from the kernel's uapi
 * <linux/io_uring.h>). Plain macros are defined only where liburing has none. */
#ifndef IORING_FEAT_MIN_TIMEOUT
#define IORING_FEAT_MIN_TIMEOUT (1U << 15)   /* Linux 6.12: io_uring_getevents_arg.min_wait_usec */
#endif
#ifndef IORING_CQE_F_BUF_MORE
#define IORING_CQE_F_BUF_MORE (1U << 4)      /* Linux 6.12: the kernel keeps an incremental buffer */
#endif
/* Members of C enums in newer liburing (no #ifndef sees those): by liburing's version, which
 * liburing states from 2.4 on (io_uring_version.h; IO_URING_CHECK_VERSION(a, b) is true up to
 * and including a.b); 2.3 states none. */
#ifndef IO_URING_VERSION_MAJOR
#define IORING_OP_READ_MULTISHOT 49          /* Linux 6.7; liburing 2.5 */
#define IOU_PBUF_RING_INC 2                  /* Linux 6.12: struct io_uring_buf_reg.flags; liburing 2.8 */
#else
#if IO_URING_CHECK_VERSION(2, 4)
#define IORING_OP_READ_MULTISHOT 49
#endif
#if IO_URING_CHECK_VERSION(2, 7)
#define IOU_PBUF_RING_INC 2
#endif
#endif
/* One spelling Swift imports whatever liburing's version: enum members change type between
 * versions, and Swift cannot read the IOSQE_* macros (shifts of enum members). */
enum {
    ACURING_OP_READ_MULTISHOT = IORING_OP_READ_MULTISHOT,
    ACURING_PBUF_RING_INC = IOU_PBUF_RING_INC,
    ACURING_SQE_BUFFER_SELECT = IOSQE_BUFFER_SELECT,
    ACURING_SQE_CQE_SKIP_SUCCESS = IOSQE_CQE_SKIP_SUCCESS,
};
