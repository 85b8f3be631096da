"""Batched reads: ``alphacore.Reader`` over the C reader (io_uring, or epoll where refused).

    with alphacore.Reader() as r:
        r.add(sock, user_data=1)
        for c in r.poll(timeout_ns=1_000_000):
            handle(c.user_data, c.data)      # c.data: a memoryview into the library's buffer
        r.release()                          # gives every polled buffer back

``poll`` returns completions whose ``data`` are zero-copy memoryviews, valid until released;
``poll_array`` returns the same as a numpy structured array (``COMPLETION_DTYPE``);
``poll_copy`` copies into a buffer of the reader's own and gives the library's buffers back at
once. A reader belongs to the thread that created it.
"""
from __future__ import annotations

import ctypes
from typing import NamedTuple, Optional

from ._lib import Closeable, check, declare, lib

__all__ = ["Reader", "Completion", "COMPLETION_DTYPE", "AUTO", "IO_URING", "EPOLL", "SQPOLL",
           "BUSY_POLL", "HUGE_PAGES", "NO_FALLBACK", "FRAME_NONE", "FRAME_FIXED", "FRAME_U16LE",
           "FRAME_U16BE", "FRAME_U32LE", "FRAME_U32BE", "NO_BUFFER", "PROFILE_THROUGHPUT",
           "PROFILE_LATENCY", "PROFILE_SPIN"]

AUTO, IO_URING, EPOLL = 0, 1, 2
SQPOLL, BUSY_POLL, HUGE_PAGES, NO_FALLBACK = 1, 2, 4, 8
FRAME_NONE, FRAME_FIXED, FRAME_U16LE, FRAME_U16BE, FRAME_U32LE, FRAME_U32BE = range(6)
NO_BUFFER = 0xFFFFFFFF
PROFILE_THROUGHPUT, PROFILE_LATENCY, PROFILE_SPIN = 0, 1, 2
_PROFILES = {"throughput": PROFILE_THROUGHPUT, "latency": PROFILE_LATENCY, "spin": PROFILE_SPIN}
COMPLETION_REASSEMBLED, COMPLETION_LAST = 1, 2
_BACKENDS = {"auto": AUTO, "io_uring": IO_URING, "epoll": EPOLL}
_FRAMINGS = {None: FRAME_NONE, "none": FRAME_NONE, "fixed": FRAME_FIXED, "u16le": FRAME_U16LE,
             "u16be": FRAME_U16BE, "u32le": FRAME_U32LE, "u32be": FRAME_U32BE}


class _Opts(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("backend", ctypes.c_uint32),
                ("flags", ctypes.c_uint32), ("sqpoll_cpu", ctypes.c_int32),
                ("capacity", ctypes.c_uint32), ("buf_size", ctypes.c_uint32),
                ("buf_count", ctypes.c_uint32), ("framing", ctypes.c_uint32),
                ("frame_size", ctypes.c_uint32), ("sqpoll_idle_ms", ctypes.c_uint32),
                ("profile", ctypes.c_uint32), ("spin_us", ctypes.c_uint32),
                ("reserved", ctypes.c_uint64 * 3)]


class _Completion(ctypes.Structure):
    _fields_ = [("user_data", ctypes.c_uint64), ("data", ctypes.c_void_p),
                ("result", ctypes.c_int32), ("buf_id", ctypes.c_uint32),
                ("fd", ctypes.c_int32), ("flags", ctypes.c_uint32)]


