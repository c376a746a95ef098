"""This process's own resource use, for benchmarks and the upload reader's memory report.

``peak_mb`` reads VmHWM from /proc/self/status: Linux keeps ``ru_maxrss`` across fork + exec, so a child
started by a parent that had grown to 1 GB reported that 1 GB as its own (bench_import once printed
1,123.98 MB for both phases); VmHWM belongs to the process's own address space, which exec starts afresh.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path


def peak_mb() -> float:
    """This process's own peak resident memory, in MB (``ru_maxrss`` where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 if sys.platform != "darwin" else 2**20)


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
