"""`alphacore doctor --prom FILE` (atomic textfile for node_exporter, promtool-clean) and
`alphacore loadtest --metrics ADDR` (live scrapes during a run)."""
import os
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(os.environ.get("ALPHACORE_CLI", ROOT / "build" / "bin" / "alphacore"))
pytestmark = pytest.mark.skipif(not CLI.exists(), reason="the alphacore CLI is not built (make cli)")


def test_doctor_prom(tmp_path):
    out = tmp_path / "alphacore.prom"
    res = subprocess.run([str(CLI), "doctor", "--json", "--prom", str(out)], capture_output=True, timeout=60)
    assert res.returncode in (0, 1), res.stderr
    text = out.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["alphacore.prom"]   # no temporary left
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    checks = fams["alphacore_doctor_check"].samples
    assert checks and all(s.value == 1 and s.labels["severity"] in ("ok", "info", "unknown", "warn", "fail")
                          for s in checks)
    assert any(s.labels["id"] == "cpu.isolated" for s in checks)
    if shutil.which("promtool"):
        lint = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True)
        assert lint.returncode == 0 and lint.stdout == b"" and lint.stderr == b"", lint
    bad = subprocess.run([str(CLI), "doctor", "--prom", str(tmp_path / "missing" / "x.prom")], capture_output=True)
    assert bad.returncode == 2 and b"--prom" in bad.stderr


def test_loadtest_metrics():
    proc = subprocess.Popen([str(CLI), "loadtest", "--duration", "3", "--connections", "4", "--rate", "20000",
                             "--log", "", "--quiet", "--metrics", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/metrics", line)
        assert m, line
        seen = 0
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{m.group(1)}/metrics", timeout=2) as r:
                    fams = {f.name: f for f in text_string_to_metric_families(r.read().decode())}
                count = [s.value for s in fams["alphacore_loadtest_latency_seconds"].samples
                         if s.name.endswith("_count") and s.labels["kind"] == "raw"]
                if count and count[0] > seen:
                    seen = count[0]
            except OSError:
                pass
            time.sleep(0.3)
        assert seen > 0
    finally:
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
