/* pin_collector: pins a market-data collector thread and reports where it runs.
 *
 *   ALPHACORE_CPUS="collector=1;orderbook=0" ./pin_collector     # role from the environment
 *   ./pin_collector 1                                             # or a CPU (list) argument
 *
 * Without either, the collector takes the last CPU this process may use (affinity & cgroup
 * cpuset & online). The collector checks alphacore_pin_verify() as it works: a thread moved
 * off its CPU (taskset, a cpuset change) is reported, not silently slowed down. */
#include <alphacore.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct collector { const char *where; int cpu; int node; int verified; char mask[64]; };

static void *collector_main(void *arg) {
    struct collector *c = arg;
    alphacore_thread_name_set("collector");
    int rc;
    if (getenv("ALPHACORE_CPUS")) {
        rc = alphacore_pin_role("collector");           /* the role's next CPU */
    } else {
        rc = alphacore_pin_thread_list(c->where);        /* validated, read back */
    }
    if (rc < 0) {
        fprintf(stderr, "pin_collector: cannot pin: %s (%s)\n", alphacore_strerror(rc), alphacore_last_detail());
        c->cpu = rc;
        return NULL;
    }
    /* ... the receive loop would run here; check the pin now and then ... */
    uint64_t sum = 0;
    for (int i = 0; i < 1000000; i++) sum += (uint64_t)i * 2654435761u;
    c->verified = alphacore_pin_verify();
    c->cpu = alphacore_current_cpu();
    c->node = alphacore_cpu_node(c->cpu);
    alphacore_thread_affinity(c->mask, sizeof c->mask);
    return sum == 42 ? arg : NULL;
}

int main(int argc, char **argv) {
    char allowed[256], source[512], where[64];
    alphacore_topology_list(ALPHACORE_CPUS_ALLOWED, allowed, sizeof allowed);
    alphacore_cpus_allowed_source(source, sizeof source);
    if (argc > 1) {
        snprintf(where, sizeof where, "%s", argv[1]);
    } else {
        uint64_t words[16] = {0};
        alphacore_topology_mask(ALPHACORE_CPUS_ALLOWED, words, 16);
        int last = words[0] ? 63 - __builtin_clzll(words[0]) : 0;
        snprintf(where, sizeof where, "%d", last);
    }
    printf("allowed CPUs: %s\n  from: %s\n", allowed, source);

    struct collector c = {where, -1, -1, -1, ""};
    pthread_t t;
    if (pthread_create(&t, NULL, collector_main, &c) != 0) return 1;
    pthread_join(t, NULL);
    if (c.cpu < 0) return 1;
    printf("collector pinned to %s, running on cpu %d (NUMA node %d), verify=%s\n",
           c.mask, c.cpu, c.node, c.verified == 1 ? "still pinned" : "MOVED");
    return c.verified == 1 ? 0 : 2;
}
