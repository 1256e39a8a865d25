"""Opening what a topology agent needs: protector, cipher, audit identity and pipeline."""

from __future__ import annotations

from streamsec.crypto.keyring_setup import open_keyring
from streamsec.crypto.provider import KeyProvider
from streamsec.detection.base import Detector
from streamsec.events.key_audit import KeyAudit
from streamsec.events.signing import AuditIdentity
from streamsec.events.trail import AuditTrail
from streamsec.pipeline.events import RecordEvents
from streamsec.pipeline.pipeline import RecordPipeline
from streamsec.protection.keks import cipher_for
from streamsec.protection.protector import Protector
from streamsec.settings import Settings
from streamsec.topology.model import Topology

__all__ = ["make_pipeline", "open_pipeline"]


def make_pipeline(
    topology: Topology,
    settings: Settings,
    *,
    worker_id: str,
    provider: KeyProvider,
    detector: Detector | None = None,
    identity: AuditIdentity | None = None,
    audit_key_operations: bool = False,
) -> RecordPipeline:
    """The pipeline of ``topology`` over ``provider`` (its field cipher), writing audit
    events under ``identity`` (default: the signing and pseudonym keys the settings
    name, never a key of the data keyring). ``audit_key_operations`` (on in
    :func:`open_pipeline`): every key the worker creates is reported by a
    ``key.operation`` event in its audit chain, before the records that use it."""
    cipher = cipher_for(provider, topology)
    protector = Protector.from_topology(
        topology, settings=settings, detector=detector, cipher=cipher
    )
    key_audit = KeyAudit(worker_id)
    listeners = getattr(provider, "listeners", None)
    if audit_key_operations and isinstance(listeners, list):
        listeners.append(key_audit)  # key operations into the audit chains
    trail = AuditTrail(
        identity or AuditIdentity.from_settings(settings), actor=worker_id,
        topology=topology.name, digest_interval=settings.audit_digest_interval,
    )
    events = RecordEvents(
        topology, trail, key_events=key_audit.take, granularity=settings.audit_granularity
    )
    return RecordPipeline(
        topology, protector, events,
        max_bytes=settings.max_record_bytes, max_depth=settings.max_depth,
        max_fields=settings.max_fields, max_chars=settings.max_text_chars,
        time_budget=settings.record_time_budget,
    )


def open_pipeline(
    topology: Topology,
    settings: Settings,
    *,
    worker_id: str,
    detector: Detector | None = None,
) -> RecordPipeline:
    """:func:`make_pipeline` over the keyring file the settings name."""
    return make_pipeline(
        topology, settings, worker_id=worker_id, provider=open_keyring(settings),
        detector=detector, audit_key_operations=True,
    )
