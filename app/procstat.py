"""This process's own resource use, for benchmarks and the upload reader's memory report, giving freed
memory back to the system during a long import (``release_free_memory``), and naming a process so that
work it left unfinished can be found when it is gone (``runner_id`` / ``runner_gone``).

``peak_mb`` reads VmHWM from /proc/self/status: Linux keeps ``ru_maxrss`` across fork + exec, so a child
started by a parent that had grown to 1 GB reported that 1 GB as its own (bench_import once printed
1,123.98 MB for both phases); VmHWM belongs to the process's own address space, which exec starts afresh.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import resource
import socket
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


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None  # glibc only (not musl)
    except OSError:
        return None


def release_free_memory() -> bool:
    """Give the C heap's free pages back to the system (glibc ``malloc_trim``; elsewhere nothing).

    A long import allocates and frees many short-lived objects between the ones it keeps (the
    outcome of each record); glibc keeps the freed pages, so the process's resident memory grew with
    the file, not with what it held: applying a 10 MB ledger grew it by 270 MB, 140 MB with a trim
    after each stretch of chunks (bench/bench_import_memory.py). Returns whether a trim ran.
    """
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def runner_id() -> str:
    """This process as ``host:pid`` (stored on work it runs: import jobs, an apply in progress)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


def runner_gone(runner: str) -> bool:
    """Whether the process ``host:pid`` is known to be gone: on this host and no longer running. Work of
    other hosts is never judged from here (False)."""
    host, _, pid_text = runner.rpartition(":")
    if host != socket.gethostname()[:60] or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False
