"""Channels: ``alphacore.Channel`` (the producer) and ``alphacore.ChannelReader`` (a consumer in
any process) over the C channel API: a shared-memory ring in huge pages where the pool allows.

    with alphacore.Channel("ticks", capacity=1 << 20, max_msg=64) as ch:
        ch.publish(b"...")                       # or: mv = ch.claim(64); mv[:] = ...; ch.commit()

    with alphacore.ChannelReader("ticks") as rd:
        for m in rd.poll():                      # zero-copy: m.data is a memoryview into the ring
            handle(m.seq, m.ts, m.data)
        if not rd.check():                       # broadcast: overwritten while we read it?
            ...
        arr = rd.poll_array(np.dtype([("px", "<f8"), ...]))   # fixed-size messages, one call

``poll`` hands out memoryviews into the ring (valid until the next poll on a backpressure
channel; until the producer laps the reader on a broadcast one: ``check()`` tells).
``poll_array`` copies a batch in one C call (checked against laps after copying) into the
reader's own buffer and returns a numpy structured array over it (valid until the next call):
no Python object per message. ``OverflowError`` is not raised: a lap shows as ``lost`` in
``info()`` and ``poll`` returns what follows. A reader belongs to one thread.
"""
from __future__ import annotations

import ctypes
import errno as _errno
from typing import NamedTuple, Optional

from ._lib import AlphacoreError, Owned, declare, lib

__all__ = ["Channel", "ChannelReader", "ChannelMessage", "MSG_DTYPE", "BACKPRESSURE", "CYCLES",
           "NONBLOCK", "NO_TIME", "READER_HIST", "READER_FROM_OLDEST", "READER_OBSERVER", "READER_SLEEP"]

BACKPRESSURE, CYCLES, NONBLOCK, NO_TIME = 1, 2, 4, 8
READER_HIST, READER_FROM_OLDEST, READER_OBSERVER, READER_SLEEP = 1, 2, 4, 8


class _Opts(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("capacity", ctypes.c_uint64), ("max_msg", ctypes.c_uint32), ("node", ctypes.c_int32),
                ("mem_flags", ctypes.c_uint32), ("reserved0", ctypes.c_uint32),
                ("wait_timeout_ns", ctypes.c_uint64), ("reserved", ctypes.c_uint64 * 4)]


class _ReaderOpts(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("spin_ns", ctypes.c_uint64), ("reserved", ctypes.c_uint64 * 4)]


