"""Histograms from Python, checked against the hdrh package (HdrHistogram's Python port):
both encoding directions byte for byte, queries, the interval log both ways, the recorder."""
import errno
import io
import math
import random
import threading

import numpy as np
import pytest
from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader, HistogramLogWriter

import alphacore
from alphacore import AlphacoreError, Histogram, LogReader, Recorder

HOUR = 3_600_000_000_000
CONFIGS = [(1, HOUR, 3), (1, 1_000_000, 2), (1000, 10**12, 4), (1, 10**6, 5), (7, 10**9, 1), (1, 2**62, 3)]


def random_values(rng, cfg, n):
    lo, hi, _ = cfg
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.05:
            out.append(0)
        elif r < 0.1:
            out.append(hi)
        else:
            out.append(int(math.exp(rng.uniform(0, math.log(hi)))))
    return out


def twins(cfg, values):
    ours = Histogram(*cfg)
    theirs = HdrHistogram(*cfg)
    for v in values:
        ours.record(v)
        assert theirs.record_value(v)
    return ours, theirs


@pytest.mark.parametrize("cfg", CONFIGS)
def test_encoding_is_byte_identical_to_hdrh(cfg):
    rng = random.Random(hash(cfg) & 0xFFFF)
    for n in (0, 1, 2, 17, 1000, 20000):
        ours, theirs = twins(cfg, random_values(rng, cfg, n))
        if n == 0:
            # The empty histogram: hdrh writes a zero-byte payload (HdrHistogram_c refuses it);
            # ours covers one empty slot as HdrHistogram_c does. Each decodes the other's.
            assert ours.encode() != theirs.encode().decode()
            assert HdrHistogram.decode(ours.encode()).get_total_count() == 0
            assert Histogram.decode(theirs.encode()).total_count == 0
        else:
            assert ours.encode() == theirs.encode().decode(), (cfg, n)
        ours.close()


def test_edge_case_histograms_identical():
    cases = [[0], [1], [0] * 5 + [1] * 5, [HOUR], [1, HOUR], [2047, 2048, 2049], list(range(0, 5000, 3))]
    for values in cases:
        ours, theirs = twins((1, HOUR, 3), values)
        assert ours.encode() == theirs.encode().decode()
    # large counts (several-byte varints, up to the 9-byte form)
    ours, theirs = Histogram(1, HOUR, 3), HdrHistogram(1, HOUR, 3)
    for v, c in [(5, 2**40), (6, 2**55), (1000, 127), (1001, 128), (10**9, 2**62 - 2**56)]:
        ours.record(v, c)
        theirs.record_value(v, c)
    assert ours.encode() == theirs.encode().decode()
    back = Histogram.decode(theirs.encode())
    assert back.count_at(6) == 2**55 and back.count_at(10**9) == 2**62 - 2**56


@pytest.mark.parametrize("cfg", CONFIGS)
def test_we_decode_what_hdrh_encodes(cfg):
    rng = random.Random(7)
    values = random_values(rng, cfg, 5000)
    theirs = HdrHistogram(*cfg)
    for v in values:
        theirs.record_value(v)
    ours = Histogram.decode(theirs.encode())
    assert ours.total_count == theirs.get_total_count()
    for v in set(values):
        assert ours.count_at(v) == theirs.get_count_at_value(v)
    assert ours.max == theirs.get_max_value()
    assert ours.min == theirs.get_min_value()
    ps = (0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0)
    expect = theirs.get_percentile_to_value_dict(ps)
    for p in ps:
        assert ours.percentile(p) == expect[p], p
    assert ours.mean == pytest.approx(theirs.get_mean_value(), rel=1e-9)
    assert ours.stddev == pytest.approx(theirs.get_stddev(), rel=1e-6)


def test_hdrh_decodes_what_we_encode():
    rng = random.Random(11)
    ours = Histogram(1, HOUR, 3)
    values = np.array(random_values(rng, (1, HOUR, 3), 50000), dtype=np.int64)
    ours.record_many(values)
    theirs = ours.to_hdrh()
    assert theirs.get_total_count() == 50000
    for v in values[:2000]:
        assert theirs.get_count_at_value(int(v)) == ours.count_at(int(v))
    back = Histogram.from_hdrh(theirs)
    assert back.encode() == ours.encode()


