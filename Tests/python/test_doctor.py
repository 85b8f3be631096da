"""The doctor through the `alphacore` command (subprocess) and through ctypes, over the fixture
trees in Tests/fixtures/doctor (ALPHACORE_SYSROOT) and on this machine.

Each fixture lists the misconfigurations injected into it; every one must be flagged (warn or
fail, or the exact severity given), and the tuned host must have no fail and no warn."""
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

import alphacore

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests" / "fixtures" / "doctor"
CLI = Path(os.environ.get("ALPHACORE_CLI", ROOT / "build" / "bin" / "alphacore"))

FLAGGED = ("warn", "fail")

# fixture -> (--cpus, --hugepages, {check id: expected severity or FLAGGED})
INJECTED = {
    "laptop": ("2-5", "2M:64", {
        "cpu.isolated": "warn", "cpu.nohz_full": "warn", "cpu.rcu_nocbs": "warn", "cpu.smt": "warn",
        "irq.affinity": "warn", "irq.managed": "warn", "irq.irqbalance": "warn",
        "cpu.governor": "warn", "cpu.epp": "warn", "cpu.cstates": "warn",
        "sched.rt_throttling": "warn", "sched.autogroup": "warn", "sched.timer_migration": "warn",
        "kernel.watchdog": "warn", "kernel.workqueue": "warn", "limits.memlock": "warn",
        "limits.rtprio": "warn", "mem.thp_defrag": "warn", "mem.swap": "warn",
        "mem.hugepages.2M:64": "fail"}),
    "container": ("2-3", None, {
        "cpu.hot": "fail", "cgroup.cpuset": "fail", "cgroup.cpu_quota": "fail",
        "proc.seccomp": "warn", "limits.memlock": "warn", "limits.rtprio": "warn"}),
    "seccomp-numa": ("2-3", "2M:64@1", {
        "proc.seccomp": "warn", "numa.syscalls": "warn", "mem.hugepages.2M:64@1": "fail"}),
    "cgroup-v1": ("2-5", None, {
        "cpu.hot": "fail", "cgroup.cpuset": "fail", "cgroup.cpu_quota": "fail", "cgroup.rt_budget": "warn"}),
    "cgroup-v2": ("0-3", None, {"cgroup.cpu_quota": "fail"}),
    "vm": ("2-3", None, {"virt.steal": "warn", "virt.hypervisor": "info", "cpu.governor": "info",
                         "clock.source": "info"}),
    "numa-sparse": ("2-5", "2M:128@2", {"numa.topology": "warn", "mem.hugepages.2M:128@2": "fail"}),
    "memoryless": ("0-1", None, {"numa.topology": "warn"}),
}


def run_cli(*args, root=None, check=False):
    env = dict(os.environ)
    env.pop("ALPHACORE_SYSROOT", None)
    if root is not None:
        env["ALPHACORE_SYSROOT"] = str(root)
    r = subprocess.run([str(CLI), *args], env=env, capture_output=True, text=True, timeout=60)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def doctor_json(root, *args):
    r = run_cli("doctor", "--json", *args, root=root)
    assert r.returncode in (0, 1), r.stderr
    report = json.loads(r.stdout)
    assert (r.returncode == 1) == (report["summary"]["fail"] > 0)
    return report


def by_id(report):
    return {c["id"]: c for c in report["checks"]}


@pytest.fixture(scope="module", autouse=True)
def cli_built():
    if not CLI.exists():
        pytest.fail(f"{CLI} is missing: `make cli` builds it (make test-python does)")


def test_tuned_host_has_no_fail_and_no_warn():
    report = doctor_json(FIXTURES / "tuned", "--cpus", "2-5", "--hugepages", "2M:512@0,1G:2")
    bad = [(c["id"], c["severity"], c["saw"]) for c in report["checks"] if c["severity"] in ("fail", "warn", "unknown")]
    assert bad == []
    checks = by_id(report)
    assert checks["cpu.isolated"]["severity"] == "ok"
    assert checks["cpu.nohz_full"]["severity"] == "ok"
    assert checks["cpu.governor"]["severity"] == "ok"
    assert checks["mem.hugepages.1G:2"]["severity"] == "ok"
    assert report["hot_cpus"] == "2-5" and report["hot_cpus_from"] == "--cpus"


