"""The Python end-to-end demo runs on this machine (whatever it lacks: huge pages, io_uring,
CAP_SYS_NICE) and reports every stage; the feed arrives whole."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_python_demo_runs_end_to_end():
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "python" / "demo.py")], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    for stage in ("[1] CPU placement", "[2] Memory", "[3] Batched reads", "[4] Latency", "[5] Host readiness"):
        assert stage in r.stdout
    assert "100000 messages in" in r.stdout and "0 out of order" in r.stdout
    assert "Total count    =       100000" in r.stdout
    assert " checks: " in r.stdout
