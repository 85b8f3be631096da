/* Reading and writing the huge-page pool counters for the memory tests (test_mem*.c). */
#ifndef ALPHACORE_TEST_MEM_SYSCTL_H
#define ALPHACORE_TEST_MEM_SYSCTL_H
#include <stdio.h>

static long read_long(const char *path) {
    FILE *f = fopen(path, "r");
    long v = -1;
    if (!f) return -1;
    if (fscanf(f, "%ld", &v) != 1) v = -1;
    fclose(f);
    return v;
}

static int write_long(const char *path, long v) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    int ok = fprintf(f, "%ld\n", v) > 0;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}
#endif
