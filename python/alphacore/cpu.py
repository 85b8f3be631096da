"""CPU placement: topology, pinning, NUMA memory policy.

    from alphacore import cpu
    cpu.allowed()                  # [0, 1, 2, 3]: affinity & cgroup cpuset & online
    cpu.node_of_cpu(3)             # NUMA node of CPU 3, from the cached topology
    with cpu.pinned(3):            # pin this thread for the block, then restore its mask
        ...
    cpu.pin_thread(3); assert cpu.pin_verify()

Sets are Python lists of ints; every function also accepts a cpulist string ("0-3,8") where
it takes a set. Failures raise ``alphacore.AlphacoreError`` (an ``OSError``) with the
library's detail.
"""
from __future__ import annotations

import contextlib
import ctypes
import re
from typing import Iterable, Iterator, List, Optional, Union

from ._lib import AlphacoreError, Owned, declare, lib
from ._lib import text as _text

__all__ = ["CpuInfo", "POSSIBLE", "ONLINE", "ALLOWED", "ISOLATED", "NOHZ_FULL", "NODES",
           "NODES_WITH_MEMORY", "parse_cpulist", "format_cpulist", "topology_reload", "cpus",
           "cpu_mask", "possible", "online", "allowed", "isolated", "nohz_full", "nodes",
           "allowed_source", "node_of_cpu", "cpu_info", "siblings", "node_cpus", "node_memory",
           "node_distance", "pin_thread", "pin_thread_list", "pin_pthread", "pin_verify",
           "current_cpu", "thread_affinity", "pinned", "NUMA_UNAVAILABLE", "NUMA_DENIED",
           "NUMA_SINGLE_NODE", "NUMA_AVAILABLE", "numa_status", "MPOL_DEFAULT",
           "MPOL_PREFERRED", "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_LOCAL", "MBIND_STRICT",
           "mem_policy_set", "mem_bind", "mem_node_of", "roles_set", "pin_role", "role_cpus",
           "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "set_nice", "set_realtime",
           "thread_name_set", "thread_name_get"]

_c = ctypes
_buf = [_c.c_char_p, _c.c_size_t]

# Which sets (ALPHACORE_CPUS_* / ALPHACORE_NODES_*).
POSSIBLE, ONLINE, ALLOWED, ISOLATED, NOHZ_FULL, NODES, NODES_WITH_MEMORY = range(7)
NUMA_UNAVAILABLE, NUMA_DENIED, NUMA_SINGLE_NODE, NUMA_AVAILABLE = range(4)
MPOL_DEFAULT, MPOL_PREFERRED, MPOL_BIND, MPOL_INTERLEAVE, MPOL_LOCAL = range(5)
MBIND_STRICT = 1
SCHED_OTHER, SCHED_FIFO, SCHED_RR = range(3)


class CpuInfo(_c.Structure):
    """alphacore_cpu_info."""
    _fields_ = [("struct_size", _c.c_uint32), ("cpu", _c.c_int32), ("online", _c.c_int32),
                ("allowed", _c.c_int32), ("isolated", _c.c_int32), ("nohz_full", _c.c_int32),
                ("core_id", _c.c_int32), ("package_id", _c.c_int32), ("die_id", _c.c_int32),
                ("l3_id", _c.c_int32), ("node", _c.c_int32), ("smt_count", _c.c_int32),
                ("reserved", _c.c_uint32 * 4)]

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name, _ in self._fields_
                if name not in ("struct_size", "reserved")}


_P = _c.POINTER
_u64p = _P(_c.c_uint64)
declare("alphacore_topology_reload", _c.c_int, [], errcheck=True)
declare("alphacore_topology_list", _c.c_int, [_c.c_int] + _buf, errcheck=True)
declare("alphacore_topology_mask", _c.c_int, [_c.c_int, _u64p, _c.c_size_t], errcheck=True)
declare("alphacore_cpus_allowed_source", _c.c_int, _buf, errcheck=True)
declare("alphacore_cpu_node", _c.c_int, [_c.c_int], errcheck=True)
declare("alphacore_cpu_info_get", _c.c_int, [_c.c_int, _P(CpuInfo)], errcheck=True)
declare("alphacore_cpu_siblings", _c.c_int, [_c.c_int] + _buf, errcheck=True)
declare("alphacore_node_cpus", _c.c_int, [_c.c_int] + _buf, errcheck=True)
declare("alphacore_node_memory", _c.c_int, [_c.c_int, _u64p, _u64p], errcheck=True)
declare("alphacore_node_distance", _c.c_int, [_c.c_int, _c.c_int], errcheck=True)
declare("alphacore_cpulist_parse", _c.c_int, [_c.c_char_p, _u64p, _c.c_size_t], errcheck=True)
declare("alphacore_cpulist_format", _c.c_int, [_u64p, _c.c_size_t] + _buf, errcheck=True)
declare("alphacore_pin_thread", _c.c_int, [_c.c_int], errcheck=True)
declare("alphacore_pin_thread_list", _c.c_int, [_c.c_char_p], errcheck=True)
declare("alphacore_pin_pthread", _c.c_int, [_c.c_ulong, _c.c_char_p], errcheck=True)
declare("alphacore_pin_verify", _c.c_int, [], errcheck=True)
declare("alphacore_current_cpu", _c.c_int, [], errcheck=True)
declare("alphacore_thread_affinity", _c.c_int, _buf, errcheck=True)
declare("alphacore_affinity_save", _c.c_int, [_P(_c.c_void_p)], errcheck=True)
declare("alphacore_affinity_restore", _c.c_int, [_c.c_void_p], errcheck=True)
declare("alphacore_affinity_free", None, [_c.c_void_p])
declare("alphacore_numa_status", _c.c_int, [])
declare("alphacore_mem_policy_set", _c.c_int, [_c.c_int, _c.c_char_p], errcheck=True)
declare("alphacore_mem_bind", _c.c_int, [_c.c_void_p, _c.c_size_t, _c.c_int, _c.c_char_p, _c.c_uint],
        errcheck=True)