@pytest.mark.parametrize("level", [0, 1, 9])
def test_hdrh_decodes_every_encode_level(level):
    rng = random.Random(level)
    ours = Histogram(1, HOUR, 3)
    ours.record_many(np.array(random_values(rng, (1, HOUR, 3), 20000), dtype=np.int64))
    fast = ours.encode(level=level)
    assert fast.startswith("HISTF")
    theirs = HdrHistogram.decode(fast)
    assert theirs.encode().decode() == ours.encode()   # same counts, so the default bytes
    assert Histogram.decode(fast).encode() == ours.encode()
    with pytest.raises(AlphacoreError) as e:
        ours.encode(level=10)
    assert e.value.errno == errno.EINVAL


def test_record_many_matches_record_and_is_all_or_nothing():
    rng = np.random.default_rng(3)
    vals = np.exp(rng.uniform(math.log(20), math.log(1e7), 100000)).astype(np.int64)
    with Histogram() as a, Histogram() as b:
        a.record_many(vals)
        for v in vals[:1000]:
            b.record(int(v))
        b.reset()
        b.record_many(list(vals))
        assert a.encode() == b.encode()
        bad = vals.copy()
        bad[500] = -1
        with pytest.raises(AlphacoreError) as e:
            a.record_many(bad)
        assert e.value.errno == errno.ERANGE
        assert a.total_count == 100000
        a.record_many(vals[::2])   # strided view: converted to contiguous
        assert a.total_count == 150000
        a.record_many(vals.astype(np.int32))
        assert a.total_count == 250000


def test_errors_and_context_manager():
    with pytest.raises(AlphacoreError) as e:
        Histogram(0, 100, 3)
    assert e.value.errno == errno.EINVAL
    with pytest.raises(AlphacoreError):
        Histogram(1, 100, 6)
    h = Histogram(1, 1000, 3)
    with pytest.raises(AlphacoreError) as e:
        h.record(1001)
    assert e.value.errno == errno.ERANGE
    with pytest.raises(AlphacoreError) as e:
        h.percentile(float("nan"))
    assert e.value.errno == errno.EINVAL
    with pytest.raises(AlphacoreError):
        h.percentile(101)
    with pytest.raises(AlphacoreError) as e:
        Histogram.decode("HISTnotvalid")
    assert e.value.errno == 20001
    with h:
        h.record(5)
    with pytest.raises(ValueError):
        h.record(5)
    h.close()


def test_percentiles_and_stats_against_hdrh():
    ours, theirs = twins((1, HOUR, 3), random_values(random.Random(5), (1, HOUR, 3), 30000))
    ps = [0, 10, 50, 75, 90, 99, 99.9, 99.99, 100]
    expect = theirs.get_percentile_to_value_dict(ps)
    assert ours.percentiles(ps) == [expect[p] for p in ps]
    assert ours.footprint == 270440


def test_percentile_table_matches_java_iteration():
    """Lines equal a direct port of HdrHistogram's percentile iterator computed here."""
    h = Histogram(1, HOUR, 3)
    vals = list(range(1000, 2_001_000, 1000))
    for v in vals:
        h.record(v)
    text = h.format_percentiles(5, 1000.0)
    lines = text.splitlines()
    assert lines[0] == "       Value     Percentile TotalCount 1/(1-Percentile)"
    assert lines[1] == ""
    theirs = HdrHistogram(1, HOUR, 3)
    for v in vals:
        theirs.record_value(v)
    # reference: Java/C tick arithmetic (hdrh's own iterator skips the int truncation)
    total = len(vals)
    counts = sorted(vals)
    level, rows, idx = 0.0, [], 0
    while idx < total:
        target = level * total / 100.0
        # first value whose cumulative count reaches the level
        k = max(int(math.ceil(target - 1e-12)), 1) - 1
        k = max(k, idx)
        v = theirs.get_highest_equivalent_value(counts[k])
        cum = sum(1 for x in counts if theirs.get_lowest_equivalent_value(x) <= theirs.get_lowest_equivalent_value(counts[k]))
        rows.append((v, level, cum))
        idx = k
        if cum >= total:
            break
        temp = int(math.log(100.0 / (100.0 - level)) / math.log(2)) + 1
        level += 100.0 / (5 * int(2 ** temp))
    body = [ln for ln in lines[2:] if not ln.startswith("#")]
    for (v, level, cum), line in zip(rows, body):
        parts = line.split()
        assert float(parts[0]) == pytest.approx(v / 1000.0, abs=0.0005)
        assert float(parts[1]) == pytest.approx(level / 100.0, abs=1e-12)
        assert int(parts[2]) == cum
    assert body[-1].split()[1] == "1.000000000000"
    assert lines[-3].startswith("#[Mean    = ")
    assert lines[-2] == "#[Max     =     2000.895, Total count    =         2000]"
    assert lines[-1] == "#[Buckets =           32, SubBuckets     =         2048]"


