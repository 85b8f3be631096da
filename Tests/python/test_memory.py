import ctypes
import errno
import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

import alphacore
from alphacore import memory

ROOT = Path(__file__).resolve().parents[2]
POOL_2M = Path("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")


@pytest.fixture
def pool_2m():
    """Sets the 2 MiB pool for one test and restores it afterwards, whatever happens. Holds the
    lock that test runs on this machine share (Tests/c/mem_sysctl.h) while it does."""
    lock = open("/tmp/alphacore-hugepages.lock", "a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    saved = POOL_2M.read_text().strip()

    def set_pages(n):
        POOL_2M.write_text(f"{n}\n")
        return int(POOL_2M.read_text())

    try:
        yield set_pages
    finally:
        POOL_2M.write_text(saved + "\n")
        lock.close()


def test_region_memoryview_and_numpy_are_zero_copy(pool_2m):
    np = pytest.importorskip("numpy")
    if pool_2m(4) < 4:
        pytest.skip("the kernel could not reserve four 2 MiB pages")
    with alphacore.Region(4 << 20, prefault=True) as r:
        assert r.backing == "huge_2m"
        assert r.page_size == 2 << 20 and r.size == 4 << 20 and r.node == 0
        assert r.refused == {"huge_1g": errno.ERANGE}
        mv = r.memoryview
        assert not mv.readonly and len(mv) == r.size
        a = r.array(np.uint64)
        assert a.size == r.size // 8
        assert a.ctypes.data == r.address          # no copy: the same memory
        a[:] = 0x0101010101010101
        assert mv[12345] == 1
        mv[0] = 9
        assert a[0] & 0xFF == 9
        assert ctypes.c_uint8.from_address(r.address + 8).value == 1
        assert "2 MiB hugetlb" in r.report()
    assert r._closed
    with pytest.raises(ValueError):
        r.memoryview
    r.close()  # idempotent
    del a, mv


def test_empty_pool_falls_back_with_reasons(pool_2m):
    pool_2m(0)
    with alphacore.Region(4 << 20, prefault=True) as r:
        assert r.backing in ("thp", "base")
        assert r.refused["huge_2m"] == errno.ENOMEM
        if r.backing == "thp":
            assert r.huge_bytes > 0
    with pytest.raises(OSError) as exc:
        alphacore.Region(4 << 20, require_huge=True)
    assert exc.value.errno == errno.ENOMEM
    assert "REQUIRE_HUGE" in exc.value.detail


def test_errors_are_oserrors():
    with pytest.raises(OSError) as exc:
        alphacore.Region(0)
    assert exc.value.errno == errno.EINVAL
    with pytest.raises(OSError) as exc:
        alphacore.Region(4096, node=99)
    assert exc.value.errno == errno.EINVAL and "does not exist" in exc.value.detail
    with pytest.raises(OSError) as exc:
        alphacore.Region(2**64 - 1)
    assert exc.value.errno == errno.EOVERFLOW


def test_plan_maps_nothing():
    p = alphacore.Region.plan(4096)
    assert p["backing"] == "base"
    assert p["refused"] == {"huge_1g": errno.ERANGE, "huge_2m": errno.ERANGE, "thp": errno.ERANGE}
    assert p["report"].startswith("plan: ")


def test_pools_match_sysfs(pool_2m):
    got = pool_2m(3)
    pools = alphacore.hugepage_pools()
    g = [p for p in pools if p["page_size"] == 2 << 20 and p["node"] == -1][0]
    assert g["total"] == got
    assert g["usable"] == got  # nothing reserved, no overcommit
    assert pools[0]["page_size"] == 1 << 30


def test_pools_from_fixture_root(tmp_path):
    """ALPHACORE_SYSROOT redirects the pool reading (a fresh process sees the variable)."""
    d = tmp_path / "sys/kernel/mm/hugepages/hugepages-2048kB"
    d.mkdir(parents=True)
    for name, v in [("nr_hugepages", 10), ("free_hugepages", 7), ("resv_hugepages", 3),
                    ("surplus_hugepages", 1), ("nr_overcommit_hugepages", 4)]:
        (d / name).write_text(f"{v}\n")
    code = ("import alphacore; p = alphacore.hugepage_pools(); "
            "print(len(p), p[0]['usable'], p[0]['reserved'])")
    env = dict(os.environ, ALPHACORE_SYSROOT=str(tmp_path), PYTHONPATH=str(ROOT / "python"))
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert r.stdout.split() == ["1", "7", "3"]   # 7 - 3 + (4 - 1)


def test_shared_region_between_processes():
    """A second Python process opens the region by name and sees (and changes) the same bytes."""
    np = pytest.importorskip("numpy")
    name = f"pytest-shared-{os.getpid()}-{os.urandom(4).hex()}"   # pid + random
    with alphacore.Region.create_shared(name, 1 << 20, prefault=True) as r:
        try:
            assert r.flags & memory.REGION_SHARED
            assert os.stat(f"/dev/shm/alphacore.{name}").st_mode & 0o777 == 0o600
            r.array(np.uint32)[:] = np.arange(r.size // 4, dtype=np.uint32)
            code = (f"import alphacore, numpy as np\n"
                    f"with alphacore.Region.open_shared('{name}') as r:\n"
                    f"    a = r.array(np.uint32)\n"
                    f"    assert (a == np.arange(a.size, dtype=np.uint32)).all()\n"
                    f"    a[-1] = 424242\n"
                    f"    print(r.backing, r.size)\n")
            env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
            assert out.returncode == 0, out.stderr
            assert out.stdout.split() == [r.backing, str(r.size)]
            assert r.array(np.uint32)[-1] == 424242
            with pytest.raises(OSError) as exc:
                alphacore.Region.create_shared(name, 4096)
            assert exc.value.errno == errno.EEXIST
        finally:
            alphacore.Region.unlink_shared(name)
    with pytest.raises(OSError) as exc:
        alphacore.Region.open_shared(name)
    assert exc.value.errno == errno.ENOENT


def test_orderbook_example_builds_and_runs(tmp_path, pool_2m):
    """examples/c/orderbook_region.c stays compiling (strict C11) and runs against the built library."""
    libdir = Path(alphacore.library_path).resolve().parent
    exe = tmp_path / "orderbook_region"
    subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-O2",
                    f"-I{ROOT / 'include'}", str(ROOT / "examples/c/orderbook_region.c"), "-o", str(exe),
                    f"-L{libdir}", "-l:libalphacore.so.0"], check=True)
    env = dict(os.environ, LD_LIBRARY_PATH=str(libdir))
    pool_2m(0)
    out = subprocess.run([str(exe)], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "order book: 8388608 bytes" in out.stdout
    assert "2 MiB hugetlb: refused (ENOMEM)" in out.stdout
    assert "node 0 (verified)" in out.stdout
    out = subprocess.run([str(exe), "--require"], env=env, capture_output=True, text=True)
    assert out.returncode == 1 and "REQUIRE_HUGE" in out.stderr
    if pool_2m(4) == 4:
        out = subprocess.run([str(exe), "--require"], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert "mapped in 2 MiB hugetlb" in out.stdout


def _is_live(region_struct_copy):
    """Whether the library still has the region (freeing a copy of a freed region is EINVAL).
    Only call it for a region expected to be gone: for a live one it would free it."""
    try:
        memory.lib.alphacore_mem_free(ctypes.byref(region_struct_copy))
    except OSError as exc:
        assert exc.errno == errno.EINVAL
        return False
    return True


def test_close_with_live_views_unmaps_when_they_go():
    np = pytest.importorskip("numpy")
    with alphacore.Region(1 << 20) as r:
        a = r.array(np.uint8)
        a[:] = 3
        mv = r.memoryview[10:20]
        copy = memory._Region.from_buffer_copy(r._r)
    assert r._closed
    assert a[123] == 3 and mv[0] == 3       # still mapped while views live (else a crash)
    a[5] = 4
    del a
    assert mv[0] == 3
    del mv
    assert not _is_live(copy)               # the last view took the mapping along
    with alphacore.Region(1 << 20) as r:
        r.memoryview[0] = 1
        copy = memory._Region.from_buffer_copy(r._r)
    assert not _is_live(copy)               # no views left: unmapped at exit
