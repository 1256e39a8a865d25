"""The streaming worker: Faust agents that run the pure :mod:`streamsec.pipeline`.

Modules: ``agents`` (the only code on the event loop and topics), ``transactions``
(exactly-once), ``metrics``, ``app``/``run``/``process`` (wiring).
"""

__all__: list[str] = []
