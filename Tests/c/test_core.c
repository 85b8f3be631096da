/* Version, errors and clock through the installed header and library. */
#include <alphacore.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "check.h"

static void test_version(void) {
    CHECK_EQ_INT(alphacore_version_number(), ALPHACORE_VERSION_NUMBER);
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", ALPHACORE_VERSION_MAJOR, ALPHACORE_VERSION_MINOR,
             ALPHACORE_VERSION_PATCH);
    CHECK_STREQ(alphacore_version_string(), expect);
}

static void test_strerror(void) {
    CHECK_STREQ(alphacore_strerror(-EINVAL), "Invalid argument");
    CHECK_STREQ(alphacore_strerror(EINVAL), "Invalid argument");
    CHECK_STREQ(alphacore_strerror(-ENOMEM), "Cannot allocate memory");
    CHECK_STREQ(alphacore_strerror(0), "success");
    CHECK_STREQ(alphacore_strerror(-ALPHACORE_EFORMAT), "malformed input data");
    CHECK_STREQ(alphacore_strerror(-ALPHACORE_EINTERNAL), "internal error in libalphacore");
    CHECK_STREQ(alphacore_strerror(INT_MIN), "unknown error -2147483648");
    CHECK_STREQ(alphacore_strerror(INT_MAX), "unknown error 2147483647");
    CHECK_STREQ(alphacore_strerror(-4095), "unknown error -4095");
    /* Every int gives a non-NULL, NUL-terminated string: sweep edges and a stride. */
    int bad = 0;
    for (long long v = INT_MIN; v <= INT_MAX; v += 65521) {
        const char *s = alphacore_strerror((int)v);
        if (!s || strlen(s) == 0 || strlen(s) > 200) bad++;
    }
    for (int v = -5000; v <= 5000; v++) {
        const char *s = alphacore_strerror(v);
        if (!s || strlen(s) == 0) bad++;
    }
    CHECK_EQ_INT(bad, 0);
}

static void test_last_detail(void) {
    const char *d = alphacore_last_detail();
    CHECK(d != NULL);
}

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void test_clock(void) {
    uint64_t a = mono_ns(), b = alphacore_now_ns(), c = mono_ns();
    CHECK(a <= b && b <= c);
    uint64_t t0 = alphacore_cycles(), r0 = alphacore_rdtsc();
    CHECK(r0 >= t0);
    CHECK(alphacore_cycles() >= r0);

    uint64_t hz = alphacore_cycles_per_second();
    CHECK(hz > 1000000ull);
    CHECK_EQ_INT(alphacore_cycles_to_ns(0), 0);
    uint64_t one_s = alphacore_cycles_to_ns(hz);
    CHECK(one_s >= 999999999ull && one_s <= 1000000000ull);

    /* Cycles over a 20 ms sleep convert to the monotonic interval within 1%. */
    uint64_t c0 = alphacore_cycles(), n0 = alphacore_now_ns();
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
    uint64_t c1 = alphacore_cycles(), n1 = alphacore_now_ns();
    double got = (double)alphacore_cycles_to_ns(c1 - c0), want = (double)(n1 - n0);
    CHECK(got > want * 0.99 && got < want * 1.01);

    /* Edge inputs: monotone, no wrap. */
    uint64_t edges[] = {1, 2, 1ull << 32, 1ull << 62, UINT64_MAX / 2, UINT64_MAX - 1, UINT64_MAX};
    uint64_t prev = 0;
    int monotone = 1;
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        uint64_t ns = alphacore_cycles_to_ns(edges[i]);
        if (ns < prev) monotone = 0;
        prev = ns;
    }
    CHECK(monotone);
}

int main(void) {
    test_version();
    test_strerror();
    test_last_detail();
    test_clock();
    return check_summary("test_core");
}
