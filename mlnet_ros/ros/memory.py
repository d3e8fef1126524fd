"""Keep the node's resident memory from creeping: glibc malloc arenas and trimming.

A node that copies multi-megabyte camera frames and model tensors from several threads makes
glibc keep freed blocks in per-thread arenas (up to 8 per core) and in the heap, so RSS grows
and does not come back. At most 2 arenas, and their free pages returned to the OS once a
second. No-ops where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_ARENA_MAX = -8
ARENA_MAX = 2


def _glibc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018 - both exist only in glibc
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _glibc()


def limit_malloc_arenas() -> None:
    """Limit the malloc arenas (call before the node's threads start)."""
    if _LIBC is not None:
        _LIBC.mallopt(_M_ARENA_MAX, ARENA_MAX)


def release_free_heap() -> None:
    """Return the free pages of every malloc arena to the OS (a few ms)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
