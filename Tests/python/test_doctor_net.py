"""The doctor's issue-19 checks (tuned's latency settings, the feed's NICs) through the `alphacore`
command over the fixture trees, and the SIOCETHTOOL path on this machine's interfaces, checked
against the `ethtool` command where it is installed."""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from test_doctor import CLI, FIXTURES, by_id, doctor_json, run_cli

FEED = FIXTURES / "feed-untuned"
FEED_ARGS = ("--cpus", "2-5", "--pid", "4242", "--burst-bytes", "8000000")

# Every new check fires on the untuned feed host (warn), and is ok on the tuned host.
NEW_CHECKS = ["kernel.numa_balancing", "net.busy_poll", "kernel.skew_tick", "vm.stat_interval", "vm.dirty",
              "vm.swappiness", "kernel.softlockup", "systemd.cpu_affinity", "cpu.min_perf", "mce.ignore_ce",
              "net.rmem", "net.budget"]
NIC_CHECKS = ["irq", "rps", "xps", "coalesce", "ring", "gro", "lro"]


def test_every_new_check_fires_on_the_untuned_feed_host():
    checks = by_id(doctor_json(FEED, *FEED_ARGS))
    wrong = {c: checks.get(c, {}).get("severity") for c in NEW_CHECKS if checks.get(c, {}).get("severity") != "warn"}
    assert wrong == {}
    for nic in ("eth0", "eth1"):
        for k in NIC_CHECKS:
            c = checks[f"net.{k}.{nic}"]
            want = "ok" if (nic, k) == ("eth1", "lro") else "warn"
            assert c["severity"] == want, c
            assert c["advice"] or want == "ok"
    for c in checks.values():
        assert set(c) >= {"id", "severity", "saw", "expected", "source", "advice"}
    assert "eth1 (tcp socket of pid 4242)" in checks["net.nics"]["saw"]


def test_the_tuned_host_passes_every_new_check():
    checks = by_id(doctor_json(FIXTURES / "tuned", "--cpus", "2-5", "--burst-bytes", "8000000"))
    for cid in NEW_CHECKS + [f"net.{k}.eth0" for k in NIC_CHECKS]:
        assert checks[cid]["severity"] == "ok", checks[cid]


def test_wildcard_udp_sockets_find_the_nic_of_their_multicast_group():
    checks = by_id(doctor_json(FEED, "--cpus", "2-5", "--pid", "4242"))
    assert checks["net.nics"]["saw"].startswith("eth0 (default route), eth1")
    tree = FEED / "proc" / "4242" / "net" / "tcp"
    assert tree.exists()


def test_engine_chosen_nic_cpus_are_honoured():
    checks = by_id(doctor_json(FEED, "--cpus", "2-5", "--nic", "eth0", "--nic-cpus", "0,2-3"))
    assert checks["net.irq.eth0"]["severity"] == "ok"
    assert checks["net.rps.eth0"]["severity"] == "ok"
    checks = by_id(doctor_json(FEED, "--cpus", "2-5", "--nic", "eth0", "--nic-cpus", "0"))
    assert checks["net.irq.eth0"]["severity"] == "warn"


def test_reader_profile_changes_the_verdicts():
    spin = by_id(doctor_json(FEED, "--cpus", "2-5", "--profile", "spin"))
    assert spin["net.busy_poll"]["severity"] == "info"
    assert spin["net.coalesce.eth0"]["severity"] == "warn"
    thr = by_id(doctor_json(FEED, "--cpus", "2-5", "--profile", "throughput"))
    assert thr["net.coalesce.eth0"]["severity"] == "info" and thr["net.gro.eth0"]["severity"] == "info"
    assert thr["net.lro.eth0"]["severity"] == "warn"
    tuned = by_id(doctor_json(FIXTURES / "tuned", "--cpus", "2-5", "--profile", "blocking"))
    assert tuned["net.busy_poll"]["severity"] == "info" and "every wait spins" in tuned["net.busy_poll"]["saw"]


def test_loopback_virtual_and_missing_nics_say_why():
    checks = by_id(doctor_json(FEED, "--cpus", "2-5", "--nic", "lo", "--nic", "br0", "--nic", "nope0"))
    for k in NIC_CHECKS:
        assert checks[f"net.{k}.lo"]["severity"] == "info" and "loopback" in checks[f"net.{k}.lo"]["saw"]
        assert checks[f"net.{k}.br0"]["severity"] == "info" and "virtual" in checks[f"net.{k}.br0"]["saw"]
        assert "eth1" in checks[f"net.{k}.br0"]["saw"]
        assert checks[f"net.{k}.nope0"]["severity"] == "unknown"


