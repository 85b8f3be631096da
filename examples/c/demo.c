/* The end-to-end demo (make demo). It grows with the library: today it shows the version and
 * times a loop with the cycle counter. */
#include <alphacore.h>
#include <stdint.h>
#include <stdio.h>

int main(void) {
    if (alphacore_version_number() != ALPHACORE_VERSION_NUMBER) {
        fprintf(stderr, "header %d and library %u differ\n", ALPHACORE_VERSION_NUMBER,
                alphacore_version_number());
        return 1;
    }
    printf("libalphacore %s\n", alphacore_version_string());
    printf("cycle counter: %llu Hz\n", (unsigned long long)alphacore_cycles_per_second());

    volatile uint64_t sum = 0;
    uint64_t t0 = alphacore_rdtsc();
    for (int i = 0; i < 1000000; i++) sum += (uint64_t)i;
    uint64_t t1 = alphacore_rdtsc();
    printf("1,000,000 additions: %llu ns\n", (unsigned long long)alphacore_cycles_to_ns(t1 - t0));
    return 0;
}
