"""libalphacore for Python: ctypes over the shared library.

    import alphacore
    alphacore.version()

Failures raise ``alphacore.AlphacoreError``, an ``OSError`` whose ``errno`` is the library's
error and whose ``detail`` holds the library's explanation.
"""
from ._lib import AlphacoreError, library_path
from . import cpu
from .core import (cycles, cycles_per_second, cycles_to_ns, last_detail, now_ns, strerror,
                   version, version_number)
from .hist import Histogram, LogReader, Recorder, log_header, percentile_table
from .memory import Region, hugepage_pools
from .doctor import doctor, doctor_text
from .reader import COMPLETION_DTYPE, Completion, Reader
from . import metrics
from .channel import Channel, ChannelReader

__version__ = "0.1.0"

__all__ = ["AlphacoreError", "library_path", "version", "version_number", "strerror",
           "last_detail", "now_ns", "cycles", "cycles_to_ns", "cycles_per_second", "Region", "hugepage_pools"]
__all__ += ["cpu"]  # CPU placement: alphacore.cpu
__all__ += ["Histogram", "Recorder", "LogReader", "log_header", "percentile_table"]  # latency
__all__ += ["doctor", "doctor_text"]  # the doctor
__all__ += ["Reader", "Completion", "COMPLETION_DTYPE"]  # batched reads
__all__ += ["metrics"]  # Prometheus: alphacore.metrics
__all__ += ["Channel", "ChannelReader"]  # channels: alphacore.Channel, alphacore.ChannelReader