def test_interval_log_we_write_hdrh_reads(tmp_path):
    start_ns = 1_700_000_000_000_000_000
    text = alphacore.log_header(start_ns)
    hists = []
    for k in range(4):
        h = Histogram()
        h.record_many(np.arange(1, 1000 * (k + 1), 7, dtype=np.int64) * 1000)
        h.set_times(start_ns + k * 10**9, start_ns + (k + 1) * 10**9)
        text += h.log_line("T%d" % k if k % 2 else None, base_ns=start_ns)
        hists.append(h)
    path = tmp_path / "ours.hlog"
    path.write_text(text)
    reader = HistogramLogReader(str(path), HdrHistogram(1, HOUR, 3))
    for k in range(4):
        got = reader.get_next_interval_histogram()
        assert got is not None
        assert got.get_total_count() == hists[k].total_count
        assert got.encode().decode() == hists[k].encode()
        assert got.get_tag() == ("T%d" % k if k % 2 else None)
        assert got.get_start_time_stamp() == pytest.approx((start_ns / 1e9 + k) * 1000.0, abs=1.0)
    assert reader.get_next_interval_histogram() is None
    reader.close()


def test_interval_log_hdrh_writes_we_read():
    out = io.StringIO()
    w = HistogramLogWriter(out)
    w.output_comment("[Histogram log format version 1.2]")
    # hdrh 0.10.8's output_start_time calls a datetime method that does not exist: write
    # the line it means to write.
    out.write("#[StartTime: %f (seconds since epoch), %s]\n" % (1_700_000_000.0, "2023-11-14 22:13:20"))
    w.output_legend()
    theirs = []
    for k in range(3):
        h = HdrHistogram(1, HOUR, 3)
        for v in range(1, 500 * (k + 1)):
            h.record_value(v * 997)
        w.output_interval_histogram(h, 1_700_000_000.0 + k, 1_700_000_001.0 + k)
        theirs.append(h)
    entries = list(LogReader(out.getvalue()))
    assert len(entries) == 3
    for (h, start, length, mx, tag), ref in zip(entries, theirs):
        assert h.encode() == ref.encode().decode()
        assert length == pytest.approx(1.0)
        assert tag is None
    assert entries[1][1] == pytest.approx(1_700_000_001.0)
    table = alphacore.percentile_table(out.getvalue())
    assert "Total count    =         " + str(sum(t.get_total_count() for t in theirs)) in table
    single = alphacore.percentile_table(theirs[0].encode())
    assert "#[Buckets" in single


def test_recorder_threads_lose_nothing():
    rec = Recorder()
    n_threads, per = 2, 200000
    vals = np.arange(1, per + 1, dtype=np.int64)

    def writer():
        for chunk in np.array_split(vals, 50):
            rec.record_many(chunk)

    threads = [threading.Thread(target=writer) for _ in range(n_threads)]
    total = Histogram()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        s = rec.sample()
        total.add(s)
        s.close()
    for t in threads:
        t.join()
    total.add(rec.sample())
    assert total.total_count == n_threads * per
    rec.record(42)
    assert rec.sample().count_at(42) == 1
    rec.close()
