"""The scrape endpoint against Debian's real Prometheus 2.42: a C target records a known
distribution into a histogram and a recorder and serves it; one Prometheus with
--enable-feature=native-histograms (it negotiates protobuf and ingests the native form) and one
without (text, classic buckets) scrape it every second; histogram_quantile over the HTTP API
must match the library's own percentiles within each format's bucket error. Both servers are
stopped and their data removed whatever happens. Also: promtool check metrics on our text."""
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
LADDER = [m * 10.0 ** e for e in range(-6, 1) for m in (1, 2, 5)] + [10.0]


def build_target(tmp: Path) -> Path:
    lib = Path(os.environ.get("ALPHACORE_LIBRARY", ROOT / "build/lib/libalphacore.so.0")).resolve()
    exe = tmp / "metrics_target"
    subprocess.run([os.environ.get("CC", "cc"), "-std=c11", "-O2", "-Wall", "-Werror", "-I", str(ROOT / "include"),
                    str(Path(__file__).with_name("metrics_target.c")), "-o", str(exe), str(lib), "-lm",
                    f"-Wl,-rpath,{lib.parent}"], check=True)
    return exe


@pytest.fixture
def target(tmp_path):
    exe = build_target(tmp_path)
    proc = subprocess.Popen([str(exe), "200000"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        info["pid"] = proc.pid
        yield info
    finally:
        proc.stdin.close()
        try:
            assert proc.wait(timeout=10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    def __init__(self, target_port: int, native: bool):
        self.dir = Path(tempfile.mkdtemp(prefix="alphacore-prom-"))
        self.port = free_port()
        (self.dir / "prometheus.yml").write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
            "scrape_configs:\n  - job_name: alphacore\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{target_port}']\n")
        args = [PROMETHEUS, f"--config.file={self.dir / 'prometheus.yml'}", f"--storage.tsdb.path={self.dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"]
        if native:
            args.append("--enable-feature=native-histograms")
        self.log = open(self.dir / "log.txt", "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)

    def query(self, q: str):
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
        with urllib.request.urlopen(url, timeout=5) as r:
            body = json.load(r)
        assert body["status"] == "success", body
        return body["data"]["result"]

    def value(self, q: str, deadline: float):
        """The query's single value once Prometheus has it (None at the deadline)."""
        while time.monotonic() < deadline:
            try:
                res = self.query(q)
                if res and not math.isnan(float(res[0]["value"][1])):
                    return float(res[0]["value"][1])
            except (OSError, ValueError):
                pass
            time.sleep(0.5)
        return None

    def stop(self):
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            self.log.close()
            shutil.rmtree(self.dir, ignore_errors=True)


def classic_bucket(v: float):
    lo = 0.0
    for b in LADDER:
        if v <= b:
            return lo, b
        lo = b
    return lo, math.inf


@pytest.mark.skipif(PROMETHEUS is None, reason="Debian's prometheus package is not installed")
def test_prometheus_native_and_classic(target):
    t0 = time.monotonic()
    native = Prometheus(target["port"], native=True)
    classic = Prometheus(target["port"], native=False)
    try:
        deadline = time.monotonic() + 30
        truth = [v * 1e-9 for v in target["p"]]
        for series in ("test_hist_seconds", "test_rec_seconds"):
            for q, want in zip((0.5, 0.99, 0.999), truth):
                got = native.value(f"histogram_quantile({q}, {series})", deadline)
                assert got is not None, f"native {series} q={q}: no answer ({native.query(series)})"
                # One native bucket at schema 3 is a factor 2^(1/8) = 1.0905 wide.
                assert want / 1.0905 * 0.999 <= got <= want * 1.0905 * 1.001, (series, q, got, want)
                got = classic.value(f"histogram_quantile({q}, {series}_bucket)", deadline)
                assert got is not None, f"classic {series} q={q}: no answer"
                lo, hi = classic_bucket(want)
                assert lo * 0.999 <= got <= hi * 1.001, (series, q, got, want, lo, hi)
        # The native server ingested native histograms (no classic _bucket series for it).
        assert native.query("test_hist_seconds_bucket") == []
        assert classic.value("test_events_total", deadline) == 200000
        assert classic.value("test_depth", deadline) == -7
        assert native.value("test_events_total", deadline) == 200000
    finally:
        native.stop()
        classic.stop()
        assert not native.dir.exists() and not classic.dir.exists()
    assert time.monotonic() - t0 < 45


@pytest.mark.skipif(PROMTOOL is None, reason="promtool (Debian's prometheus package) is not installed")
def test_promtool_check_metrics(target):
    with urllib.request.urlopen(f"http://127.0.0.1:{target['port']}/metrics", timeout=5) as r:
        text = r.read()
    res = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, timeout=30)
    assert res.returncode == 0 and res.stdout == b"" and res.stderr == b"", (res.stdout, res.stderr)
