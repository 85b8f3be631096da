"""Metrics for Prometheus: a registry of histograms, recorders, readers, counters and gauges,
written as Prometheus text 0.0.4, OpenMetrics 1.0 or protobuf with native histograms.

    import alphacore
    from alphacore import metrics
    reg = metrics.Registry()
    h = reg.histogram("order_latency", "Order to ack.", labels={"venue": "XNAS"})  # an alphacore.Histogram
    h.record_many(ns_array)                       # one C call for a numpy array
    orders = reg.counter("orders", "Orders sent.")
    orders.inc()
    print(reg.write("text").decode())

    # prometheus_client users: one call exports everything the registry holds.
    prometheus_client.REGISTRY.register(metrics.Collector(reg))

The registry keeps a reference to everything registered through it, so a histogram is not
garbage-collected while a scrape may read it; close one only after ``reg.remove(obj)``.
"""
from __future__ import annotations

import ctypes
from ctypes import POINTER, c_char_p, c_double, c_int, c_int64, c_size_t, c_uint32, c_uint64, c_void_p

from ._lib import Closeable, declare, lib
from .hist import Histogram, Recorder

__all__ = ["Registry", "Server", "Counter", "Gauge", "Collector", "FORMATS", "render_labels"]

FORMATS = {"text": 0, "openmetrics": 1, "protobuf": 2}


class MetricOpts(ctypes.Structure):
    _fields_ = [("struct_size", c_uint32), ("schema", ctypes.c_int32), ("bounds", POINTER(c_double)),
                ("bound_count", c_uint32), ("reserved0", c_uint32), ("reserved", c_uint64 * 4)]


_R = c_void_p
declare("alphacore_metrics_create", c_int, [POINTER(c_void_p)], errcheck=True)
declare("alphacore_metrics_destroy", None, [_R])
declare("alphacore_metrics_add_hist", c_int, [_R, c_char_p, c_char_p, c_char_p, c_char_p, c_void_p,
                                              POINTER(MetricOpts)], errcheck=True)
declare("alphacore_metrics_add_recorder", c_int, [_R, c_char_p, c_char_p, c_char_p, c_char_p, c_void_p,
                                                  POINTER(MetricOpts)], errcheck=True)
declare("alphacore_metrics_add_reader", c_int, [_R, c_char_p, c_void_p], errcheck=True)
declare("alphacore_metrics_counter", c_int, [_R, c_char_p, c_char_p, c_char_p, c_char_p,
                                             POINTER(POINTER(c_uint64))], errcheck=True)
declare("alphacore_metrics_gauge", c_int, [_R, c_char_p, c_char_p, c_char_p, c_char_p,
                                           POINTER(POINTER(c_int64))], errcheck=True)
declare("alphacore_metrics_add_host", c_int, [_R, c_char_p], errcheck=True)
declare("alphacore_metrics_add_thread", c_int, [_R, c_char_p, c_char_p], errcheck=True)
declare("alphacore_metrics_remove", c_int, [_R, c_void_p], errcheck=True)
declare("alphacore_metrics_write", c_int64, [_R, c_int, c_void_p, c_size_t], errcheck=True)


class ServeOpts(ctypes.Structure):
    _fields_ = [("struct_size", c_uint32), ("flags", c_uint32), ("cpus", c_char_p),
                ("max_connections", c_uint32), ("request_timeout_ms", c_uint32), ("idle_timeout_ms", c_uint32),
                ("max_request_bytes", c_uint32), ("max_headers", c_uint32), ("reserved0", c_uint32),
                ("reserved", c_uint64 * 4)]


SERVE_REMOTE = 0x1
declare("alphacore_metrics_serve", c_int, [_R, c_char_p, POINTER(ServeOpts), POINTER(c_void_p)], errcheck=True)
declare("alphacore_metrics_server_port", c_int, [c_void_p], errcheck=True)
declare("alphacore_metrics_server_stop", c_int, [c_void_p], errcheck=True)


def render_labels(labels) -> bytes | None:
    """A dict (or the string form itself) as the C ABI's label string `a="x",b="y"`."""
    if labels is None:
        return None
    if isinstance(labels, (str, bytes)):
        return labels.encode() if isinstance(labels, str) else labels
    parts = []
    for k, v in labels.items():
        v = str(v).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        parts.append(f'{k}="{v}"')
    return ",".join(parts).encode()


def _b(s):
    return None if s is None else s.encode()


def _opts(schema, bounds):
    o = MetricOpts()
    o.struct_size = ctypes.sizeof(MetricOpts)
    o.schema = schema
    keep = None
    if bounds is not None:
        keep = (c_double * len(bounds))(*bounds)
        o.bounds = ctypes.cast(keep, POINTER(c_double))
        o.bound_count = len(bounds)
    return o, keep


class Counter:
    """A counter slot the registry owns; ``inc`` adds from Python (C code adds to the slot directly)."""

    __slots__ = ("_slot", "_reg")

    def __init__(self, slot, reg):
        self._slot, self._reg = slot, reg

    def inc(self, n: int = 1) -> None:
        self._slot[0] += n

    @property
    def value(self) -> int:
        return self._slot[0]

    @property
    def address(self) -> int:
        return ctypes.cast(self._slot, c_void_p).value


class Gauge(Counter):
    """A gauge slot (signed 64-bit)."""

    __slots__ = ()

    def set(self, v: int) -> None:
        self._slot[0] = v


