/* What the hostile-input suites share: expectations that return 1 from a case (run in a forked
 * child) and a monotonic clock in seconds. Included after check.h. */
#ifndef ALPHACORE_TEST_HOSTILE_H
#define ALPHACORE_TEST_HOSTILE_H
#include <time.h>

#define EXPECT(c) do { if (!(c)) { fprintf(stderr, "%s:%d: expected %s (detail: \"%s\")\n", \
                                           __FILE__, __LINE__, #c, alphacore_last_detail()); return 1; } } while (0)
/* rc must be the negative errno e. */
#define EXPECT_ERR(rc, e) do { long long r_ = (long long)(rc); if (r_ != -(long long)(e)) { \
    fprintf(stderr, "%s:%d: %s returned %lld, expected -%s (detail: \"%s\")\n", __FILE__, __LINE__, #rc, r_, #e, \
            alphacore_last_detail()); return 1; } } while (0)

static inline double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds this process has used: the measure for "done in linear time" bounds, which wall
 * time would break whenever other work on the machine keeps the test off the CPU. */
static inline double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
#endif
