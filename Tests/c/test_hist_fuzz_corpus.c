/* Replays the kept fuzz corpus (Tests/fuzz/corpus: seeds, and what `make fuzz` found,
 * including the inputs of fixed bugs) through the fuzz target's checks against the installed
 * library: each input must decode with the invariants holding, or fail with a negative errno. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../fuzz/fuzz_hist_decode.c"

int main(void) {
    /* build/Tests/c/<this program> -> Tests/fuzz/corpus (FUZZ_CORPUS overrides) */
    char dir[4096];
    const char *env = getenv("FUZZ_CORPUS");
    if (env) {
        snprintf(dir, sizeof dir, "%s", env);
    } else {
        char exe[3000];
        ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[k > 0 ? k : 0] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        snprintf(dir, sizeof dir, "%s/../../../Tests/fuzz/corpus", exe);
    }
    DIR *d = opendir(dir);
    if (!d) { printf("test_hist_fuzz_corpus: 0 passed, 1 failed (no %s)\n", dir); return 1; }
    static unsigned char buf[1 << 20];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[4096 + 512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, len);   /* aborts on a broken invariant */
        n++;
    }
    closedir(d);
    printf("test_hist_fuzz_corpus: %d passed, %d failed\n", n, n >= 10 ? 0 : 1);
    return n >= 10 ? 0 : 1;
}
