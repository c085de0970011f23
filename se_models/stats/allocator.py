"""glibc's allocator kept from fragmenting over a long statistics run: large buffers always mapped, freed at once."""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys

M_MMAP_THRESHOLD = -3     # mallopt's parameter number (malloc.h)
MMAP_THRESHOLD = 128 * 1024  # glibc's own default, but fixed: the dynamic rise is what lets the heap fragment


@functools.cache
def fix_mmap_threshold() -> bool:
    """Fix glibc's mmap threshold at 128 KiB for this process; True if set (Linux with glibc), else a no-op.

    glibc starts at 128 KiB but raises the threshold to the size of any mapped block that is freed, so after the first
    batch every forward pass's activations (megabytes each) come from the heap, between the small long-lived arrays the
    statistics keep; the heap then fragments and the peak resident memory grows with the number of images (+26 MB
    from 2 000 to 20 000 CIFAR-10 images, docs/performance.md). Fixed, large buffers are mapped and unmapped whole:
    the peak stays flat. Python has no binding for mallopt, hence ctypes."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))  # musl has no mallopt: AttributeError
    except (OSError, AttributeError):
        return False
