/* An order book in huge pages on the local NUMA node.
 *
 *   cc -std=c11 -O2 orderbook_region.c $(pkg-config --cflags --libs alphacore) -o orderbook_region
 *   ./orderbook_region            # best pages the host gives, and why better ones were refused
 *   ./orderbook_region --require  # hugetlb pages or an error (-ENOMEM), no fallback
 *
 * Reserve a pool first to see hugetlb pages: echo 16 > /proc/sys/vm/nr_hugepages */
#include <alphacore.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* One price level: 64 bytes, one cache line. */
typedef struct level {
    int64_t price;
    int64_t quantity;
    int64_t orders;
    int64_t updated_ns;
    int64_t pad[4];
} level;

enum { LEVELS_PER_SIDE = 65536 };   /* two sides x 65536 levels x 64 bytes = 8 MiB */

typedef struct book {
    level bids[LEVELS_PER_SIDE];
    level asks[LEVELS_PER_SIDE];
} book;

int main(int argc, char **argv) {
    alphacore_mem_opts opts = ALPHACORE_MEM_OPTS_INIT;
    opts.node = ALPHACORE_MEM_NODE_LOCAL;                  /* the node this thread runs on */
    opts.flags = ALPHACORE_MEM_PREFAULT | ALPHACORE_MEM_NODE_STRICT;
    if (argc > 1 && strcmp(argv[1], "--require") == 0) opts.flags |= ALPHACORE_MEM_REQUIRE_HUGE;

    alphacore_region region;
    int rc = alphacore_mem_alloc(sizeof(book), &opts, &region);
    if (rc < 0) {
        fprintf(stderr, "alphacore_mem_alloc: %s (%s)\n", alphacore_strerror(rc), alphacore_last_detail());
        return 1;
    }

    char report[2048];
    alphacore_mem_report(&region, report, sizeof report);
    printf("order book: %zu bytes\n%s", sizeof(book), report);

    book *b = region.addr;   /* prefaulted: no page faults on the first update */
    for (int i = 0; i < LEVELS_PER_SIDE; i++) {
        b->bids[i].price = 100000 - i;
        b->asks[i].price = 100001 + i;
    }
    b->bids[0].quantity = 5;
    printf("best bid %lld x %lld, best ask %lld\n", (long long)b->bids[0].price,
           (long long)b->bids[0].quantity, (long long)b->asks[0].price);

    rc = alphacore_mem_free(&region);
    return rc == 0 ? 0 : 1;
}
