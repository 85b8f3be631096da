"""make bench BENCH=metrics (Python part): alphacore.metrics' histogram record_many over a
1 M numpy array against prometheus_client's Histogram.observe in a loop (same values, same run)."""
import time

import numpy as np
import prometheus_client

from alphacore import metrics

rng = np.random.default_rng(1)
ns = np.exp(rng.uniform(np.log(20), np.log(1e7), 1_000_000)).astype(np.int64)
secs = (ns * 1e-9).tolist()

with metrics.Registry() as reg:
    h = reg.histogram("bench_py_latency", "Python record_many.")
    best_ours = 1e9
    for _ in range(5):
        t = time.perf_counter()
        h.record_many(ns)
        best_ours = min(best_ours, time.perf_counter() - t)
    peer_reg = prometheus_client.CollectorRegistry()
    ph = prometheus_client.Histogram("bench_peer_latency_seconds", "peer", registry=peer_reg,
                                     buckets=[m * 10.0 ** e for e in range(-6, 1) for m in (1, 2, 5)] + [10.0])
    n_peer = 200_000
    t = time.perf_counter()
    observe = ph.observe
    for v in secs[:n_peer]:
        observe(v)
    peer = (time.perf_counter() - t) / n_peer
    ours = best_ours / len(ns)
    print(f"python: record_many {ours * 1e9:.2f} ns/value (1 M numpy, best of 5); "
          f"prometheus_client observe {peer * 1e9:.0f} ns/value ({n_peer} in a loop); "
          f"ours is {peer / ours:.0f}x faster (goal >= 100x)")