def test_tuned_host_without_cpus_checks_the_isolated_ones():
    report = doctor_json(FIXTURES / "tuned")
    assert report["hot_cpus"] == "2-7"
    assert report["summary"]["fail"] == 0 and report["summary"]["warn"] == 0


@pytest.mark.parametrize("name", sorted(INJECTED))
def test_every_injected_misconfiguration_is_flagged(name):
    cpus, hugepages, expected = INJECTED[name]
    args = ["--cpus", cpus] + (["--hugepages", hugepages] if hugepages else [])
    checks = by_id(doctor_json(FIXTURES / name, *args))
    wrong = {}
    for cid, want in expected.items():
        got = checks.get(cid, {}).get("severity")
        if (want == FLAGGED and got not in FLAGGED) or (want != FLAGGED and got != want):
            wrong[cid] = (want, got, checks.get(cid, {}).get("saw"))
    assert wrong == {}


def test_the_same_checks_on_the_tuned_host_are_clean():
    """Every id the misconfigured fixtures flag is ok or info on the tuned host."""
    checks = by_id(doctor_json(FIXTURES / "tuned", "--cpus", "2-5", "--hugepages", "2M:64"))
    for name, (_, _, expected) in INJECTED.items():
        for cid in expected:
            if cid in checks:
                assert checks[cid]["severity"] in ("ok", "info"), (name, cid, checks[cid])


def test_container_details():
    checks = by_id(doctor_json(FIXTURES / "container", "--cpus", "2,4"))
    assert checks["cgroup.cpuset"]["severity"] == "ok"
    assert "2,4" in checks["cgroup.cpuset"]["saw"]
    q = checks["cgroup.cpu_quota"]
    assert q["severity"] == "fail" and "1.5 CPUs" in q["saw"] and "throttled 37" in q["saw"]
    assert q["source"] == "/sys/fs/cgroup/cpu.max"


def test_cgroup_v2_quota_and_cpuset_on_the_parent_are_found():
    checks = by_id(doctor_json(FIXTURES / "cgroup-v2", "--cpus", "4-7"))
    assert checks["cgroup.cpu_quota"]["source"] == "/sys/fs/cgroup/engine.slice/cpu.max"
    assert checks["cgroup.cpuset"]["severity"] == "fail"
    assert checks["cgroup.cpuset"]["source"] == "/sys/fs/cgroup/engine.slice/cpuset.cpus.effective"


def test_sparse_numa_and_missing_node():
    checks = by_id(doctor_json(FIXTURES / "numa-sparse", "--cpus", "0-1", "--hugepages", "2M:50@2,2M:1@1"))
    assert "sparse node ids" in checks["numa.topology"]["saw"]
    assert checks["numa.topology"]["severity"] == "info"   # hot CPUs on one node
    assert checks["mem.hugepages.2M:50@2"]["severity"] == "ok"
    assert checks["mem.hugepages.2M:1@1"]["severity"] == "fail"
    assert "does not exist" in checks["mem.hugepages.2M:1@1"]["saw"]


