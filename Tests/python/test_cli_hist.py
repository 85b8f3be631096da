"""`alphacore hist` over histograms and interval logs written by the hdrh package (the peer)."""
import os
import random
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

hdrh = pytest.importorskip("hdrh.histogram")

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(os.environ.get("ALPHACORE_CLI", ROOT / "build" / "bin" / "alphacore"))


def run(*args, stdin=None):
    return subprocess.run([str(CLI), *args], input=stdin, capture_output=True, text=True, timeout=60)


def make_hist(n, mu, seed):
    rnd = random.Random(seed)
    h = hdrh.HdrHistogram(1, 3600 * 10**9, 3)
    for _ in range(n):
        h.record_value(int(rnd.lognormvariate(mu, 1)))
    return h


def table_summary(text):
    lines = [l for l in text.splitlines() if l.startswith("#[Max")]
    assert lines, text
    parts = lines[0].replace("#[Max     =", "").replace("]", "").split(", Total count    =")
    return float(parts[0]), int(parts[1])


def test_table_from_an_encoded_histogram(tmp_path):
    h = make_hist(50000, 9, 1)
    f = tmp_path / "h.b64"
    f.write_text(h.encode().decode() + "\n")
    r = run("hist", str(f))
    assert r.returncode == 0, r.stderr
    mx, total = table_summary(r.stdout)
    assert total == 50000
    assert mx == h.get_max_value()
    # Each row's value is hdrh's value at that row's percentile (hdrh rounds the target count to
    # the nearest; the table takes the first count at or past the level: half a count apart).
    rows = [l.split() for l in r.stdout.splitlines()[2:] if l and l[0] == " " and len(l.split()) >= 3]
    assert len(rows) > 50
    for v, p, *_ in rows[::7]:
        want = h.get_value_at_percentile(float(p) * 100 + 49.9 / 50000)
        assert float(v) == want, (v, p, want)
    # Same through stdin, scaled to microseconds.
    r = run("hist", "-", "--scale", "1000", stdin=f.read_text())
    mx_us, _ = table_summary(r.stdout)
    assert abs(mx_us - h.get_max_value() / 1000) < 0.001


def write_log(path, tagged):
    with open(path, "w") as f:
        f.write("#[Histogram log format version 1.3]\n#[StartTime: 1700000000.000 (seconds since epoch)]\n")
        f.write('"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"\n')
        hs = []
        for t in range(4):
            h = make_hist(5000, 8 + (t % 2), t)
            hs.append(h)
            tag = "Tag=feed," if tagged and t % 2 else ""
            f.write(f"{tag}{t}.000,1.000,{h.get_max_value() / 1e6:.3f},{h.encode().decode()}\n")
    return hs


def test_table_and_tags_from_an_interval_log(tmp_path):
    log = tmp_path / "x.hlog"
    hs = write_log(log, tagged=True)
    r = run("hist", str(log))
    assert r.returncode == 0, r.stderr
    assert table_summary(r.stdout)[1] == 20000
    r = run("hist", str(log), "--tag", "feed")
    assert table_summary(r.stdout) == (max(hs[1].get_max_value(), hs[3].get_max_value()), 10000)
    r = run("hist", str(log), "--tag", "nope")
    assert r.returncode == 1 and "nope" in r.stderr


def test_svg_plot_one_line_per_tag(tmp_path):
    log = tmp_path / "x.hlog"
    write_log(log, tagged=True)
    out = tmp_path / "p.svg"
    r = run("hist", str(log), "--svg", str(out), "--scale", "1000", "--unit", "us")
    assert r.returncode == 0, r.stderr and r.stdout == ""
    root = ET.parse(out).getroot()
    ns = {"s": "http://www.w3.org/2000/svg"}
    paths = root.findall(".//s:path", ns)
    assert [p.find("s:title", ns).text for p in paths] == ["(no tag)", "feed"]
    texts = [t.text for t in root.findall(".//s:text", ns)]
    assert "99.9%" in texts and "90%" in texts and "Latency (us)" in texts
    # One series for an untagged histogram.
    write_log(log, tagged=False)
    run("hist", str(log), "--svg", str(out))
    assert len(ET.parse(out).getroot().findall(".//s:path", ns)) == 1


