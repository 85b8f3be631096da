"""alphacore.cpu through ctypes: topology, pinning (and the context manager), NUMA, bad input."""
import errno
import mmap
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import alphacore
from alphacore import cpu

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests" / "fixtures"


def test_sets_match_the_os():
    assert cpu.allowed() == sorted(os.sched_getaffinity(0))
    assert set(cpu.allowed()) <= set(cpu.online()) <= set(cpu.possible())
    assert cpu.possible() == cpu.parse_cpulist(Path("/sys/devices/system/cpu/possible").read_text().strip())
    assert "online" in cpu.allowed_source()
    assert 0 in cpu.nodes()
    assert cpu.cpu_mask(cpu.ALLOWED)[0] == sum(1 << c for c in cpu.allowed() if c < 64)


def test_cpulist_round_trip_and_strictness():
    assert cpu.parse_cpulist("0-3,8,10-11") == [0, 1, 2, 3, 8, 10, 11]
    assert cpu.format_cpulist([11, 10, 8, 3, 2, 1, 0]) == "0-3,8,10-11"
    assert cpu.format_cpulist([]) == ""
    for bad in ["", "3-1", "1,,2", "a", "1,", " 1"]:
        with pytest.raises(OSError) as e:
            cpu.parse_cpulist(bad)
        assert e.value.errno == errno.EINVAL
    with pytest.raises(OSError) as e:
        cpu.parse_cpulist("99999999999")
    assert e.value.errno == errno.ERANGE
    assert "99999999999" in e.value.detail


def test_node_and_info():
    for c in cpu.online():
        node = cpu.node_of_cpu(c)
        assert os.path.exists(f"/sys/devices/system/node/node{node}/cpu{c}")
        info = cpu.cpu_info(c)
        assert info["cpu"] == c and info["online"] == 1 and info["node"] == node
        assert c in cpu.siblings(c)
    with pytest.raises(OSError) as e:
        cpu.node_of_cpu(-1)
    assert e.value.errno == errno.EINVAL
    total, free = cpu.node_memory(0)
    assert 0 < free <= total
    assert cpu.node_distance(0, 0) == 10


def _in_thread(fn):
    out = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            out["error"] = exc
    t = threading.Thread(target=run)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out.get("value")


def test_pinned_context_manager_restores():
    def body():
        before = cpu.thread_affinity()
        target = cpu.allowed()[-1]
        with cpu.pinned(target):
            assert cpu.thread_affinity() == [target]
            assert cpu.current_cpu() == target
            assert cpu.pin_verify()
        assert cpu.thread_affinity() == before
        # Restored even when the block raises, and the pin record with it.
        with pytest.raises(RuntimeError):
            with cpu.pinned([target]):
                raise RuntimeError("boom")
        assert cpu.thread_affinity() == before
        with pytest.raises(OSError) as e:
            cpu.pin_verify()
        assert e.value.errno == errno.ENOENT
    _in_thread(body)


def test_bad_pins_leave_affinity_alone():
    def body():
        before = cpu.thread_affinity()
        for bad in [-1, 4096, 2**31 - 1]:
            with pytest.raises(OSError) as e:
                cpu.pin_thread(bad)
            assert e.value.errno == errno.EINVAL
            assert cpu.thread_affinity() == before
        for bad in ["", "3-1", "1,,2", "a", "0-4095"]:
            with pytest.raises(OSError):
                cpu.pin_thread_list(bad)
            assert cpu.thread_affinity() == before
        with pytest.raises(OSError) as e:
            with cpu.pinned(4095):
                pass
        assert e.value.errno == errno.EINVAL
        assert cpu.thread_affinity() == before
    _in_thread(body)


def test_pin_other_thread_by_ident():
    gate = threading.Event()
    seen = {}

    def worker():
        gate.wait()
        seen["mask"] = sorted(os.sched_getaffinity(0))

    t = threading.Thread(target=worker)
    t.start()
    target = cpu.allowed()[0]
    cpu.pin_pthread(t.ident, [target])
    gate.set()
    t.join()
    assert seen["mask"] == [target]


def test_numa_page_placement():
    status = cpu.numa_status()
    if status in (cpu.NUMA_UNAVAILABLE, cpu.NUMA_DENIED):
        want = errno.ENOSYS if status == cpu.NUMA_UNAVAILABLE else errno.EPERM
        with pytest.raises(OSError) as e:
            cpu.mem_policy_set(cpu.MPOL_LOCAL)
        assert e.value.errno == want
        pytest.skip(f"this host refuses the NUMA system calls ({errno.errorcode[want]})")
    assert status in (cpu.NUMA_SINGLE_NODE, cpu.NUMA_AVAILABLE)
    page = mmap.PAGESIZE
    m = mmap.mmap(-1, 2 * page)
    import ctypes
    addr = ctypes.addressof(ctypes.c_char.from_buffer(m))
    with pytest.raises(OSError) as e:
        cpu.mem_node_of(addr)
    assert e.value.errno == errno.ENOENT
    cpu.mem_bind(addr + page, page, cpu.MPOL_BIND, [0], strict=True)
    m[0] = 1
    m[page] = 1
    assert cpu.mem_node_of(addr) == 0
    assert cpu.mem_node_of(addr + page) == 0
    with pytest.raises(OSError) as e:
        cpu.mem_bind(addr, page, cpu.MPOL_BIND, "999")
    assert e.value.errno == errno.EINVAL


