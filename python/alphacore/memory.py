"""Huge-page memory regions: the ladder 1 GiB -> 2 MiB -> THP -> 4 KiB, and the pools.

    import alphacore, numpy as np
    with alphacore.Region(64 << 20, prefault=True) as r:
        print(r.report())
        a = r.array(np.uint64)          # zero-copy view of the region
        a[:] = 7
        r.memoryview[0] = 1             # writable memoryview over the same bytes

Failures raise ``alphacore.AlphacoreError`` (an ``OSError``) with the library's errno and detail.
"""
from __future__ import annotations

import ctypes
import sys
import weakref

from ._lib import Owned, declare, lib
from ._lib import text as _text

__all__ = ["Region", "hugepage_pools", "MEM_REQUIRE_HUGE", "MEM_NO_THP", "MEM_PREFAULT", "MEM_LOCK",
           "MEM_NODE_STRICT", "NODE_LOCAL", "BACKING_NAMES", "HUGE_1G", "HUGE_2M", "THP", "BASE"]

MEM_REQUIRE_HUGE = 0x01
MEM_NO_THP = 0x02
MEM_PREFAULT = 0x04
MEM_LOCK = 0x08
MEM_NODE_STRICT = 0x10
NODE_LOCAL = -1

HUGE_1G, HUGE_2M, THP, BASE = 0, 1, 2, 3
BACKING_NAMES = {HUGE_1G: "huge_1g", HUGE_2M: "huge_2m", THP: "thp", BASE: "base"}

REGION_PREFAULTED = 0x01
REGION_LOCKED = 0x02
REGION_SHARED = 0x04
REGION_NODE_BOUND = 0x08
REGION_THP_PROBED = 0x10


class _Opts(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("flags", ctypes.c_uint32), ("node", ctypes.c_int32),
                ("reserved0", ctypes.c_uint32), ("page_size", ctypes.c_uint64),
                ("reserved", ctypes.c_uint64 * 4)]


class _Region(ctypes.Structure):
    _fields_ = [("addr", ctypes.c_void_p), ("size", ctypes.c_uint64), ("requested", ctypes.c_uint64),
                ("page_size", ctypes.c_uint64), ("huge_bytes", ctypes.c_uint64), ("backing", ctypes.c_int32),
                ("node", ctypes.c_int32), ("refused", ctypes.c_int32 * 4), ("flags", ctypes.c_uint32),
                ("fd", ctypes.c_int32), ("cookie", ctypes.c_uint64), ("reserved", ctypes.c_uint64 * 4)]


class _Pool(ctypes.Structure):
    _fields_ = [("page_size", ctypes.c_uint64), ("node", ctypes.c_int32), ("reserved0", ctypes.c_uint32),
                ("total", ctypes.c_uint64), ("free", ctypes.c_uint64), ("reserved", ctypes.c_uint64),
                ("surplus", ctypes.c_uint64), ("overcommit", ctypes.c_uint64), ("usable", ctypes.c_uint64)]


_RegionP = ctypes.POINTER(_Region)
declare("alphacore_mem_alloc", ctypes.c_int, [ctypes.c_size_t, ctypes.POINTER(_Opts), _RegionP], errcheck=True)
declare("alphacore_mem_free", ctypes.c_int, [_RegionP], errcheck=True)
declare("alphacore_mem_plan", ctypes.c_int, [ctypes.c_size_t, ctypes.POINTER(_Opts), _RegionP], errcheck=True)
declare("alphacore_mem_report", ctypes.c_int, [_RegionP, ctypes.c_char_p, ctypes.c_size_t], errcheck=True)
declare("alphacore_mem_shared_create", ctypes.c_int,
        [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(_Opts), _RegionP], errcheck=True)
declare("alphacore_mem_shared_open", ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(_Opts), _RegionP],
        errcheck=True)
declare("alphacore_mem_shared_unlink", ctypes.c_int, [ctypes.c_char_p], errcheck=True)
declare("alphacore_hugepage_pools", ctypes.c_int, [ctypes.POINTER(_Pool), ctypes.c_size_t], errcheck=True)


def _opts(node, page_size, flags) -> _Opts:
    o = _Opts()
    o.struct_size = ctypes.sizeof(_Opts)
    o.flags = flags
    o.node = NODE_LOCAL if node is None else node
    o.page_size = page_size
    return o


def _flags(flags, require_huge, no_thp, prefault, lock, node_strict) -> int:
    return (flags | (MEM_REQUIRE_HUGE if require_huge else 0) | (MEM_NO_THP if no_thp else 0) |
            (MEM_PREFAULT if prefault else 0) | (MEM_LOCK if lock else 0) |
            (MEM_NODE_STRICT if node_strict else 0))


def _report(region: _Region) -> str:
    return _text(lib.alphacore_mem_report, ctypes.byref(region))