def test_bad_network_arguments_exit_2():
    for bad in (["--profile", "fast"], ["--nic", ""], ["--nic", "a/b"], ["--nic", "x" * 16], ["--pid", "0"],
                ["--burst-bytes", "0"], ["--burst-bytes=-5"], ["--nic-cpus", "q"], ["--tuned", "../etc"],
                ["--tuned", "no-such-profile"]):
        r = run_cli("doctor", *bad, root=FIXTURES / "tuned")
        assert r.returncode == 2, (bad, r.stdout, r.stderr)
        assert "alphacore doctor" in r.stderr and r.stdout == ""
    r = run_cli("doctor", "--tuned", "no-such-profile", root=FIXTURES / "tuned")
    assert "no tuned profile 'no-such-profile'" in r.stderr


def ethtool_value(args, nic, pattern, section=None):
    r = subprocess.run(["ethtool", *args, nic], capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        return None
    text = r.stdout if section is None else r.stdout.split(section, 1)[-1]
    m = re.search(pattern, text, re.M)
    return m.group(1) if m else None


def live_nics():
    return [n for n in sorted(os.listdir("/sys/class/net")) if len(n) <= 15]


def test_live_nic_checks_match_the_ethtool_command():
    """The SIOCETHTOOL answers on this machine's interfaces, cross-checked with `ethtool`."""
    nics = live_nics()
    args = ["--cpus", "0"]
    for n in nics:
        args += ["--nic", n]
    checks = by_id(doctor_json(None, *args))
    have_ethtool = shutil.which("ethtool") is not None
    compared = 0
    for n in nics:
        ring = checks[f"net.ring.{n}"]
        if ring["severity"] in ("ok", "warn") and have_ethtool:
            cur = ethtool_value(["-g"], n, r"^RX:\s+(\d+)", "Current hardware settings")
            mx = ethtool_value(["-g"], n, r"^RX:\s+(\d+)", "Pre-set maximums")
            if cur and mx:
                assert ring["saw"].startswith(f"rx ring {cur} of {mx}"), (n, ring)
                compared += 1
        gro = checks[f"net.gro.{n}"]
        if gro["severity"] in ("ok", "warn") and have_ethtool:
            v = ethtool_value(["-k"], n, r"^generic-receive-offload: (on|off)")
            if v:
                assert gro["saw"] == f"GRO {v}", (n, gro)
                compared += 1
        co = checks[f"net.coalesce.{n}"]
        if co["severity"] in ("ok", "warn") and have_ethtool:
            v = ethtool_value(["-c"], n, r"^rx-usecs:\s+(\d+)")
            if v:
                assert co["saw"].startswith(f"rx-usecs {v},"), (n, co)
                compared += 1
        for k in NIC_CHECKS:
            assert checks[f"net.{k}.{n}"]["severity"] in ("ok", "info", "warn", "unknown")
    if "lo" in nics:
        assert checks["net.ring.lo"]["severity"] == "info"
    if not have_ethtool:
        pytest.skip("ethtool is not installed: the answers were checked for shape only")
    if compared == 0:
        pytest.skip("no interface here answers ETHTOOL_GRINGPARAM/GGRO/GCOALESCE: nothing to cross-check")


def test_live_default_route_nics_are_checked():
    routes = Path("/proc/net/route").read_text().splitlines()[1:]
    defaults = [l.split()[0] for l in routes if l.split()[1] == "00000000" and l.split()[7] == "00000000"]
    checks = by_id(doctor_json(None))
    for n in defaults:
        assert f"net.irq.{n}" in checks and n in checks["net.nics"]["saw"]


def test_live_pid_sockets_name_their_nic():
    """A UDP socket of this process connected to an address on the default route's NIC."""
    import socket
    routes = Path("/proc/net/route").read_text().splitlines()[1:]
    defaults = [l.split() for l in routes if l.split()[1] == "00000000" and l.split()[7] == "00000000"]
    if not defaults:
        pytest.skip("no IPv4 default route on this machine")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 9))   # TEST-NET-1: routed by the default route, never sent to
        checks = by_id(doctor_json(None, "--pid", str(os.getpid())))
        assert f"{defaults[0][0]} (default route)" in checks["net.nics"]["saw"]
    finally:
        s.close()


def test_python_api_takes_the_network_options(monkeypatch):
    import alphacore
    monkeypatch.setenv("ALPHACORE_SYSROOT", str(FEED))
    r = by_id(alphacore.doctor(cpus="2-5", nics=["eth0", "br0"], burst_bytes=8_000_000, profile="spin"))
    assert r["net.ring.eth0"]["severity"] == "warn" and r["net.ring.br0"]["severity"] == "info"
    assert r["net.busy_poll"]["severity"] == "info" and r["net.rmem"]["severity"] == "warn"
    r = by_id(alphacore.doctor(cpus="2-5", pid=4242, nic_cpus="0-4"))
    assert r["net.irq.eth1"]["severity"] == "ok"
    with pytest.raises(OSError) as e:
        alphacore.doctor(nics=["a/b"])
    assert e.value.errno == 22
    with pytest.raises(ValueError):
        alphacore.doctor(profile="fast")
    assert "net.ring.eth1" in alphacore.doctor_text(cpus="2-5", nics=["eth1"], profile="throughput")
