"""The pure record pipeline: raw record in, protected record, audit and lineage events
or a dead letter out. No I/O: the worker (Faust) and the offline CLI only differ in
their sources and sinks.

Modules: ``model`` (the values passed in and out), ``pipeline`` (the record flow),
``events`` (audit and lineage per record), ``messages`` (audit, lineage and
dead-letter messages), ``headers`` (what is written as Kafka headers), ``runtime``
(opening a topology's pipeline from the settings).
"""

__all__: list[str] = []
