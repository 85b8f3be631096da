"""HDR histograms and the interval recorder (HdrHistogram semantics and V2 wire format).

    import numpy as np, alphacore
    with alphacore.Histogram(1, 3_600_000_000_000, 3) as h:
        h.record(1234)
        h.record_many(np.array([20, 30, 40], dtype=np.int64))   # one C call
        print(h.percentile(99.9), h.percentiles([50, 99, 99.9]))
        blob = h.encode()                     # "HISTFAAA...", what hdrh.HdrHistogram.decode reads
        other = alphacore.Histogram.decode(blob)

A negative return from the library raises alphacore.AlphacoreError (an OSError).
"""
from __future__ import annotations

import ctypes
import math
from ctypes import POINTER, c_char_p, c_double, c_int, c_int64, c_size_t, c_void_p

from ._lib import EFORMAT, AlphacoreError, Owned, declare, lib
from ._lib import text as _text

__all__ = ["Histogram", "Recorder", "LogReader", "log_header", "percentile_table"]

_H = c_void_p
_PP = POINTER(c_void_p)


class LogEntry(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("reserved0", ctypes.c_uint32),
                ("start_s", c_double), ("length_s", c_double), ("max", c_double),
                ("tag", ctypes.c_char * 64), ("reserved", ctypes.c_uint64 * 4)]


declare("alphacore_hist_create", c_int, [c_int64, c_int64, c_int, _PP], errcheck=True)
declare("alphacore_hist_destroy", None, [_H])
declare("alphacore_hist_copy", c_int, [_H, _PP], errcheck=True)
declare("alphacore_hist_footprint", c_int64, [_H], errcheck=True)
declare("alphacore_hist_record", c_int, [_H, c_int64], errcheck=True)
declare("alphacore_hist_record_n", c_int, [_H, c_int64, c_int64], errcheck=True)
declare("alphacore_hist_record_atomic", c_int, [_H, c_int64], errcheck=True)
declare("alphacore_hist_record_corrected", c_int, [_H, c_int64, c_int64], errcheck=True)
declare("alphacore_hist_record_batch", c_int, [_H, c_void_p, c_size_t], errcheck=True)
declare("alphacore_hist_value_at_percentile", c_int64, [_H, c_double], errcheck=True)
declare("alphacore_hist_value_at_percentiles", c_int, [_H, c_void_p, c_void_p, c_size_t], errcheck=True)
declare("alphacore_hist_min", c_int64, [_H], errcheck=True)
declare("alphacore_hist_max", c_int64, [_H], errcheck=True)
declare("alphacore_hist_mean", c_double, [_H])
declare("alphacore_hist_stddev", c_double, [_H])
declare("alphacore_hist_mean_stddev", c_int, [_H, POINTER(c_double), POINTER(c_double)], errcheck=True)
declare("alphacore_hist_total_count", c_int64, [_H], errcheck=True)
declare("alphacore_hist_count_at_value", c_int64, [_H, c_int64], errcheck=True)
declare("alphacore_hist_reset", c_int, [_H], errcheck=True)
declare("alphacore_hist_add", c_int64, [_H, _H], errcheck=True)
declare("alphacore_hist_format_percentiles", c_int64, [_H, c_int, c_double, c_void_p, c_size_t], errcheck=True)
declare("alphacore_hist_encode", c_int64, [_H, c_void_p, c_size_t], errcheck=True)
declare("alphacore_hist_encode_level", c_int64, [_H, c_int, c_void_p, c_size_t], errcheck=True)
declare("alphacore_hist_decode", c_int, [c_char_p, c_size_t, _PP], errcheck=True)
declare("alphacore_hist_set_times", c_int, [_H, c_int64, c_int64], errcheck=True)
declare("alphacore_hist_get_times", c_int, [_H, POINTER(c_int64), POINTER(c_int64)], errcheck=True)
declare("alphacore_recorder_create", c_int, [c_int64, c_int64, c_int, _PP], errcheck=True)
declare("alphacore_recorder_destroy", None, [_H])
declare("alphacore_recorder_record", c_int, [_H, c_int64], errcheck=True)
declare("alphacore_recorder_record_batch", c_int, [_H, c_void_p, c_size_t], errcheck=True)
declare("alphacore_recorder_sample", c_int, [_H, _H], errcheck=True)
declare("alphacore_hist_log_header", c_int64, [c_int64, c_int64, c_void_p, c_size_t], errcheck=True)
declare("alphacore_hist_log_interval", c_int64, [_H, c_char_p, c_int64, c_double, c_void_p, c_size_t],
        errcheck=True)