class Region(Owned):
    """A memory region from the ladder; a context manager that frees it on exit.

    ``memoryview`` is a writable view of the whole region; ``array(dtype)`` a zero-copy numpy
    array over it. ``close()`` (or leaving the ``with`` block) unmaps at once, or, while such
    views are alive, when the last of them is gone.
    """

    def __init__(self, size: int, *, node: int | None = None, page_size: int = 0, flags: int = 0,
                 require_huge: bool = False, no_thp: bool = False, prefault: bool = False,
                 lock: bool = False, node_strict: bool = False):
        self._r = _Region()
        self._buf = None
        self._view = None
        o = _opts(node, page_size, _flags(flags, require_huge, no_thp, prefault, lock, node_strict))
        lib.alphacore_mem_alloc(size, ctypes.byref(o), ctypes.byref(self._r))
        self._own(self._r)

    @classmethod
    def _adopt(cls, region: _Region) -> "Region":
        self = cls.__new__(cls)
        self._r = region
        self._view = None
        self._buf = None
        self._own(region)
        return self

    @classmethod
    def create_shared(cls, name: str, size: int, *, node: int | None = None, page_size: int = 0,
                      flags: int = 0, **kw) -> "Region":
        """A named region another process can open (file alphacore.<name>, mode 0600, in a
        hugetlbfs mount or /dev/shm). ``close()`` unmaps; ``unlink_shared(name)`` removes the name."""
        r = _Region()
        o = _opts(node, page_size, _flags(flags, kw.get("require_huge"), kw.get("no_thp"),
                                          kw.get("prefault"), kw.get("lock"), kw.get("node_strict")))
        lib.alphacore_mem_shared_create(name.encode(), size, ctypes.byref(o), ctypes.byref(r))
        return cls._adopt(r)

    @classmethod
    def open_shared(cls, name: str, *, node: int | None = None, flags: int = 0, **kw) -> "Region":
        """Maps a named region another process created."""
        r = _Region()
        o = _opts(node, 0, _flags(flags, kw.get("require_huge"), kw.get("no_thp"),
                                  kw.get("prefault"), kw.get("lock"), kw.get("node_strict")))
        lib.alphacore_mem_shared_open(name.encode(), ctypes.byref(o), ctypes.byref(r))
        return cls._adopt(r)

    @staticmethod
    def unlink_shared(name: str) -> None:
        """Removes a shared region's name (mapped regions stay valid)."""
        lib.alphacore_mem_shared_unlink(name.encode())

    # -- what the library reports --
    @property
    def address(self) -> int:
        return self._r.addr or 0

    @property
    def size(self) -> int:
        return self._r.size

    @property
    def requested(self) -> int:
        return self._r.requested

    @property
    def page_size(self) -> int:
        return self._r.page_size

    @property
    def huge_bytes(self) -> int:
        return self._r.huge_bytes

    @property
    def backing(self) -> str:
        """"huge_1g", "huge_2m", "thp" or "base"."""
        return BACKING_NAMES.get(self._r.backing, "unknown")

    @property
    def node(self) -> int:
        return self._r.node

    @property
    def flags(self) -> int:
        return self._r.flags

    @property
    def refused(self) -> dict:
        """{tier name: errno} for each better tier that was not used (errno positive)."""
        return {BACKING_NAMES[i]: -self._r.refused[i] for i in range(4) if self._r.refused[i] != 0}

    def report(self) -> str:
        self._check_open()
        return _report(self._r)

    # -- the memory --
    @property
    def _closed(self) -> bool:
        return self.closed

    def _check_open(self):
        self.handle   # ValueError once closed

    @property
    def memoryview(self) -> memoryview:
        self._check_open()
        if self._view is None:
            if self._buf is None:
                self._buf = (ctypes.c_char * self._r.size).from_address(self._r.addr)
            self._view = memoryview(self._buf).cast("B")
        return self._view

    def array(self, dtype="uint8", shape=None):
        """A numpy array over the region, without a copy (writable)."""
        import numpy as np
        a = np.frombuffer(self.memoryview, dtype=dtype)
        return a if shape is None else a.reshape(shape)

    def _release(self, region: _Region) -> None:
        """Frees the region (close() calls it once). If memoryviews or numpy arrays made from it
        are still alive, the region is marked closed now and unmapped when the last of them goes,
        so that no view ever points at unmapped memory."""
        self._view = None
        buf, self._buf = self._buf, None
        # Every view of the region (slices and numpy arrays included) keeps the one managed
        # buffer alive, and that holds the ctypes array: free when the array dies.
        if buf is not None and sys.getrefcount(buf) > 2:
            weakref.finalize(buf, lib.alphacore_mem_free, ctypes.byref(region))
            return
        lib.alphacore_mem_free(ctypes.byref(region))

    def __repr__(self):
        state = "closed" if self._closed else f"{self.backing}, {self.size} bytes at {self.address:#x}"
        return f"<alphacore.Region {state}>"

    @staticmethod
    def plan(size: int, *, node: int | None = None, page_size: int = 0, flags: int = 0, **kw) -> dict:
        """The ladder's decision now, without mapping: backing, page size, refusals and report."""
        r = _Region()
        o = _opts(node, page_size, _flags(flags, kw.get("require_huge"), kw.get("no_thp"),
                                          kw.get("prefault"), kw.get("lock"), kw.get("node_strict")))
        lib.alphacore_mem_plan(size, ctypes.byref(o), ctypes.byref(r))
        return {"backing": BACKING_NAMES.get(r.backing), "page_size": r.page_size, "size": r.size,
                "refused": {BACKING_NAMES[i]: -r.refused[i] for i in range(4) if r.refused[i] != 0},
                "report": _report(r)}


def hugepage_pools() -> list[dict]:
    """Every huge-page pool: per page size (largest first) the global pool (node -1), then each node's."""
    n = lib.alphacore_hugepage_pools(None, 0)
    arr = (_Pool * max(n, 1))()
    n = lib.alphacore_hugepage_pools(arr, n)
    return [{k: getattr(p, k) for k in ("page_size", "node", "total", "free", "reserved", "surplus",
                                        "overcommit", "usable")} for p in arr[:n]]
