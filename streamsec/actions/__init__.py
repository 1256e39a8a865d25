"""Protection actions, one module each, registered by name when this package is imported.

``encrypt``, ``mask``, ``redact``, ``hash``, ``keep``, ``drop``; and the reverse of
``encrypt``: :func:`decrypt_value` and :func:`decrypt_text`.
"""

from __future__ import annotations

from streamsec.actions import drop, encrypt, hash, keep, mask, redact  # noqa: F401 (registers)
from streamsec.actions.base import get_action, registered_actions
from streamsec.actions.decrypt import decrypt_text, decrypt_value

__all__ = ["decrypt_text", "decrypt_value", "get_action", "registered_actions"]
