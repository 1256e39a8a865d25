"""streamsec: Kafka-native data protection.

The pure core (topology, detection, classification, planning, actions, crypto,
events) needs no broker; :mod:`streamsec.worker` is the only module that touches
the event loop and Kafka topics.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
