"""The streaming worker: Faust agents that protect Kafka records (see ``app``, ``agents``).

Modules: ``pipeline`` (pure core), ``events``/``headers``/``model`` (what is sent),
``agents`` (the only code on the event loop and topics), ``transactions``
(exactly-once), ``metrics``, ``app``/``runtime``/``run``/``process`` (wiring).
"""

__all__: list[str] = []
