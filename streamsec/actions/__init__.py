"""Protection actions, one module each, registered by name when this package is imported.

``encrypt``, ``mask``, ``redact``, ``hash``, ``keep``, ``drop``. The reverse of
``encrypt`` lives in :mod:`streamsec.decryption`.
"""

from __future__ import annotations

from streamsec.actions import drop, encrypt, hash, keep, mask, redact  # noqa: F401 (registers)
from streamsec.actions.base import action_spec, get_action, registered_actions

__all__ = ["action_spec", "get_action", "registered_actions"]