@pytest.mark.parametrize("name", ["garbage", "empty"])
def test_garbage_and_missing_files_give_unknown_with_a_reason(name):
    report = doctor_json(FIXTURES / name, "--cpus", "1-2", "--hugepages", "2M:4", "--nic", "eth0", "--nic", "eth1",
                         "--pid", "4242", "--burst-bytes", "1000000")
    checks = by_id(report)
    # The new checks and the NIC's (garbled sysfs and ethtool files) say unknown, never ok.
    for cid in ("kernel.numa_balancing", "net.busy_poll", "vm.stat_interval", "vm.dirty", "vm.swappiness",
                "net.rmem", "net.budget") + tuple(f"net.{k}.eth0" for k in ("irq", "coalesce", "ring", "gro", "lro")):
        assert checks[cid]["severity"] == "unknown", checks[cid]
    assert len(report["checks"]) >= 30
    unknown = [c for c in report["checks"] if c["severity"] == "unknown"]
    assert len(unknown) >= 15
    for c in unknown:
        assert c["saw"].startswith("cannot tell: ") and len(c["saw"]) > len("cannot tell: ") + 5
    # Nothing garbled is judged healthy from garbage.
    assert report["summary"]["fail"] == 0 or all(c["severity"] != "ok" for c in report["checks"] if c["id"] == "cpu.hot")
    # The table renders too.
    r = run_cli("doctor", "--cpus", "1-2", root=FIXTURES / name)
    assert r.returncode in (0, 1) and "checks:" in r.stdout


def test_unreadable_files_give_unknown(tmp_path):
    import shutil
    root = tmp_path / "host"
    shutil.copytree(FIXTURES / "tuned", root)
    (root / "proc" / "self" / "limits").chmod(0)
    (root / "sys" / "kernel" / "mm" / "transparent_hugepage" / "enabled").unlink()
    (root / "sys" / "kernel" / "mm" / "transparent_hugepage" / "enabled").mkdir()   # a directory
    for fifo in ("proc/sys/vm/swappiness", "ethtool/eth0/ring", "proc/net/route"):   # would block open(2)
        (root / fifo).unlink()
        os.mkfifo(root / fifo)
    checks = by_id(doctor_json(root, "--cpus", "2-5", "--nic", "eth0"))
    assert checks["vm.swappiness"]["severity"] == "unknown" and "FIFO" in checks["vm.swappiness"]["saw"]
    assert checks["net.ring.eth0"]["severity"] == "unknown"
    if os.geteuid() != 0:   # root reads mode-0 files anyway
        assert checks["limits.memlock"]["severity"] == "unknown"
    assert checks["mem.thp"]["severity"] == "unknown"
    assert "cannot tell" in checks["mem.thp"]["saw"]


def test_two_nic_audit_stays_under_20_ms_of_cpu():
    """Issue 19's time goal, as CPU time of the audit (cpu_us: the run's length unpreempted), over
    the fixture with two NICs, a pid and every check; best of three against scheduler noise."""
    best = min(doctor_json(FIXTURES / "feed-untuned", "--cpus", "2-5", "--pid", "4242", "--nic", "eth0",
                           "--nic", "eth1")["cpu_us"] for _ in range(3))
    assert 0 < best < 20_000


def test_exit_codes_and_bad_arguments():
    assert run_cli("doctor", "--cpus", "2-5", root=FIXTURES / "tuned").returncode == 0
    assert run_cli("doctor", "--cpus", "2-3", root=FIXTURES / "container").returncode == 1
    for bad in (["--cpus", "3-1"], ["--cpus", "a"], ["--cpus", ""], ["--hugepages", "2M"],
                ["--hugepages", "2X:4"], ["--hugepages", "2M:0"], ["--hugepages", "2M:4@x"]):
        r = run_cli("doctor", *bad, root=FIXTURES / "tuned")
        assert r.returncode == 2, (bad, r.stdout, r.stderr)
        assert "alphacore doctor" in r.stderr and r.stdout == ""


def test_table_has_no_colour_when_not_a_terminal():
    r = run_cli("doctor", "--cpus", "2-5", root=FIXTURES / "laptop")
    assert "\x1b[" not in r.stdout
    assert "WARN    cpu.isolated" in r.stdout
    assert "-> boot with isolcpus=" in r.stdout