@pytest.mark.parametrize("content", ["", "garbage\n", "HISTFAAAAbad\n", "0.0,1.0,2.0,HISTFAAA\n"])
def test_bad_input_is_an_error_not_a_crash(tmp_path, content):
    f = tmp_path / "bad"
    f.write_text(content)
    for extra in ([], ["--svg", str(tmp_path / "o.svg")]):
        r = run("hist", str(f), *extra)
        assert r.returncode == 1 and "alphacore hist:" in r.stderr


def test_missing_file():
    r = run("hist", "/nonexistent/file")
    assert r.returncode == 1 and "No such file" in r.stderr


def old_encoding(h, version, word, compressed=True):
    """V0 / V1 (jHiccup 2.0.1 / 2.0.6), built per HdrHistogram_c's decoder: big-endian words,
    one per slot up to the last non-empty one."""
    import base64
    import struct
    import zlib
    used = max([i + 1 for i in range(h.counts_len) if h.counts[i]] or [1])
    fmt = {2: ">H", 4: ">I", 8: ">q"}[word]
    counts = b"".join(struct.pack(fmt, h.counts[i]) for i in range(used))
    if version == 0:
        payload = struct.pack(">IiqqQ", 0x1C849308 | word << 4, h.significant_figures, h.lowest_trackable_value,
                              h.highest_trackable_value, h.total_count) + counts
    else:
        payload = struct.pack(">IiiiqqQ", 0x1C849301 | word << 4, len(counts), 0, h.significant_figures,
                              h.lowest_trackable_value, h.highest_trackable_value,
                              struct.unpack(">Q", struct.pack(">d", 1.0))[0]) + counts
    if compressed:
        z = zlib.compress(payload)
        payload = struct.pack(">Ii", (0x1C849309 if version == 0 else 0x1C849302) | word << 4, len(z)) + z
    return base64.b64encode(payload).decode()


@pytest.mark.parametrize("version,word,compressed", [(0, 8, True), (1, 8, True), (1, 2, True), (1, 4, False)])
def test_table_from_v0_and_v1_encodings(tmp_path, version, word, compressed):
    h = make_hist(20000, 7, 3)   # counts below 2^15: every word size holds them
    f = tmp_path / "old.b64"
    f.write_text(old_encoding(h, version, word, compressed) + "\n")
    r = run("hist", str(f))
    assert r.returncode == 0, r.stderr
    mx, total = table_summary(r.stdout)
    assert total == h.get_total_count()
    assert mx == h.get_max_value()


def test_interval_log_of_v0_and_v1_lines(tmp_path):
    a, b = make_hist(5000, 7, 4), make_hist(7000, 8, 5)
    text = ("#[Histogram log format version 1.2]\n"
            '"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"\n'
            f"0.000,1.000,1.0,{old_encoding(a, 0, 8)}\n"
            f"1.000,1.000,1.0,{old_encoding(b, 1, 8)}\n")
    f = tmp_path / "old.hlog"
    f.write_text(text)
    r = run("hist", str(f))
    assert r.returncode == 0, r.stderr
    assert table_summary(r.stdout)[1] == a.get_total_count() + b.get_total_count()
    bad = tmp_path / "bad.b64"   # a word size other than 2, 4 or 8
    import base64
    raw = bytearray(base64.b64decode(old_encoding(a, 1, 8, compressed=False)))
    raw[3] = (raw[3] & 0x0F) | 0x30   # word size 3
    bad.write_text(base64.b64encode(bytes(raw)).decode())
    r = run("hist", str(bad))
    assert r.returncode != 0 and "word size" in r.stderr
