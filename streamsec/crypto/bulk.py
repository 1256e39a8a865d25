"""Bulk loading of key stores: no generational GC passes while a million records load.

Each pass of the cyclic garbage collector rescans every object still young enough,
and a key store's records (plain data, no reference cycles) are made by the
million at start-up, so collections would run again and again over them.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["bulk_load"]


@contextlib.contextmanager
def bulk_load() -> Iterator[None]:
    """Pause the cyclic GC inside the block (reference counting still frees memory)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
