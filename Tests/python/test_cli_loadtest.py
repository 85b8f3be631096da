"""`alphacore loadtest`: short bounded runs on loopback, both backends, TCP and UDP; the
interval log it writes is read back by `alphacore hist` and by hdrh's log reader."""
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = Path(os.environ.get("ALPHACORE_CLI", ROOT / "build" / "bin" / "alphacore"))


def loadtest(tmp_path, *args, timeout=60):
    log = tmp_path / "lt.hlog"
    r = subprocess.run([str(CLI), "loadtest", "--log", str(log), *args], capture_output=True, text=True,
                       timeout=timeout, cwd=tmp_path)
    return r, log


def summary(out):
    m = re.search(r"summary: sent ([\d,]+), received ([\d,]+), lost (\d+), corrupt (\d+), errors (\d+)", out)
    assert m, out
    return [int(g.replace(",", "")) for g in m.groups()]


@pytest.mark.parametrize("backend", ["io_uring", "epoll"])
def test_tcp_feed_arrives_whole_on_each_backend(tmp_path, backend):
    r, log = loadtest(tmp_path, "--connections", "8", "--rate", "40000", "--duration", "1.5", "--backend", backend)
    assert r.returncode == 0, r.stdout + r.stderr
    sent, received, lost, corrupt, errors = summary(r.stdout)
    assert sent == received and sent > 40000 * 1.5 * 0.5
    assert lost == corrupt == errors == 0
    assert f"reader on {backend}" in r.stdout
    assert re.search(r"^\[1 s\] [\d,]+ msg/s  p50 ", r.stdout, re.M)
    assert "Percentile TotalCount" in r.stdout
    # The interval log: ours and hdrh's readers agree on the count.
    h = subprocess.run([str(CLI), "hist", str(log), "--tag", "corrected"], capture_output=True, text=True)
    assert h.returncode == 0, h.stderr
    total = int(re.search(r"Total count    =\s+(\d+)", h.stdout).group(1))
    assert total == received
    hdrh_log = pytest.importorskip("hdrh.log")
    hdrh_hist = pytest.importorskip("hdrh.histogram")
    acc = hdrh_hist.HdrHistogram(1, 3_600_000_000_000, 3)
    reader = hdrh_log.HistogramLogReader(str(log), acc)
    n = 0
    while True:
        ih = reader.get_next_interval_histogram()
        if ih is None:
            break
        n += ih.get_total_count()
    assert n == 2 * received          # the corrected and the raw intervals


@pytest.mark.parametrize("backend", ["io_uring", "epoll"])
def test_udp_and_tcp_together(tmp_path, backend):
    r, _ = loadtest(tmp_path, "--connections", "4", "--udp", "4", "--rate", "20000", "--duration", "1",
                    "--backend", backend)
    assert r.returncode == 0, r.stdout + r.stderr
    sent, received, lost, corrupt, errors = summary(r.stdout)
    assert corrupt == errors == 0 and received + lost == sent and received > 0


def test_bounds_are_enforced(tmp_path):
    for bad in (["--duration", "0"], ["--duration", "4000"], ["--connections", "5000"], ["--size", "16"],
                ["--rate", "0"], ["--backend", "kqueue"], ["--connections", "0"], ["--profile", "fast"],
                ["--profile", ""], ["--profile", "LATENCY"], ["--profile"], ["--spin-us", "50"],
                ["--profile", "spin", "--spin-us", "0"], ["--profile", "spin", "--spin-us", "1000001"],
                ["--profile", "latency", "--spin-us", "10"]):
        r, _ = loadtest(tmp_path, *bad)
        assert r.returncode != 0 and r.returncode != 1, (bad, r.returncode)   # usage error
        assert "Error" in r.stderr or "error" in r.stderr


@pytest.mark.parametrize("backend", ["io_uring", "epoll"])
@pytest.mark.parametrize("profile", ["latency", "throughput", "spin"])
def test_every_profile_delivers_every_byte(tmp_path, backend, profile):
    """The byte-checked feed (connection, check word and sequence of every message) in each
    profile on each backend: nothing lost, reordered or corrupted; the header names both."""
    r, _ = loadtest(tmp_path, "--connections", "8", "--rate", "40000", "--duration", "0.6",
                    "--backend", backend, "--profile", profile, "--quiet")
    assert r.returncode == 0, r.stdout + r.stderr
    sent, received, lost, corrupt, errors = summary(r.stdout)
    assert sent == received and sent > 40000 * 0.6 * 0.5
    assert lost == corrupt == errors == 0
    header = r.stdout.splitlines()[0]
    sep = ", spin budget 100 us; " if profile == "spin" else "; "    # the library's default budget
    assert header.startswith(f"loadtest: profile {profile}, backend {backend}{sep}"), header
    assert f"reader: {backend}, profile {profile}, " in r.stdout


def test_profile_defaults_to_latency(tmp_path):
    r, _ = loadtest(tmp_path, "--connections", "2", "--rate", "5000", "--duration", "0.3", "--quiet")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("loadtest: profile latency, backend "), r.stdout
    assert "reader: " in r.stdout and ", profile latency, " in r.stdout


def test_invalid_profile_is_a_usage_error_naming_the_choices(tmp_path):
    r, _ = loadtest(tmp_path, "--profile", "fastest", "--duration", "0.2")
    assert r.returncode == 64, (r.returncode, r.stderr)
    assert "latency" in r.stderr and "throughput" in r.stderr and "spin" in r.stderr


def test_spin_budget_is_the_one_asked_for(tmp_path):
    r, _ = loadtest(tmp_path, "--connections", "4", "--rate", "20000", "--duration", "0.4", "--quiet",
                    "--profile", "spin", "--spin-us", "37")
    assert r.returncode == 0, r.stdout + r.stderr
    assert ", spin budget 37 us; " in r.stdout.splitlines()[0], r.stdout
    sent, received, lost, corrupt, errors = summary(r.stdout)
    assert sent == received and lost == corrupt == errors == 0