def test_table_has_colour_on_a_terminal():
    import pty
    import select
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["ALPHACORE_SYSROOT"] = str(FIXTURES / "laptop")
        os.environ.pop("NO_COLOR", None)
        os.environ["TERM"] = "xterm"
        os.execv(str(CLI), [str(CLI), "doctor", "--cpus", "2-5"])
    out = b""
    deadline = time.time() + 30
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 1)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    os.waitpid(pid, 0)
    assert b"\x1b[33mWARN" in out


def test_live_doctor_is_fast_and_well_formed():
    # The 20 ms budget is a benchmark figure (BENCHMARKS.md), not a test: timings on a shared
    # machine are noise. Here only a hang guard: a run without probes ends well within 1 s.
    report = doctor_json(None)
    assert report["elapsed_us"] < 1_000_000
    assert report["root"] == ""
    for c in report["checks"]:
        assert set(c) >= {"id", "severity", "saw", "expected", "source", "advice"}
        assert c["severity"] in ("ok", "info", "unknown", "warn", "fail")
    ids = [c["id"] for c in report["checks"]]
    assert len(ids) == len(set(ids))


def test_live_probe_is_time_boxed():
    t0 = time.monotonic()
    report = doctor_json(None, "--probe", "--probe-ms", "100")
    assert time.monotonic() - t0 < 10
    assert report["probed"] is True
    checks = by_id(report)
    jitter = [c for c in report["checks"] if c["id"].startswith("probe.jitter.cpu")]
    assert jitter, report["checks"][-3:]
    for c in jitter:
        assert c["severity"] in ("ok", "warn", "unknown")
        if c["severity"] != "unknown":
            d = c["data"]
            assert d["duration_ms"] == 100 and d["p50_ns"] <= d["p99_ns"] <= d["max_ns"]
    if len(os.sched_getaffinity(0)) >= 2:
        assert any(cid.startswith("probe.c2c.") for cid in checks)


def test_python_api_over_a_fixture(monkeypatch):
    monkeypatch.setenv("ALPHACORE_SYSROOT", str(FIXTURES / "laptop"))
    report = alphacore.doctor(cpus="2-5", hugepages="2M:64")
    assert report["schema"] == "alphacore-doctor/1"
    assert by_id(report)["cpu.governor"]["severity"] == "warn"
    text = alphacore.doctor_text(cpus="2-5")
    assert "WARN    cpu.governor" in text and "\x1b[" not in text
    assert "\x1b[" in alphacore.doctor_text(cpus="2-5", colour=True)


def test_python_api_bad_arguments():
    with pytest.raises(OSError) as e:
        alphacore.doctor(cpus="5-2")
    assert e.value.errno == 22 and "5-2" in str(e.value)
    with pytest.raises(OSError):
        alphacore.doctor(hugepages="lots")


def test_topology_command_over_fixtures_and_live():
    r = run_cli("topology", "--json", root=FIXTURES / "numa-sparse", check=True)
    t = json.loads(r.stdout)
    assert [n["id"] for n in t["nodes"]] == [0, 2]
    assert t["nodes"][1]["cpus"] == "4-7"
    assert [c["node"] for c in t["cpus"]] == [0, 0, 0, 0, 2, 2, 2, 2]
    r = run_cli("topology", "--json", root=FIXTURES / "laptop", check=True)
    t = json.loads(r.stdout)
    assert t["cpus"][2]["siblings"] == "2,6"
    r = run_cli("topology", "--json", root=FIXTURES / "container", check=True)
    t = json.loads(r.stdout)
    assert t["allowed"] == "2,4" and t["cgroup_cpuset"]["cpus"] == "2,4"
    r = run_cli("topology", root=FIXTURES / "tuned", check=True)
    assert "isolated   2-7" in r.stdout and "nohz_full  2-7" in r.stdout
    live = json.loads(run_cli("topology", "--json", check=True).stdout)
    assert live["allowed"] and live["cpus"]
    r = run_cli("topology", root=FIXTURES / "empty")
    assert r.returncode == 1 and "cannot read the topology" in r.stderr
