"""Bounded memory of what a path has shown, so repeated shapes skip repeated work.

* Benign values: a keyed BLAKE2b digest of each value that gave no finding, per
  path, in one LRU bounded in total size. A value seen again is skipped; a new
  value (a new SSN in a path that was always benign) is analysed in full. Only
  digests are kept, never values, and the key is random per process.
* Path history: how often NER found the whole value to be one entity type. Once
  a path has clearly settled (e.g. always a PERSON), plausible values get that
  type without NER.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Final

__all__ = ["PathMemo"]

_LEARN_AFTER: Final = 16
_LEARN_SHARE: Final = 0.9
_LEARNABLE: Final = frozenset({"PERSON", "LOCATION", "ORGANIZATION", "NRP"})


@dataclass(slots=True)
class _History:
    ner_runs: int = 0
    whole: Counter[str] = field(default_factory=Counter)
    learned: str | None = None


class PathMemo:
    """Benign-value digests (LRU, bounded) and NER history per path. Thread-safe."""

    def __init__(self, max_values: int = 65_536, max_paths: int = 4_096) -> None:
        self._blank = hashlib.blake2b(key=os.urandom(16), digest_size=16)
        self._values: OrderedDict[bytes, None] = OrderedDict()
        self._max_values = max_values
        self._history: dict[str, _History] = {}
        self._max_paths = max_paths
        self._lock = threading.Lock()

    def _digest(self, path: str, text: str) -> bytes:
        h = self._blank.copy()  # keyed once: copying is cheaper than keying again
        h.update(path.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
        h.update(text.encode("utf-8", "surrogatepass"))
        return h.digest()

    def is_benign(self, path: str, text: str) -> bool:
        digest = self._digest(path, text)
        with self._lock:
            if digest in self._values:
                self._values.move_to_end(digest)
                return True
        return False

    def add_benign(self, path: str, text: str) -> None:
        digest = self._digest(path, text)
        with self._lock:
            self._values[digest] = None
            self._values.move_to_end(digest)
            while len(self._values) > self._max_values:
                self._values.popitem(last=False)

    def learned(self, path: str) -> str | None:
        history = self._history.get(path)
        return history.learned if history is not None else None

    def record_ner(self, path: str, whole_entity: str | None) -> None:
        """Record one NER outcome: the type covering the whole value, or None."""
        with self._lock:
            history = self._history.get(path)
            if history is None:
                if len(self._history) >= self._max_paths:
                    return
                history = self._history[path] = _History()
            history.ner_runs += 1
            if whole_entity is not None:
                history.whole[whole_entity] += 1
            if history.learned is None and history.ner_runs >= _LEARN_AFTER:
                entity, count = history.whole.most_common(1)[0] if history.whole else ("", 0)
                if entity in _LEARNABLE and count >= _LEARN_SHARE * history.ner_runs:
                    history.learned = entity

    def __len__(self) -> int:
        return len(self._values)