def test_fixture_tree_in_a_subprocess():
    code = ("from alphacore import cpu; print(cpu.allowed(), cpu.isolated(), cpu.nodes(), "
            "[cpu.node_of_cpu(c) for c in range(7)], cpu.node_memory(3), cpu.node_distance(0, 2))")
    env = dict(os.environ, ALPHACORE_SYSROOT=str(FIXTURES / "numa"), PYTHONPATH=str(ROOT / "python"))
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[0, 1, 2, 3, 4] [4] [0, 2, 3] [0, 0, 2, 2, 0, 2, 3] (0, 0) 21"
    assert r.stderr == ""


def test_roles_and_thread_names():
    def body():
        last = cpu.allowed()[-1]
        with cpu.pinned(cpu.allowed()):
            cpu.roles_set(f"collector={last}")
            assert cpu.role_cpus("collector") == [last]
            assert cpu.pin_role("collector") == last
            assert cpu.current_cpu() == last and cpu.pin_verify()
            with pytest.raises(OSError) as e:
                cpu.pin_role("nope")
            assert e.value.errno == errno.ENOENT and "unknown role" in e.value.detail
            with pytest.raises(OSError) as e:
                cpu.roles_set("a=0;b=0")
            assert e.value.errno == errno.EINVAL and "overlap" in e.value.detail
            assert cpu.role_cpus("collector") == [last]   # the failed set kept the old spec
        cpu.thread_name_set("md-collector")
        assert cpu.thread_name_get() == "md-collector"
        with pytest.raises(OSError) as e:
            cpu.thread_name_set("x" * 16)
        assert e.value.errno == errno.ERANGE
    _in_thread(body)


def test_roles_from_environment_in_a_subprocess():
    code = ("from alphacore import cpu; c = cpu.pin_role('collector'); "
            "print(c, cpu.current_cpu(), cpu.role_cpus('collector'))")
    last = cpu.allowed()[-1]
    env = dict(os.environ, ALPHACORE_CPUS=f"collector={last}", PYTHONPATH=str(ROOT / "python"))
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [str(last), str(last), f"[{last}]"]
    env["ALPHACORE_CPUS"] = "collector=4095"
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode != 0 and "ALPHACORE_CPUS" in r.stderr and "past the possible CPUs" in r.stderr


def test_priority_round_trip_as_root():
    if os.geteuid() != 0:
        pytest.skip("needs CAP_SYS_NICE (root)")

    def body():
        cpu.set_nice(2)
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == 2
        cpu.set_nice(0)
        with pytest.raises(OSError) as e:
            cpu.set_realtime(cpu.SCHED_FIFO, 100)
        assert e.value.errno == errno.EINVAL
        cpu.set_realtime(cpu.SCHED_FIFO, 1)
        assert os.sched_getscheduler(0) == os.SCHED_FIFO
        cpu.set_realtime(cpu.SCHED_OTHER, 0)
        assert os.sched_getscheduler(0) == os.SCHED_OTHER
    _in_thread(body)


def test_pin_collector_example_builds_and_runs(tmp_path):
    """examples/c/pin_collector.c stays compiling and reports where the collector runs."""
    lib = Path(alphacore.library_path).resolve()
    exe = tmp_path / "pin_collector"
    r = subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-O2",
                        "-I", str(ROOT / "include"), str(ROOT / "examples" / "c" / "pin_collector.c"),
                        "-o", str(exe), str(lib), "-lpthread"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    env = dict(os.environ, LD_LIBRARY_PATH=str(lib.parent))
    env.pop("ALPHACORE_CPUS", None)
    last = cpu.allowed()[-1]
    r = subprocess.run([str(exe)], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"collector pinned to {last}, running on cpu {last}" in r.stdout
    assert "still pinned" in r.stdout
    env["ALPHACORE_CPUS"] = f"collector={last}"
    r = subprocess.run([str(exe)], env=env, capture_output=True, text=True)
    assert r.returncode == 0 and f"running on cpu {last}" in r.stdout
    r = subprocess.run([str(exe), "4095"], env={k: v for k, v in env.items() if k != "ALPHACORE_CPUS"},
                       capture_output=True, text=True)
    assert r.returncode == 1 and "past the possible CPUs" in r.stderr