declare("alphacore_hist_log_reader_create", c_int, [c_char_p, c_size_t, _PP], errcheck=True)
declare("alphacore_hist_log_reader_destroy", None, [_H])
declare("alphacore_hist_log_reader_next", c_int, [_H, _PP, POINTER(LogEntry)], errcheck=True)


def _int64_array(values):
    """A C-contiguous int64 numpy array (no copy when it already is one), or None for lists."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a test dependency
        return None
    if isinstance(values, np.ndarray):
        if values.dtype != np.int64:
            if values.dtype.kind not in "iu":
                raise TypeError("record_many needs integer values")
            values = values.astype(np.int64)
        return np.ascontiguousarray(values)
    return np.ascontiguousarray(np.asarray(values, dtype=np.int64))


class Histogram(Owned):
    """An HDR histogram (HdrHistogram bucket semantics). Owns one C handle.

    Values are integers in [0, highest]; others raise AlphacoreError with errno ERANGE.
    Not thread-safe except record_atomic.
    """

    __slots__ = ("_owned", "__weakref__")
    _destroy = staticmethod(lib.alphacore_hist_destroy)

    def __init__(self, lowest: int = 1, highest: int = 3_600_000_000_000, digits: int = 3, *, _handle=None):
        self._own(None)
        if _handle is not None:
            self._own(_handle)
            return
        h = c_void_p()
        lib.alphacore_hist_create(lowest, highest, digits, ctypes.byref(h))
        self._own(h.value)

    def copy(self) -> "Histogram":
        out = c_void_p()
        lib.alphacore_hist_copy(self.handle, ctypes.byref(out))
        return Histogram(_handle=out.value)

    @property
    def footprint(self) -> int:
        return lib.alphacore_hist_footprint(self.handle)

    # recording
    def record(self, value: int, count: int = 1) -> None:
        if count == 1:
            lib.alphacore_hist_record(self.handle, value)
        else:
            lib.alphacore_hist_record_n(self.handle, value, count)

    def record_atomic(self, value: int) -> None:
        lib.alphacore_hist_record_atomic(self.handle, value)

    def record_corrected(self, value: int, expected_interval: int) -> None:
        lib.alphacore_hist_record_corrected(self.handle, value, expected_interval)

    def record_many(self, values) -> None:
        """Records every value of an int64 numpy array (or sequence) in one C call. All or
        nothing: one out-of-range value raises ERANGE and records none."""
        arr = _int64_array(values)
        if arr is None:
            for v in values:
                self.record(v)
            return
        n = arr.shape[0] if arr.ndim == 1 else arr.size
        if n:
            lib.alphacore_hist_record_batch(self.handle, arr.ctypes.data, n)

    # queries
    def percentile(self, p: float) -> int:
        return lib.alphacore_hist_value_at_percentile(self.handle, p)

    def percentiles(self, ps) -> list:
        ps = [float(p) for p in ps]
        n = len(ps)
        if n == 0:
            return []
        pin = (c_double * n)(*ps)
        out = (c_int64 * n)()
        lib.alphacore_hist_value_at_percentiles(self.handle, pin, out, n)
        return list(out)

    value_at_percentile = percentile

    @property
    def min(self) -> int:
        return lib.alphacore_hist_min(self.handle)

    @property
    def max(self) -> int:
        return lib.alphacore_hist_max(self.handle)

    @property
    def mean(self) -> float:
        return lib.alphacore_hist_mean(self.handle)

    @property
    def stddev(self) -> float:
        return lib.alphacore_hist_stddev(self.handle)

    @property
    def total_count(self) -> int:
        return lib.alphacore_hist_total_count(self.handle)

    def __len__(self) -> int:
        return self.total_count

    def count_at(self, value: int) -> int:
        return lib.alphacore_hist_count_at_value(self.handle, value)

    def reset(self) -> None:
        lib.alphacore_hist_reset(self.handle)

    def add(self, other: "Histogram") -> int:
        """Adds other into self; returns how many of other's values did not fit."""
        return lib.alphacore_hist_add(self.handle, other.handle)

    def times(self):
        s, e = c_int64(), c_int64()
        lib.alphacore_hist_get_times(self.handle, ctypes.byref(s), ctypes.byref(e))
        return s.value, e.value

    def set_times(self, start_ns: int, end_ns: int) -> None:
        lib.alphacore_hist_set_times(self.handle, start_ns, end_ns)

    def format_percentiles(self, ticks_per_half_distance: int = 5, value_scale: float = 1.0) -> str:
        """HdrHistogram's outputPercentileDistribution text."""
        return _text(lib.alphacore_hist_format_percentiles, self.handle, ticks_per_half_distance, value_scale)

    # wire format
    def encode(self, level: int = -1) -> str:
        """V2 compressed base64. The default zlib level (-1) is byte-identical to hdrh's encode()
        for the same counts; levels 0-9 trade size for speed and decode to the same counts."""
        if level == -1:
            return _text(lib.alphacore_hist_encode, self.handle)
        return _text(lib.alphacore_hist_encode_level, self.handle, level)

    @classmethod
    def decode(cls, blob) -> "Histogram":
        if isinstance(blob, str):
            blob = blob.encode("ascii")
        out = c_void_p()
        lib.alphacore_hist_decode(blob, len(blob), ctypes.byref(out))
        return cls(_handle=out.value)

    def to_hdrh(self):
        """An hdrh.histogram.HdrHistogram with the same configuration and counts."""
        from hdrh.histogram import HdrHistogram
        return HdrHistogram.decode(self.encode())

    @classmethod
    def from_hdrh(cls, other) -> "Histogram":
        blob = other.encode()
        return cls.decode(blob)

    def log_line(self, tag: str | None = None, base_ns: int = 0, max_value_divisor: float = 1e6) -> str:
        """One interval-log line for this histogram (its start/end times)."""
        t = tag.encode() if tag is not None else None
        return _text(lib.alphacore_hist_log_interval, self.handle, t, base_ns, max_value_divisor)


