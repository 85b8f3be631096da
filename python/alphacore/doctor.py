"""The host readiness doctor: ``alphacore.doctor()`` returns the report as a dict.

    import alphacore
    report = alphacore.doctor(cpus="2-5", hugepages="2M:512@0")
    failed = [c for c in report["checks"] if c["severity"] == "fail"]

The schema ("alphacore-doctor/1") is described in docs/doctor.md.
"""
from __future__ import annotations

import ctypes
import json

from ._lib import declare, lib
from ._lib import text as _text

__all__ = ["doctor", "doctor_text", "DOCTOR_PROBE", "DOCTOR_TEXT", "DOCTOR_COLOUR"]

DOCTOR_PROBE = 0x1
DOCTOR_TEXT = 0x2
DOCTOR_COLOUR = 0x4


class DoctorOpts(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("cpus", ctypes.c_char_p), ("hugepages", ctypes.c_char_p),
                ("probe_ms", ctypes.c_uint32), ("reserved0", ctypes.c_uint32),
                ("reserved", ctypes.c_uint64 * 4),
                # 0.2: the feed's network path
                ("nics", ctypes.c_char_p), ("nic_cpus", ctypes.c_char_p), ("burst_bytes", ctypes.c_uint64),
                ("pid", ctypes.c_int32), ("profile", ctypes.c_uint32)]

PROFILES = {"latency": 0, "throughput": 1, "blocking": 1, "spin": 2}


class DoctorSummary(ctypes.Structure):
    _fields_ = [("ok", ctypes.c_uint32), ("info", ctypes.c_uint32), ("unknown", ctypes.c_uint32),
                ("warn", ctypes.c_uint32), ("fail", ctypes.c_uint32), ("checks", ctypes.c_uint32),
                ("worst", ctypes.c_uint32), ("reserved0", ctypes.c_uint32),
                ("elapsed_us", ctypes.c_uint64)]


declare("alphacore_doctor_run", ctypes.c_int,
        [ctypes.POINTER(DoctorOpts), ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(DoctorSummary)],
        errcheck=True)


def _run(cpus, hugepages, flags, probe_ms, net=None) -> str:
    opts = DoctorOpts(ctypes.sizeof(DoctorOpts), flags,
                      cpus.encode() if cpus is not None else None,
                      hugepages.encode() if hugepages is not None else None, probe_ms, 0)
    net = net or {}
    if net.get("nics"):
        opts.nics = ",".join(net["nics"]).encode()
    if net.get("nic_cpus") is not None:
        opts.nic_cpus = net["nic_cpus"].encode()
    opts.burst_bytes = net.get("burst_bytes") or 0
    opts.pid = net.get("pid") or 0
    profile = net.get("profile") or "latency"
    if profile not in PROFILES:
        raise ValueError(f"profile {profile!r}: expected one of {', '.join(PROFILES)}")
    opts.profile = PROFILES[profile]
    return _text(lambda buf, cap: lib.alphacore_doctor_run(ctypes.byref(opts), buf, cap, None), guess=1 << 16)


def doctor(cpus: str | None = None, hugepages: str | None = None, probe: bool = False,
           probe_ms: int = 0, *, nics: list[str] | None = None, nic_cpus: str | None = None,
           burst_bytes: int | None = None, pid: int | None = None, profile: str = "latency") -> dict:
    """Runs the checks (and the probes when asked) and returns the JSON report as a dict.

    ``cpus``: the engine's hot CPUs as a cpulist; ``hugepages``: "SIZE:COUNT[@NODE],...".
    Network keywords: ``nics`` (list of names), ``nic_cpus`` (cpulist), ``burst_bytes``,
    ``pid``, ``profile`` ("latency", "throughput"/"blocking", "spin").
    Reads below ``ALPHACORE_SYSROOT`` when that environment variable is set."""
    net = {"nics": nics, "nic_cpus": nic_cpus, "burst_bytes": burst_bytes, "pid": pid, "profile": profile}
    return json.loads(_run(cpus, hugepages, DOCTOR_PROBE if probe else 0, probe_ms, net))


def doctor_text(cpus: str | None = None, hugepages: str | None = None, probe: bool = False,
                colour: bool = False, probe_ms: int = 0, *, nics: list[str] | None = None,
                nic_cpus: str | None = None, burst_bytes: int | None = None, pid: int | None = None,
                profile: str = "latency") -> str:
    """The same report as a table for people (the same network keywords as doctor())."""
    flags = DOCTOR_TEXT | (DOCTOR_PROBE if probe else 0) | (DOCTOR_COLOUR if colour else 0)
    net = {"nics": nics, "nic_cpus": nic_cpus, "burst_bytes": burst_bytes, "pid": pid, "profile": profile}
    return _run(cpus, hugepages, flags, probe_ms, net)