class _Msg(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("len", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("seq", ctypes.c_uint64), ("ts", ctypes.c_uint64)]


_INFO = ["epoch", "position", "next_seq", "producer_seq", "backlog_bytes", "messages", "lost",
         "last_lost", "overflows", "epoch_changes", "protocol_errors", "heartbeat_ns", "heartbeat_age_ns"]


class _Details(ctypes.Structure):
    _fields_ = ([("struct_size", ctypes.c_uint32), ("flags", ctypes.c_uint32), ("capacity", ctypes.c_uint64),
                 ("max_msg", ctypes.c_uint32), ("producer_pid", ctypes.c_int32),
                 ("producer_alive", ctypes.c_uint32), ("registered", ctypes.c_uint32)]
                + [(n, ctypes.c_uint64) for n in _INFO] + [("reserved", ctypes.c_uint64 * 4)])


assert ctypes.sizeof(_Msg) == 32

_P = ctypes.POINTER
_vp = ctypes.c_void_p
declare("alphacore_channel_create", ctypes.c_int, [ctypes.c_char_p, _P(_Opts), _P(_vp)], errcheck=True)
declare("alphacore_channel_destroy", None, [_vp])
declare("alphacore_channel_unlink", ctypes.c_int, [ctypes.c_char_p], errcheck=True)
declare("alphacore_channel_claim", ctypes.c_int, [_vp, ctypes.c_size_t, _P(_vp)], errcheck=True)
declare("alphacore_channel_commit", ctypes.c_int, [_vp, _vp], errcheck=True)
declare("alphacore_channel_publish", ctypes.c_int, [_vp, _vp, ctypes.c_size_t], errcheck=True)
declare("alphacore_channel_heartbeat", ctypes.c_int, [_vp], errcheck=True)
declare("alphacore_channel_open", ctypes.c_int, [ctypes.c_char_p, _P(_ReaderOpts), _P(_vp)], errcheck=True)
declare("alphacore_channel_reader_close", None, [_vp])
declare("alphacore_channel_poll", ctypes.c_int, [_vp, _P(_Msg), ctypes.c_uint32])
declare("alphacore_channel_poll_copy", ctypes.c_int, [_vp, _P(_Msg), ctypes.c_uint32, _vp, ctypes.c_size_t])
declare("alphacore_channel_reader_check", ctypes.c_int, [_vp])
declare("alphacore_channel_wait", ctypes.c_int, [_vp, ctypes.c_int64], errcheck=True)
declare("alphacore_channel_reader_info", ctypes.c_int, [_vp, _P(_Details)], errcheck=True)
declare("alphacore_channel_reader_hist", _vp, [_vp])

# poll results that are not errors for Python callers: a lap, a new producer, a rejected record
# (the reader has already moved on; info() counts them).
_SOFT = (-_errno.EOVERFLOW, -_errno.ECONNRESET, -_errno.EPROTO)


def _name(name: str) -> bytes:
    return name.encode() if isinstance(name, str) else bytes(name)


class ChannelMessage(NamedTuple):
    seq: int
    ts: int
    data: memoryview


def _msg_dtype():
    import numpy as np
    return np.dtype([("data", "<u8"), ("len", "<u4"), ("flags", "<u4"), ("seq", "<u8"), ("ts", "<u8")])


MSG_DTYPE = None   # numpy dtype of alphacore_channel_msg, set on first use (numpy is optional)


class Channel(Owned):
    """The producer of the channel `name` (creates it, or takes over one whose producer is gone)."""

    __slots__ = ("_owned", "_claim", "name", "max_msg", "__weakref__")
    _destroy = staticmethod(lib.alphacore_channel_destroy)

    def __init__(self, name: str, capacity: int = 1 << 20, max_msg: int = 4096, *, backpressure: bool = False,
                 cycles: bool = False, nonblock: bool = False, no_time: bool = False, node: int = -1,
                 mem_flags: int = 0, wait_timeout_ns: int = 0):
        self._claim = None
        o = _Opts(ctypes.sizeof(_Opts), (BACKPRESSURE if backpressure else 0) | (CYCLES if cycles else 0)
                  | (NONBLOCK if nonblock else 0) | (NO_TIME if no_time else 0), capacity, max_msg, node, mem_flags, 0, wait_timeout_ns)
        h = _vp()
        lib.alphacore_channel_create(_name(name), ctypes.byref(o), ctypes.byref(h))
        self._own(h.value)
        self.name = name
        self.max_msg = max_msg

    def publish(self, data) -> None:
        """Copies `data` (bytes, bytearray, memoryview or numpy array) into the ring as one message."""
        if isinstance(data, bytes):
            lib.alphacore_channel_publish(self.handle, data, len(data))
            return
        mv = memoryview(data).cast("B")
        if mv.readonly:
            b = mv.tobytes()
            lib.alphacore_channel_publish(self.handle, b, len(b))
        else:
            buf = (ctypes.c_char * len(mv)).from_buffer(mv)
            lib.alphacore_channel_publish(self.handle, ctypes.addressof(buf), len(mv))

    def claim(self, n: int) -> memoryview:
        """Reserves n bytes in the ring: write the message into the returned memoryview, then commit()."""
        p = _vp()
        lib.alphacore_channel_claim(self.handle, n, ctypes.byref(p))
        self._claim = p.value
        return memoryview((ctypes.c_char * n).from_address(p.value)).cast("B")

    def commit(self) -> None:
        """Publishes the open claim."""
        p, self._claim = self._claim, None
        lib.alphacore_channel_commit(self.handle, p)

    def heartbeat(self) -> None:
        lib.alphacore_channel_heartbeat(self.handle)

    @staticmethod
    def unlink(name: str) -> None:
        lib.alphacore_channel_unlink(_name(name))


class _LiveHist:
    """What ChannelReader.add_to_metrics returns: the registry's key for metrics.remove."""

    __slots__ = ("handle",)

    def __init__(self, handle):
        self.handle = handle


class ChannelReader(Owned):
    """A consumer of the channel `name`, from any process."""

    __slots__ = ("_owned", "_msgs", "_cap", "_buf", "_buf_addr", "_meta", "__weakref__")
    _destroy = staticmethod(lib.alphacore_channel_reader_close)

    def __init__(self, name: str, *, hist: bool = False, from_oldest: bool = False, observer: bool = False,
                 sleep: bool = False, spin_ns: int = 50_000, batch: int = 1024):
        flags = ((READER_HIST if hist else 0) | (READER_FROM_OLDEST if from_oldest else 0)
                 | (READER_OBSERVER if observer else 0) | (READER_SLEEP if sleep else 0))
        o = _ReaderOpts(ctypes.sizeof(_ReaderOpts), flags, spin_ns)
        h = _vp()
        lib.alphacore_channel_open(_name(name), ctypes.byref(o), ctypes.byref(h))
        self._own(h.value)
        self._cap = max(1, int(batch))
        self._msgs = (_Msg * self._cap)()
        self._buf = None
        self._buf_addr = 0
        self._meta = None

    def _poll(self, n: int) -> int:
        return lib.alphacore_channel_poll(self.handle, self._msgs, min(n, self._cap))

    def poll(self, max: Optional[int] = None) -> list:
        """Up to `max` messages as (seq, ts, memoryview into the ring); [] when nothing is new."""
        n = self._poll(max or self._cap)
        if n < 0:
            if n in _SOFT:
                return []
            raise AlphacoreError(-n, "alphacore_channel_poll")
        out = []
        for i in range(n):
            m = self._msgs[i]
            data = memoryview((ctypes.c_char * m.len).from_address(m.data)).cast("B") if m.len else memoryview(b"")
            out.append(ChannelMessage(m.seq, m.ts, data))
        return out

    def check(self) -> bool:
        """True if every message of the latest poll is still intact (not yet overwritten)."""
        return lib.alphacore_channel_reader_check(self.handle) == 0

    def poll_array(self, dtype, max: Optional[int] = None):
        """Up to `max` fixed-size messages (each exactly dtype.itemsize bytes) copied in one call
        into the reader's buffer, returned as a numpy structured array over it (valid until the
        next poll_array). `last_meta` then holds their seq and ts."""
        import numpy as np
        global MSG_DTYPE
        if MSG_DTYPE is None:
            MSG_DTYPE = _msg_dtype()
        dtype = np.dtype(dtype)
        want = min(max or self._cap, self._cap)
        need = want * dtype.itemsize
        if self._buf is None or self._buf.nbytes < need:
            self._buf = np.empty(need, dtype=np.uint8)
            self._buf_addr = self._buf.ctypes.data
        n = lib.alphacore_channel_poll_copy(self.handle, self._msgs, want, self._buf_addr, need)
        if n < 0:
            if n in _SOFT:
                n = 0
            else:
                raise AlphacoreError(-n, "alphacore_channel_poll_copy")
        meta = np.frombuffer(self._msgs, dtype=MSG_DTYPE, count=n)
        if n and not (meta["len"] == dtype.itemsize).all():
            raise ValueError("a message is not %d bytes long (dtype %s)" % (dtype.itemsize, dtype))
        self._meta = meta
        return self._buf[: n * dtype.itemsize].view(dtype)

    @property
    def last_meta(self):
        """seq and ts (numpy structured array MSG_DTYPE) of the latest poll_array."""
        return self._meta

    def wait(self, timeout_ns: int = -1) -> bool:
        """Waits until poll has something (True) or timeout_ns passes (False; -1 = no limit)."""
        return lib.alphacore_channel_wait(self.handle, timeout_ns) == 1

    def info(self) -> dict:
        d = _Details()
        d.struct_size = ctypes.sizeof(_Details)
        lib.alphacore_channel_reader_info(self.handle, ctypes.byref(d))
        out = {n: getattr(d, n) for n in ("flags", "capacity", "max_msg", "producer_pid")}
        out["producer_alive"] = bool(d.producer_alive)
        out["registered"] = bool(d.registered)
        out.update({n: getattr(d, n) for n in _INFO})
        return out

    def add_to_metrics(self, metrics, name: str = "alphacore_channel_publish_to_poll",
                       help: str = "Publish-to-poll latency of a channel reader.", labels=None):
        """Registers this reader's live latency histogram (opened with hist=True) with an
        alphacore.Metrics registry: scrapes read what poll records. Returns a token; call
        metrics.remove(token) before closing the reader."""
        from .metrics import _b, _opts, render_labels
        h = lib.alphacore_channel_reader_hist(self.handle)
        if not h:
            raise ValueError("the reader was not opened with hist=True")
        o, keep = _opts(3, None)
        lib.alphacore_metrics_add_hist(metrics.handle, name.encode(), help.encode(), _b("seconds"),
                                       render_labels(labels), h, ctypes.byref(o))
        del keep
        token = _LiveHist(h)
        metrics._refs[h] = self   # the registry keeps the reader (and its histogram) alive
        return token

    def hist(self):
        """A copy of the publish-to-poll latency histogram (ns), if the reader was opened with hist=True."""
        from .hist import Histogram
        h = lib.alphacore_channel_reader_hist(self.handle)
        if not h:
            return None
        out = _vp()
        lib.alphacore_hist_copy(h, ctypes.byref(out))
        return Histogram(_handle=out.value)