declare("alphacore_mem_node_of", _c.c_int, [_c.c_void_p], errcheck=True)
declare("alphacore_roles_set", _c.c_int, [_c.c_char_p], errcheck=True)
declare("alphacore_pin_role", _c.c_int, [_c.c_char_p], errcheck=True)
declare("alphacore_role_cpus", _c.c_int, [_c.c_char_p] + _buf, errcheck=True)
declare("alphacore_set_nice", _c.c_int, [_c.c_int], errcheck=True)
declare("alphacore_set_realtime", _c.c_int, [_c.c_int, _c.c_int], errcheck=True)
declare("alphacore_thread_name_set", _c.c_int, [_c.c_char_p], errcheck=True)
declare("alphacore_thread_name_get", _c.c_int, _buf, errcheck=True)

CpuSpec = Union[int, str, Iterable[int]]


def parse_cpulist(text: str) -> List[int]:
    """Strict cpulist parse ("0-3,8" -> [0, 1, 2, 3, 8]); raises OSError(EINVAL/ERANGE)."""
    data = text.encode()
    # Room for the largest number in the text (the library rejects ids above 1048575).
    largest = max((int(d) for d in re.findall(r"[0-9]{1,8}", text)), default=0)
    words = (_c.c_uint64 * (min(largest, 1 << 20) // 64 + 1))()
    lib.alphacore_cpulist_parse(data, words, len(words))
    return [w * 64 + b for w in range(len(words)) if words[w] for b in range(64) if words[w] >> b & 1]


def format_cpulist(ids: Iterable[int]) -> str:
    """[0, 1, 2, 3, 8] -> "0-3,8"."""
    ids = sorted(set(int(i) for i in ids))
    if ids and ids[0] < 0:
        raise ValueError("negative cpu id")
    nwords = ids[-1] // 64 + 1 if ids else 0
    words = (_c.c_uint64 * max(nwords, 1))()
    for i in ids:
        words[i // 64] |= 1 << (i % 64)
    return _text(lib.alphacore_cpulist_format, words, nwords)


def _as_list(spec: CpuSpec) -> str:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, int):
        return str(spec)
    return format_cpulist(spec)


def topology_reload() -> None:
    """Reads the topology again (hotplug, a cgroup move, a new ALPHACORE_SYSROOT)."""
    lib.alphacore_topology_reload()


def cpus(which: int) -> List[int]:
    """One of the sets POSSIBLE, ONLINE, ALLOWED, ISOLATED, NOHZ_FULL, NODES, NODES_WITH_MEMORY."""
    text = _text(lib.alphacore_topology_list, which)
    return parse_cpulist(text) if text else []


def cpu_mask(which: int) -> List[int]:
    """The same set as 64-bit words (CPU i at bit i % 64 of word i // 64)."""
    n = lib.alphacore_topology_mask(which, None, 0)
    words = (_c.c_uint64 * n)()
    lib.alphacore_topology_mask(which, words, n)
    return list(words)


def possible() -> List[int]: return cpus(POSSIBLE)
def online() -> List[int]: return cpus(ONLINE)
def allowed() -> List[int]: return cpus(ALLOWED)
def isolated() -> List[int]: return cpus(ISOLATED)
def nohz_full() -> List[int]: return cpus(NOHZ_FULL)
def nodes() -> List[int]: return cpus(NODES)


def allowed_source() -> str:
    """Where the allowed set came from, in words."""
    return _text(lib.alphacore_cpus_allowed_source)


def node_of_cpu(cpu: int) -> int:
    """The NUMA node of a CPU (cached: nanoseconds in C, one ctypes call here)."""
    return lib.alphacore_cpu_node(cpu)


def cpu_info(cpu: int) -> dict:
    info = CpuInfo()
    info.struct_size = _c.sizeof(CpuInfo)
    lib.alphacore_cpu_info_get(cpu, _c.byref(info))
    return info.as_dict()


def siblings(cpu: int) -> List[int]:
    """The SMT siblings of a CPU (its core's hardware threads, itself included)."""
    return parse_cpulist(_text(lib.alphacore_cpu_siblings, cpu))


def node_cpus(node: int) -> List[int]:
    text = _text(lib.alphacore_node_cpus, node)
    return parse_cpulist(text) if text else []


def node_memory(node: int) -> tuple:
    """(MemTotal, MemFree) of a node in bytes."""
    total, free = _c.c_uint64(), _c.c_uint64()
    lib.alphacore_node_memory(node, _c.byref(total), _c.byref(free))
    return total.value, free.value


def node_distance(a: int, b: int) -> int:
    return lib.alphacore_node_distance(a, b)


def pin_thread(cpu: int) -> None:
    """Pins the calling thread to one CPU (validated against the allowed set, confirmed)."""
    lib.alphacore_pin_thread(cpu)


def pin_thread_list(spec: CpuSpec) -> None:
    """Pins the calling thread to a set ("2-4", [2, 3, 4]); a set the kernel shrinks is undone."""
    lib.alphacore_pin_thread_list(_as_list(spec).encode())


def pin_pthread(ident: int, spec: CpuSpec) -> None:
    """Pins another thread; ``ident`` is ``threading.get_ident()`` / ``Thread.ident``."""
    lib.alphacore_pin_pthread(ident, _as_list(spec).encode())


def pin_verify() -> bool:
    """True while this thread runs inside the set it was last pinned to by the library."""
    return lib.alphacore_pin_verify() == 1


def current_cpu() -> int:
    return lib.alphacore_current_cpu()


def thread_affinity() -> List[int]:
    """The calling thread's mask now."""
    return parse_cpulist(_text(lib.alphacore_thread_affinity))


@contextlib.contextmanager
def pinned(spec: CpuSpec) -> Iterator[None]:
    """Pins the calling thread for the block, then restores its previous mask (and pin
    record), even when the block raises."""
    with _SavedAffinity() as saved:
        try:
            if isinstance(spec, int):
                pin_thread(spec)
            else:
                pin_thread_list(spec)
            yield
        finally:
            lib.alphacore_affinity_restore(saved.handle)


class _SavedAffinity(Owned):
    """A saved mask and pin record (alphacore_affinity_save); freed on close."""

    __slots__ = ("_owned",)
    _destroy = staticmethod(lib.alphacore_affinity_free)

    def __init__(self):
        self._own(None)
        out = _c.c_void_p()
        lib.alphacore_affinity_save(_c.byref(out))
        self._own(out.value)


def numa_status() -> int:
    """NUMA_UNAVAILABLE (ENOSYS), NUMA_DENIED (EPERM), NUMA_SINGLE_NODE or NUMA_AVAILABLE."""
    return lib.alphacore_numa_status()


def _nodes(spec: Optional[CpuSpec]) -> Optional[bytes]:
    return None if spec is None else _as_list(spec).encode()


def mem_policy_set(mode: int, nodes: Optional[CpuSpec] = None) -> None:
    """The calling thread's memory policy (MPOL_*)."""
    lib.alphacore_mem_policy_set(mode, _nodes(nodes))


def mem_bind(address: int, length: int, mode: int, nodes: Optional[CpuSpec] = None,
             strict: bool = False) -> None:
    """The policy of a page-aligned range (an address from numpy's ``ctypes.data``, mmap...)."""
    lib.alphacore_mem_bind(address, length, mode, _nodes(nodes), MBIND_STRICT if strict else 0)


def mem_node_of(address: int) -> int:
    """The node holding the page at ``address`` now (OSError ENOENT if never touched)."""
    return lib.alphacore_mem_node_of(address)


def roles_set(spec: Optional[str] = None) -> None:
    """Installs a role spec ("collector=2-4;orderbook=5-6"); None reads ALPHACORE_CPUS."""
    lib.alphacore_roles_set(None if spec is None else spec.encode())


def pin_role(role: str) -> int:
    """Pins the calling thread to the role's next CPU; returns that CPU."""
    return lib.alphacore_pin_role(role.encode())


def role_cpus(role: str) -> List[int]:
    return parse_cpulist(_text(lib.alphacore_role_cpus, role.encode()))


def set_nice(value: int) -> None:
    """The calling thread's nice value; OSError(EACCES) with the reason when denied."""
    lib.alphacore_set_nice(value)


def set_realtime(policy: int, priority: int = 0) -> None:
    """SCHED_FIFO / SCHED_RR (priority 1-99) or back to SCHED_OTHER (priority 0) for the
    calling thread; OSError(EPERM) with the reason when denied."""
    lib.alphacore_set_realtime(policy, priority)


def thread_name_set(name: str) -> None:
    """Names the calling thread (at most 15 bytes)."""
    lib.alphacore_thread_name_set(name.encode())


def thread_name_get() -> str:
    return _text(lib.alphacore_thread_name_get)
