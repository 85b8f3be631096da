"""alphacore.metrics through ctypes: the registry, slots, the prometheus_client collector
(parsed back with prometheus_client.parser), the server and bad input."""
import errno
import gzip
import socket
import urllib.request

import numpy as np
import pytest

import alphacore
from alphacore import metrics


def test_registry_histogram_text_and_collector():
    with metrics.Registry() as reg:
        h = reg.histogram("py_latency", "Latency from Python.", labels={"venue": 'X"N\\AS'})
        h.record_many(np.array([1000] * 10 + [3_000_000] * 5, dtype=np.int64))
        c = reg.counter("py_orders", "Orders.", labels={"venue": "XNAS"})
        c.inc(3)
        g = reg.gauge("py_depth", "Depth.")
        g.set(-2)
        text = reg.write("text").decode()
        assert 'py_latency_seconds_bucket{venue="X\\"N\\\\AS",le="1e-06"} 10\n' in text
        assert 'py_latency_seconds_count{venue="X\\"N\\\\AS"} 15\n' in text
        assert 'py_orders_total{venue="XNAS"} 3\n' in text
        assert "py_depth -2\n" in text
        assert reg.write("openmetrics").endswith(b"# EOF\n")
        pb = reg.write("protobuf")
        assert len(pb) > 0 and pb[1] == 0x0A or pb[2] == 0x0A

        prometheus_client = pytest.importorskip("prometheus_client")
        from prometheus_client.parser import text_string_to_metric_families
        pr = prometheus_client.CollectorRegistry()
        pr.register(metrics.Collector(reg))
        fams = {f.name: f for f in text_string_to_metric_families(prometheus_client.generate_latest(pr).decode())}
        lat = fams["py_latency_seconds"]
        assert lat.type == "histogram"
        samples = {(s.name, s.labels.get("le")): s.value for s in lat.samples}
        assert samples[("py_latency_seconds_bucket", "1e-06")] == 10
        assert samples[("py_latency_seconds_bucket", "+Inf")] == 15
        assert samples[("py_latency_seconds_count", None)] == 15
        assert abs(samples[("py_latency_seconds_sum", None)] - (10e-6 + 15e-3)) < 1e-4
        assert lat.samples[0].labels["venue"] == 'X"N\\AS'
        assert fams["py_orders"].type == "counter" and fams["py_orders"].samples[0].value == 3
        assert fams["py_depth"].samples[0].value == -2
        assert reg.remove(h) == 1
        assert b"py_latency" not in reg.write()


def test_bad_input():
    with metrics.Registry() as reg:
        with pytest.raises(alphacore.AlphacoreError) as e:
            reg.counter("bad-name")
        assert e.value.errno == errno.EINVAL and "'-' at byte 3" in e.value.detail
        with pytest.raises(alphacore.AlphacoreError) as e:
            reg.counter("ok", labels='a="unterminated')
        assert e.value.errno == errno.EINVAL
        reg.counter("dup")
        with pytest.raises(alphacore.AlphacoreError) as e:
            reg.counter("dup")
        assert e.value.errno == errno.EEXIST
        with pytest.raises(alphacore.AlphacoreError) as e:
            reg.histogram("h", schema=9)
        assert e.value.errno == errno.EINVAL
        with pytest.raises(alphacore.AlphacoreError) as e:
            reg.serve("10.1.2.3:0")
        assert e.value.errno == errno.EINVAL and "not loopback" in e.value.detail
        with pytest.raises(alphacore.AlphacoreError) as e:
            reg.serve("127.0.0.1:http")
        assert e.value.errno == errno.EINVAL
        with reg.serve() as s:
            with pytest.raises(alphacore.AlphacoreError) as e:
                reg.serve(f"127.0.0.1:{s.port}")
            assert e.value.errno == errno.EADDRINUSE
        with pytest.raises(KeyError):
            reg.write("xml")


def test_server_negotiation_gzip_keepalive():
    with metrics.Registry() as reg:
        reg.counter("served", "Served.").inc(7)
        with reg.serve() as srv:
            url = f"http://127.0.0.1:{srv.port}/metrics"
            req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
            with urllib.request.urlopen(req, timeout=5) as r:
                assert r.headers["Content-Encoding"] == "gzip"
                assert b"served_total 7\n" in gzip.decompress(r.read())
            accept = ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,"
                      "application/openmetrics-text;version=1.0.0;q=0.6,text/plain;version=0.0.4;q=0.3")
            with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": accept}), timeout=5) as r:
                assert r.headers["Content-Type"].startswith("application/vnd.google.protobuf")
                assert r.read() == reg.write("protobuf")
            with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": accept.replace("q=0.7", "q=0.1")}),
                                        timeout=5) as r:
                assert r.headers["Content-Type"].startswith("application/openmetrics-text")
            # Keep-alive: two requests on one connection, both answered.
            with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                data = b""
                while data.count(b"served_total 7\n") < 2:
                    chunk = s.recv(65536)
                    assert chunk
                    data += chunk
                assert data.count(b"HTTP/1.1 200 OK") == 2