class _Details(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("backend", ctypes.c_uint32),
                ("requested", ctypes.c_uint32), ("uring_errno", ctypes.c_int32),
                ("uring_stage", ctypes.c_char * 32), ("reason", ctypes.c_char * 192),
                ("setup_flags", ctypes.c_uint32), ("features", ctypes.c_uint32),
                ("sq_entries", ctypes.c_uint32), ("cq_entries", ctypes.c_uint32),
                ("capacity", ctypes.c_uint32), ("buf_size", ctypes.c_uint32),
                ("buf_count", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("framing", ctypes.c_uint32), ("frame_size", ctypes.c_uint32),
                ("buffer_bytes", ctypes.c_uint64), ("profile", ctypes.c_uint32),
                ("spin_us", ctypes.c_uint32), ("reserved", ctypes.c_uint64 * 3)]


_COUNTERS = ["polls", "syscalls", "completions", "bytes", "messages", "reassembled", "enobufs",
             "rearms", "overflows", "eofs", "errors", "buffers_held"]


class _Counters(ctypes.Structure):
    _fields_ = ([("struct_size", ctypes.c_uint32), ("fds", ctypes.c_uint32)]
                + [(n, ctypes.c_uint64) for n in _COUNTERS] + [("reserved", ctypes.c_uint64 * 4)])


assert ctypes.sizeof(_Completion) == 32

_P = ctypes.POINTER
declare("alphacore_reader_create", ctypes.c_int, [_P(_Opts), _P(ctypes.c_void_p)], errcheck=True)
declare("alphacore_reader_destroy", None, [ctypes.c_void_p])
declare("alphacore_reader_info", ctypes.c_int, [ctypes.c_void_p, _P(_Details)], errcheck=True)
declare("alphacore_reader_add", ctypes.c_int, [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint64], errcheck=True)
declare("alphacore_reader_remove", ctypes.c_int, [ctypes.c_void_p, ctypes.c_int], errcheck=True)
declare("alphacore_reader_poll", ctypes.c_int,
        [ctypes.c_void_p, _P(_Completion), ctypes.c_uint32, ctypes.c_uint32, ctypes.c_int64, ctypes.c_int64],
        errcheck=True)
declare("alphacore_reader_release", ctypes.c_int, [ctypes.c_void_p, _P(_Completion), ctypes.c_uint32],
        errcheck=True)
declare("alphacore_reader_poll_copy", ctypes.c_int,
        [ctypes.c_void_p, _P(_Completion), ctypes.c_uint32, ctypes.c_void_p, ctypes.c_size_t,
         ctypes.c_uint32, ctypes.c_int64, ctypes.c_int64], errcheck=True)
declare("alphacore_read_batch", ctypes.c_int,
        [ctypes.c_void_p, _P(ctypes.c_int), _P(ctypes.c_uint64), ctypes.c_uint32, _P(_Completion),
         ctypes.c_int64], errcheck=True)
declare("alphacore_reader_stats", ctypes.c_int, [ctypes.c_void_p, _P(_Counters)], errcheck=True)

try:  # numpy is optional: only poll_array needs it
    import numpy as _np
    COMPLETION_DTYPE = _np.dtype([("user_data", "<u8"), ("data", "<u8"), ("result", "<i4"),
                                  ("buf_id", "<u4"), ("fd", "<i4"), ("flags", "<u4")])
except ImportError:  # pragma: no cover
    _np = None
    COMPLETION_DTYPE = None


class Completion(NamedTuple):
    """One completion. ``result``: bytes, 0 at end of stream, -errno for this fd."""
    user_data: int
    fd: int
    result: int
    data: Optional[memoryview]
    buf_id: int
    flags: int


def _fileno(fd) -> int:
    return fd if isinstance(fd, int) else fd.fileno()


class Reader(Closeable):
    """A batched reader (see alphacore_reader_create(3)). A context manager; ``close()`` is
    idempotent. Every call must come from the thread that created it."""

    def __init__(self, backend: str = "auto", *, capacity: int = 1024, buf_size: int = 4096,
                 buf_count: int = 2048, framing: Optional[str] = None, frame_size: int = 0,
                 flags: int = 0, sqpoll_cpu: int = -1, max_completions: int = 256,
                 profile: str = "throughput", spin_us: int = 0):
        if backend not in _BACKENDS:
            raise ValueError(f"backend must be one of {sorted(_BACKENDS)}")
        if framing not in _FRAMINGS:
            raise ValueError(f"framing must be one of {sorted(k for k in _FRAMINGS if k)}")
        if profile not in _PROFILES:
            raise ValueError(f"profile must be one of {sorted(_PROFILES)}")
        opts = _Opts(ctypes.sizeof(_Opts), _BACKENDS[backend], flags, sqpoll_cpu, capacity, buf_size,
                     buf_count, _FRAMINGS[framing], frame_size, 0, _PROFILES[profile], spin_us)
        handle = ctypes.c_void_p()
        lib.alphacore_reader_create(ctypes.byref(opts), ctypes.byref(handle))
        self._h = handle
        self._max = max(3, max_completions)
        self._out = (_Completion * self._max)()
        self._held: list = []          # ctypes arrays of polled completions not yet released
        self._copy_buf = None
        self.buf_size = buf_size

    # -- lifetime ---------------------------------------------------------------------------
    def close(self) -> None:
        """Destroys the reader (buffers and memoryviews from poll become invalid)."""
        if getattr(self, "_h", None):
            lib.alphacore_reader_destroy(self._h)
            self._h = None
            self._held = []

    def _handle(self):
        if not self._h:
            raise ValueError("the reader is closed")
        return self._h

    # -- fds ----------------------------------------------------------------------------------
    def add(self, fd, user_data: int = 0) -> None:
        """Starts reading fd (an int or an object with fileno())."""
        lib.alphacore_reader_add(self._handle(), _fileno(fd), user_data & 0xFFFFFFFFFFFFFFFF)

    def remove(self, fd) -> None:
        lib.alphacore_reader_remove(self._handle(), _fileno(fd))

    # -- reading ------------------------------------------------------------------------------
    def _poll_raw(self, max, min_complete, min_wait_ns, timeout_ns):
        m = self._max if max is None else max
        out = (_Completion * m)()
        n = lib.alphacore_reader_poll(self._handle(), out, m, min(min_complete, m), min_wait_ns, timeout_ns)
        if n:
            self._held.append((out, n))
        return out, n

    def poll(self, max: Optional[int] = None, min_complete: int = 1, min_wait_ns: int = 0,
             timeout_ns: int = -1) -> list:
        """Completions with zero-copy ``data`` memoryviews, valid until ``release()``."""
        out, n = self._poll_raw(max, min_complete, min_wait_ns, timeout_ns)
        result = []
        for i in range(n):
            c = out[i]
            view = None
            if c.result > 0:
                view = memoryview((ctypes.c_char * c.result).from_address(c.data)).cast("B")
            result.append(Completion(c.user_data, c.fd, c.result, view, c.buf_id, c.flags))
        return result

    def poll_array(self, max: Optional[int] = None, min_complete: int = 1, min_wait_ns: int = 0,
                   timeout_ns: int = -1):
        """The completions as a numpy structured array (``COMPLETION_DTYPE``); ``data`` holds
        addresses: ``Reader.view(row)`` gives the bytes. Valid until ``release()``."""
        if _np is None:
            raise ImportError("poll_array needs numpy")
        out, n = self._poll_raw(max, min_complete, min_wait_ns, timeout_ns)
        return _np.frombuffer(out, dtype=COMPLETION_DTYPE, count=n)

    @staticmethod
    def view(row) -> Optional[memoryview]:
        """The bytes of one completion (a row of poll_array or a Completion), zero-copy."""
        result = int(row["result"]) if not isinstance(row, Completion) else row.result
        if result <= 0:
            return None
        if isinstance(row, Completion):
            return row.data
        return memoryview((ctypes.c_char * result).from_address(int(row["data"]))).cast("B")

    def release(self) -> int:
        """Gives back the buffers of every completion polled so far. Returns how many."""
        total = 0
        for out, n in self._held:
            total += lib.alphacore_reader_release(self._handle(), out, n)
        self._held = []
        return total

    def poll_copy(self, max: Optional[int] = None, min_complete: int = 1, min_wait_ns: int = 0,
                  timeout_ns: int = -1) -> list:
        """Like poll, but the bytes are copied into this object's buffer and the library's
        buffers are given back at once. The memoryviews are valid until the next poll_copy."""
        m = self._max if max is None else max
        cap = m * self.buf_size
        if self._copy_buf is None or len(self._copy_buf) < cap:
            self._copy_buf = (ctypes.c_char * cap)()
        out = (_Completion * m)()
        n = lib.alphacore_reader_poll_copy(self._handle(), out, m, self._copy_buf, cap,
                                           min(min_complete, m), min_wait_ns, timeout_ns)
        base = ctypes.addressof(self._copy_buf)
        whole = memoryview(self._copy_buf).cast("B")
        result = []
        for i in range(n):
            c = out[i]
            view = whole[c.data - base:c.data - base + c.result] if c.result > 0 else None
            result.append(Completion(c.user_data, c.fd, c.result, view, c.buf_id, c.flags))
        return result

    def read_batch(self, fds, offsets=None, timeout_ns: int = -1) -> list:
        """One batch of reads (alphacore_read_batch(3)): one Completion per fd, in order, with
        bytes copied out (the library's buffers are given back)."""
        n = len(fds)
        if n == 0:
            return []
        arr = (ctypes.c_int * n)(*[_fileno(f) for f in fds])
        offs = None if offsets is None else (ctypes.c_uint64 * n)(*offsets)
        out = (_Completion * n)()
        lib.alphacore_read_batch(self._handle(), arr, offs, n, out, timeout_ns)
        result = []
        for i in range(n):
            c = out[i]
            data = memoryview(ctypes.string_at(c.data, c.result)) if c.result > 0 else None
            result.append(Completion(c.user_data, c.fd, c.result, data, c.buf_id, c.flags))
        lib.alphacore_reader_release(self._handle(), out, n)
        return result

    # -- reporting ----------------------------------------------------------------------------
    def info(self) -> dict:
        """The backend in use and, for auto, why."""
        d = _Details()
        d.struct_size = ctypes.sizeof(_Details)
        lib.alphacore_reader_info(self._handle(), ctypes.byref(d))
        names = {v: k for k, v in _BACKENDS.items()}
        return {"backend": names.get(d.backend, d.backend), "requested": names.get(d.requested, d.requested),
                "uring_errno": d.uring_errno, "uring_stage": d.uring_stage.decode(),
                "reason": d.reason.decode("utf-8", "replace"), "setup_flags": d.setup_flags,
                "features": d.features, "sq_entries": d.sq_entries, "cq_entries": d.cq_entries,
                "capacity": d.capacity, "buf_size": d.buf_size, "buf_count": d.buf_count,
                "flags": d.flags, "framing": d.framing, "frame_size": d.frame_size,
                "buffer_bytes": d.buffer_bytes,
                "profile": {v: k for k, v in _PROFILES.items()}.get(d.profile, d.profile), "spin_us": d.spin_us}

    @property
    def backend(self) -> str:
        return self.info()["backend"]

    def stats(self) -> dict:
        c = _Counters()
        c.struct_size = ctypes.sizeof(_Counters)
        lib.alphacore_reader_stats(self._handle(), ctypes.byref(c))
        d = {n: getattr(c, n) for n in _COUNTERS}
        d["fds"] = c.fds
        return d
