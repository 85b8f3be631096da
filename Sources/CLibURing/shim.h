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
