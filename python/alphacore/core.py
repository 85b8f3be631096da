"""Version, errors and clock."""
from __future__ import annotations

from ._lib import lib

__all__ = ["version", "version_number", "strerror", "last_detail", "now_ns", "cycles",
           "cycles_to_ns", "cycles_per_second"]


def version() -> str:
    """The loaded library's version, e.g. "0.1.0"."""
    return lib.alphacore_version_string().decode()


def version_number() -> int:
    """major * 10000 + minor * 100 + patch."""
    return lib.alphacore_version_number()


def strerror(err: int) -> str:
    """The library's description of an error code (either sign)."""
    return lib.alphacore_strerror(err).decode("utf-8", "replace")


def last_detail() -> str:
    """Words about the most recent failure on this thread."""
    return lib.alphacore_last_detail().decode("utf-8", "replace")


def now_ns() -> int:
    """CLOCK_MONOTONIC in nanoseconds."""
    return lib.alphacore_now_ns()


def cycles() -> int:
    """The CPU cycle counter."""
    return lib.alphacore_cycles()


def cycles_to_ns(n: int) -> int:
    """Cycles to nanoseconds with the once-calibrated frequency (n is taken modulo 2**64)."""
    return lib.alphacore_cycles_to_ns(n & 0xFFFFFFFFFFFFFFFF)


def cycles_per_second() -> int:
    """The calibrated cycle-counter frequency in Hz."""
    return lib.alphacore_cycles_per_second()
