/* Loads libalphacore with dlopen, calls into it, and checks that no signal disposition
 * changed: the library must never install signal handlers in the host process. */
#include <dlfcn.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    struct sigaction before[65];
    for (int s = 1; s < 65; s++) sigaction(s, NULL, &before[s]);
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
    uint64_t (*now)(void) = (uint64_t (*)(void))dlsym(h, "alphacore_now_ns");
    uint64_t (*to_ns)(uint64_t) = (uint64_t (*)(uint64_t))dlsym(h, "alphacore_cycles_to_ns");
    const char *(*err)(int) = (const char *(*)(int))dlsym(h, "alphacore_strerror");
    if (!now || !to_ns || !err) return 1;
    (void)now(); (void)to_ns(12345); (void)err(-22);
    int changed = 0;
    for (int s = 1; s < 65; s++) {
        struct sigaction after;
        sigaction(s, NULL, &after);
        if (after.sa_handler != before[s].sa_handler || after.sa_flags != before[s].sa_flags) {
            fprintf(stderr, "signal %d disposition changed\n", s);
            changed++;
        }
    }
    return changed ? 1 : 0;
}
