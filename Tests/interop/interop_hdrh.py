"""Interop matrix, Python side (issue 13): libalphacore's encodings and interval log decoded by
hdrh (the `hdrhistogram` package), compared with the .expect files interop_hdr_c wrote; then
hdrh's own encodings and log written back for interop_hdr_c to decode.

    python3 interop_hdrh.py DIR
"""
import sys

from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader, HistogramLogWriter

d = sys.argv[1]
failed = []


def expect(name):
    e = {"pct": [], "slot": []}
    for line in open(f"{d}/{name}.expect"):
        k, *v = line.split()
        if k in ("pct", "slot"):
            e[k].append((float(v[0]) if k == "pct" else int(v[0]), int(v[1])))
        else:
            e[k] = [int(x) for x in v]
    return e


def same(what, h, e):
    """Counts, total, min and max as HdrHistogram defines them."""
    problems = []
    if h.get_total_count() != e["total"][0]:
        problems.append(f"total {h.get_total_count()} != {e['total'][0]}")
    for value, count in e["slot"]:
        if h.get_count_at_value(value) != count:
            problems.append(f"count at {value}: {h.get_count_at_value(value)} != {count}")
            break
    if sum(c for _, c in e["slot"]) != h.get_total_count():
        problems.append("counts outside the expected slots")
    if e["total"][0] and h.get_max_value() != e["max"][0]:
        problems.append(f"max {h.get_max_value()} != {e['max'][0]}")
    if e["total"][0] and h.get_min_value() != e["min"][0]:
        problems.append(f"min {h.get_min_value()} != {e['min'][0]}")
    for p, v in e["pct"]:
        if 0 < p and e["total"][0] and h.get_value_at_percentile(p) != v:
            problems.append(f"p{p} {h.get_value_at_percentile(p)} != {v}")
            break
    if problems:
        failed.append(f"{what}: " + "; ".join(problems))
    return not problems


cases = open(f"{d}/cases.txt").read().split()
identical = []
decoded = []
for name in cases:
    ours = open(f"{d}/{name}.b64").read().strip()
    h = HdrHistogram.decode(ours)
    e = expect(name)
    same(f"hdrh decode {name}", h, e)
    theirs = h.encode().decode() if isinstance(h.encode(), bytes) else h.encode()
    if theirs == ours:
        identical.append(name)
    with open(f"{d}/{name}.hdrh.b64", "w") as f:
        f.write(theirs)
    decoded.append(h)

# Our log with a comment line in the middle, tags, a base time and an idle interval.
reader = HistogramLogReader(f"{d}/ours_comments.hlog", HdrHistogram(1, 3600000000000, 3))
n = 0
while True:
    h = reader.get_next_interval_histogram()
    if h is None:
        break
    want = "empty" if n == 1 else cases[n]
    same(f"hdrh log interval {n}", h, expect(want))
    n += 1
if n != len(cases):
    failed.append(f"hdrh read {n} intervals of {len(cases)} from our log")

with open(f"{d}/hdrh.hlog", "w") as f:
    w = HistogramLogWriter(f)
    w.output_log_format_version()
    # (hdrh 0.10's output_start_time fails on any time: datetime has no iso_format; the line is
    # optional, so it is written by hand, as Java writes it.)
    f.write("#[StartTime: 1700000000.000 (seconds since epoch), Tue Nov 14 22:13:20 UTC 2023]\n")
    w.output_legend()
    for i, h in enumerate(decoded):
        h.set_start_time_stamp(1700000000000 + i * 1000)
        h.set_end_time_stamp(1700000001000 + i * 1000)
        w.output_interval_histogram(h)

print(f"hdrh: {len(cases)} encodings and {n} log intervals of libalphacore decoded; "
      f"hdrh's own encoding byte-identical to ours for {len(identical)} of {len(cases)}: {' '.join(identical)}")
for msg in failed:
    print("FAILED:", msg, file=sys.stderr)
sys.exit(1 if failed else 0)