class Registry(Closeable):
    """One alphacore_metrics handle. MT-Safe."""

    __slots__ = ("_h", "_refs", "__weakref__")

    def __init__(self):
        self._h = None
        self._refs: dict = {}
        out = c_void_p()
        lib.alphacore_metrics_create(ctypes.byref(out))
        self._h = out.value

    def close(self) -> None:
        if self._h:
            lib.alphacore_metrics_destroy(self._h)
            self._h = None
            self._refs.clear()

    @property
    def handle(self) -> int:
        if not self._h:
            raise ValueError("Registry is closed")
        return self._h

    def add_histogram(self, name, hist, help="", unit="seconds", labels=None, schema=3, bounds=None):
        """Registers an alphacore.Histogram or alphacore.Recorder (values in ns for unit "seconds")."""
        o, keep = _opts(schema, bounds)
        fn = lib.alphacore_metrics_add_recorder if isinstance(hist, Recorder) else lib.alphacore_metrics_add_hist
        fn(self.handle, name.encode(), help.encode(), _b(unit), render_labels(labels), hist.handle, ctypes.byref(o))
        del keep
        self._refs[hist.handle] = hist
        return hist

    def histogram(self, name, help="", labels=None, unit="seconds", lowest=1, highest=3_600_000_000_000,
                  digits=3, schema=3, bounds=None) -> Histogram:
        """A new alphacore.Histogram, registered (record into it; ``record_many`` takes numpy)."""
        return self.add_histogram(name, Histogram(lowest, highest, digits), help, unit, labels, schema, bounds)

    def recorder(self, name, help="", labels=None, unit="seconds", lowest=1, highest=3_600_000_000_000,
                 digits=3, schema=3, bounds=None) -> Recorder:
        """A new alphacore.Recorder (many writer threads), registered."""
        return self.add_histogram(name, Recorder(lowest, highest, digits), help, unit, labels, schema, bounds)

    def add_reader(self, reader, labels=None) -> None:
        lib.alphacore_metrics_add_reader(self.handle, render_labels(labels), reader._h)
        self._refs[reader._h] = reader

    def counter(self, name, help="", unit="", labels=None) -> Counter:
        slot = POINTER(c_uint64)()
        lib.alphacore_metrics_counter(self.handle, name.encode(), help.encode(), unit.encode(),
                                      render_labels(labels), ctypes.byref(slot))
        return Counter(slot, self)

    def gauge(self, name, help="", unit="", labels=None) -> Gauge:
        slot = POINTER(c_int64)()
        lib.alphacore_metrics_gauge(self.handle, name.encode(), help.encode(), unit.encode(),
                                    render_labels(labels), ctypes.byref(slot))
        return Gauge(slot, self)

    def add_host(self, labels=None) -> None:
        lib.alphacore_metrics_add_host(self.handle, render_labels(labels))

    def add_thread(self, name: str, labels=None) -> None:
        """Registers the calling thread (after pinning it)."""
        lib.alphacore_metrics_add_thread(self.handle, name.encode(), render_labels(labels))

    def remove(self, obj) -> int:
        """Unregisters everything reading obj (a Histogram, Recorder, Reader, Counter or Gauge)."""
        h = obj.address if isinstance(obj, Counter) else (obj._h if hasattr(obj, "_h") else obj.handle)
        n = lib.alphacore_metrics_remove(self.handle, h)
        self._refs.pop(h, None)
        return n

    def serve(self, listen: str = "127.0.0.1:0", **kw) -> Server:
        """Starts the scrape endpoint (see Server)."""
        return Server(self, listen, **kw)

    def write(self, format: str = "text") -> bytes:
        """The whole registry in one format: "text", "openmetrics" or "protobuf"."""
        fmt = FORMATS[format]
        cap = 1 << 16
        while True:
            buf = ctypes.create_string_buffer(cap)
            n = lib.alphacore_metrics_write(self.handle, fmt, buf, cap)
            if n < cap:
                return buf.raw[:n]
            cap = n + 1


class Server(Closeable):
    """The scrape endpoint (one thread serving GET /metrics). ``close()`` stops it."""

    __slots__ = ("_h", "registry", "__weakref__")

    def __init__(self, registry: "Registry", listen: str = "127.0.0.1:0", *, cpus: str | None = None,
                 remote: bool = False, max_connections: int = 0, request_timeout_ms: int = 0,
                 max_request_bytes: int = 0, max_headers: int = 0):
        self._h = None
        self.registry = registry
        o = ServeOpts()
        o.struct_size = ctypes.sizeof(ServeOpts)
        o.flags = SERVE_REMOTE if remote else 0
        o.cpus = None if cpus is None else cpus.encode()
        o.max_connections, o.request_timeout_ms = max_connections, request_timeout_ms
        o.max_request_bytes, o.max_headers = max_request_bytes, max_headers
        out = c_void_p()
        lib.alphacore_metrics_serve(registry.handle, listen.encode(), ctypes.byref(o), ctypes.byref(out))
        self._h = out.value

    @property
    def port(self) -> int:
        if not self._h:
            raise ValueError("Server is stopped")
        return lib.alphacore_metrics_server_port(self._h)

    def close(self) -> None:
        if self._h:
            lib.alphacore_metrics_server_stop(self._h)
            self._h = None


class Collector:
    """A prometheus_client collector over a Registry:
    ``prometheus_client.REGISTRY.register(Collector(reg))``. Each collect() writes the registry in
    the text format and hands prometheus_client the parsed families (histograms with their
    classic buckets, counters, gauges)."""

    def __init__(self, registry: Registry):
        self.registry = registry

    def collect(self):
        from prometheus_client.parser import text_string_to_metric_families
        yield from text_string_to_metric_families(self.registry.write("text").decode())

    def describe(self):
        return []