class Recorder(Owned):
    """Interval recorder: record() from any thread without locks; sample() returns a new
    Histogram with the values recorded since the previous sample."""

    __slots__ = ("_owned", "_config")
    _destroy = staticmethod(lib.alphacore_recorder_destroy)

    def __init__(self, lowest: int = 1, highest: int = 3_600_000_000_000, digits: int = 3):
        self._own(None)
        r = c_void_p()
        lib.alphacore_recorder_create(lowest, highest, digits, ctypes.byref(r))
        self._own(r.value)
        self._config = (lowest, highest, digits)

    def record(self, value: int) -> None:
        lib.alphacore_recorder_record(self.handle, value)

    def record_many(self, values) -> None:
        arr = _int64_array(values)
        if arr is None:
            for v in values:
                self.record(v)
            return
        if arr.size:
            lib.alphacore_recorder_record_batch(self.handle, arr.ctypes.data, arr.size)

    def sample(self, into: Histogram | None = None) -> Histogram:
        if into is None:
            into = Histogram(*self._config)
        lib.alphacore_recorder_sample(self.handle, into.handle)
        return into


def log_header(start_ns: int = 0, base_ns: int = 0) -> str:
    """The interval-log header lines (format version, StartTime, BaseTime, legend)."""
    return _text(lib.alphacore_hist_log_header, start_ns, base_ns)


class LogReader(Owned):
    """Iterates an interval log's histograms: yields (Histogram, start_s, length_s, max, tag)."""

    _destroy = staticmethod(lib.alphacore_hist_log_reader_destroy)

    def __init__(self, text):
        if isinstance(text, str):
            text = text.encode()
        self._own(None)
        r = c_void_p()
        lib.alphacore_hist_log_reader_create(text, len(text), ctypes.byref(r))
        self._own(r.value)

    def __iter__(self):
        return self

    def __next__(self):
        if self.closed:
            raise StopIteration
        out = c_void_p()
        entry = LogEntry()
        entry.struct_size = ctypes.sizeof(LogEntry)
        if lib.alphacore_hist_log_reader_next(self.handle, ctypes.byref(out), ctypes.byref(entry)) == 0:
            raise StopIteration
        tag = entry.tag.decode() or None
        return Histogram(_handle=out.value), entry.start_s, entry.length_s, entry.max, tag


def percentile_table(text, ticks_per_half_distance: int = 5, value_scale: float = 1.0) -> str:
    """The percentile table of an encoded histogram or of a whole interval log (intervals added)."""
    if isinstance(text, bytes):
        text = text.decode()
    stripped = text.strip()
    if stripped.startswith("HIST") and "\n" not in stripped:
        h = Histogram.decode(stripped)
    else:
        h = None
        for part, *_ in LogReader(text):
            if h is None:
                h = part
            else:
                h.add(part)
                part.close()
        if h is None:
            raise AlphacoreError(EFORMAT, "percentile_table", "no histogram in the text")
    try:
        return h.format_percentiles(ticks_per_half_distance, value_scale)
    finally:
        h.close()
