/* Reading and writing the huge-page pool counters for the memory tests (test_mem*.c). */
#ifndef ALPHACORE_TEST_MEM_SYSCTL_H
#define ALPHACORE_TEST_MEM_SYSCTL_H
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>

/* Test runs on one machine (several worktrees at once) take turns on the global pools: every
 * program that changes nr_hugepages holds this lock while it does (Tests/python too). */
#define MEM_POOL_LOCK "/tmp/alphacore-hugepages.lock"
static int pool_lock(void) {
    int fd = open(MEM_POOL_LOCK, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) flock(fd, LOCK_EX);
    return fd;
}

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
