"""The C allocator setting that keeps training on long records out of the kernel.

glibc's ``malloc`` serves blocks above its mmap threshold (at most 32 MiB by default)
with ``mmap`` and returns them with ``munmap`` when freed.  A convolution over long
records makes activations of a hundred megabytes or more per mini-batch, allocated and
freed at every step, so every step maps fresh pages and the kernel zero-fills them: on
2,400 windows of 3,000 samples, half of a fit's CPU time was system time, with about
12 million page faults for 3 epochs (``benchmarks/allocator.py``).

:func:`keep_freed_memory` raises the mmap threshold (to 1 GiB) and the trim threshold (to
2 GiB), so those blocks come from the heap and stay there for the next step.  The cost:
memory freed after a step stays with the process (up to 2 GiB) instead of going back to
the system, so its resident size stays near its peak rather than dropping between steps.  It is applied once per process, by the first candidate a process trains, only on
Linux with glibc, and never when the environment variable ``AUTONET_MALLOPT`` is ``0``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

#: glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 1 << 30
TRIM_THRESHOLD = (1 << 31) - 1  # the largest int: freed heap memory is never trimmed below the peak

_state = {"applied": None}


def keep_freed_memory():
    """Raise glibc's mmap and trim thresholds once per process; True when they are raised.

    Returns False (and changes nothing) off Linux, with another C library, or when
    ``AUTONET_MALLOPT=0``.

    Examples
    --------
    >>> keep_freed_memory() in (True, False)
    True
    """
    if _state["applied"] is not None:
        return _state["applied"]
    applied = False
    if os.environ.get("AUTONET_MALLOPT", "1") != "0" and platform.system() == "Linux" and \
            platform.libc_ver()[0] == "glibc":
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            applied = bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
                libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
            )
        except (OSError, AttributeError):
            applied = False
    _state["applied"] = applied
    return applied
