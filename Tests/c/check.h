/* A minimal test harness for the C tests: CHECK records a pass or a failure with its line,
 * and check_summary() prints "N passed, N failed" and returns the exit status. */
#ifndef ALPHACORE_TEST_CHECK_H
#define ALPHACORE_TEST_CHECK_H
#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond) do { \
    if (cond) { check_passed++; } \
    else { check_failed++; fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_EQ_INT(a, b) do { \
    long long check_a_ = (long long)(a), check_b_ = (long long)(b); \
    if (check_a_ == check_b_) { check_passed++; } \
    else { check_failed++; fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", \
                                   __FILE__, __LINE__, #a, #b, check_a_, check_b_); } \
} while (0)

#define CHECK_STREQ(a, b) do { \
    const char *check_a_ = (a), *check_b_ = (b); \
    if (check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0) { check_passed++; } \
    else { check_failed++; fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" != \"%s\")\n", \
                                   __FILE__, __LINE__, #a, #b, check_a_ ? check_a_ : "(null)", \
                                   check_b_ ? check_b_ : "(null)"); } \
} while (0)

/* An fd number that cannot be open in this process: the soft RLIMIT_NOFILE (the kernel hands out
 * only numbers below it). Tests use it for "not an open fd" instead of a just-closed fd, whose
 * number another thread (or a library's own ring or eventfd) may get back at once. */
#include <limits.h>
#include <sys/resource.h>
static inline int check_dead_fd(void) {
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= (rlim_t)INT_MAX) return INT_MAX;
    return (int)r.rlim_cur;
}

/* A random 32-bit value, for names in shared namespaces (/dev/shm): pid + random, so that a
 * stale file left by a killed run whose pid came round again cannot collide. */
#include <stdint.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
static inline uint32_t random_u32(void) {
    uint32_t v = 0;
    if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        v = (uint32_t)ts.tv_nsec ^ (uint32_t)getpid() << 16;
    }
    return v;
}

/* Output capture, to check that the library prints nothing: between check_capture_begin() and
 * check_capture_end() everything written to stdout and stderr (by this process and the children
 * it forks) goes to a temporary file. check_capture_end() restores both streams, shows what was
 * captured on stderr, and returns its size in bytes (0 = silent). Failing CHECKs inside the
 * window are captured too, so they still show. */
#include <unistd.h>
static FILE *check_capture_file;
static int check_capture_out = -1, check_capture_err = -1;

static inline void check_capture_begin(void) {
    fflush(NULL);
    check_capture_file = tmpfile();
    if (!check_capture_file) return;
    check_capture_out = dup(1);
    check_capture_err = dup(2);
    dup2(fileno(check_capture_file), 1);
    dup2(fileno(check_capture_file), 2);
}

static inline long check_capture_end(void) {
    if (!check_capture_file) return -1;
    fflush(NULL);
    dup2(check_capture_out, 1);
    dup2(check_capture_err, 2);
    close(check_capture_out);
    close(check_capture_err);
    fseek(check_capture_file, 0, SEEK_END);
    long size = ftell(check_capture_file);
    if (size != 0) {
        char text[4096] = {0};
        rewind(check_capture_file);
        size_t n = fread(text, 1, sizeof text - 1, check_capture_file);
        fprintf(stderr, "output during the run (%zu bytes shown):\n%s\n", n, text);
    }
    fclose(check_capture_file);
    check_capture_file = NULL;
    return size;
}

static int check_summary(const char *name) {
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed == 0 ? 0 : 1;
}
#endif
