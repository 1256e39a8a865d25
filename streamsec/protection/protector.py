"""The protection core's front door: ``Protector.from_topology(path).protect(record)``.

For each record: analyse its structure against the topology's rules, detect
(batched, for all records of a call at once), classify, plan, apply. Any failure
on one record becomes a :class:`ProtectionFailure` for that record alone; a
record is either fully protected or not emitted at all.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamsec.classification.classify import classify_record
from streamsec.classification.model import Finding, RecordClassification, Sensitivity
from streamsec.classification.taxonomy import DEFAULT_TAXONOMY, Taxonomy
from streamsec.crypto.base import FieldCipher
from streamsec.detection.base import Detector
from streamsec.errors import (
    DetectionError,
    MissingSubjectError,
    ProtectionError,
    RecordTooSlowError,
    SensitiveKeyError,
    StreamsecError,
    SubjectForgottenError,
)
from streamsec.frozen import quick_init
from streamsec.protection.analysis import CompiledRules, RecordAnalysis, analyze_structure
from streamsec.protection.applier import apply_plan
from streamsec.protection.binding import RecordBinder
from streamsec.protection.compiled import Prepared, ShapeCache
from streamsec.protection.planner import ProtectionPlan, plan_record
from streamsec.protection.record_key import KEY_PATH, KeyPlan, apply_key_plan, plan_record_key
from streamsec.protection.result import FieldAction, ProtectionFailure, ProtectionResult
from streamsec.records.paths import format_path, get_at, parse_path
from streamsec.settings import Settings
from streamsec.topology.loader import load_topology
from streamsec.topology.model import Topology

__all__ = ["KEY_PATH", "Explanation", "Protector"]

log = logging.getLogger(__name__)

_Detected = tuple[list[tuple[Finding, ...]], list[tuple[Finding, ...]]]


@quick_init
@dataclass(frozen=True, slots=True)
class _Planned:
    record: dict[str, Any]
    classification: RecordClassification
    plan: ProtectionPlan
    subject: str | None
    shape: int | None


def _unexpected(exc: Exception) -> ProtectionFailure:
    log.error("unexpected %s while protecting a record", type(exc).__name__)
    return ProtectionFailure(ProtectionError(f"unexpected {type(exc).__name__} while protecting"))


class Explanation:
    """What a record was classified as and what the plan does with it (no values)."""

    def __init__(self, classification: RecordClassification, plan: ProtectionPlan) -> None:
        self.classification = classification
        self.plan = plan


class Protector:
    def __init__(
        self,
        topology: Topology,
        *,
        detector: Detector,
        cipher: FieldCipher,
        taxonomy: Taxonomy | None = None,
    ) -> None:
        self.topology = topology
        self.detector = detector
        self.cipher = cipher
        self.taxonomy = (taxonomy or DEFAULT_TAXONOMY).with_overrides(topology.classification)
        self._rules = CompiledRules(topology)
        self._subject = parse_path(topology.subject) if topology.subject else None
        self.binder = RecordBinder(topology)
        self.shapes = ShapeCache(
            self._rules, recheck_every=topology.detection.recheck_every,
            free_text=topology.detection.free_text,
        )

    @classmethod
    def from_topology(
        cls,
        topology: Topology | str | Path,
        *,
        settings: Settings | None = None,
        detector: Detector | None = None,
        cipher: FieldCipher | None = None,
    ) -> Protector:
        """Build a protector with the real Presidio detector and the configured keyring."""
        topo = topology if isinstance(topology, Topology) else load_topology(topology)
        settings = settings or Settings()
        if detector is None:
            from streamsec.detection import build_detector

            detector = build_detector(topo)
        if cipher is None:
            from streamsec.crypto import open_keyring
            from streamsec.protection.keks import cipher_for

            cipher = cipher_for(open_keyring(settings), topo)
        return cls(topo, detector=detector, cipher=cipher)

    # -- analysis ---------------------------------------------------------------------
    def _detect_groups(
        self, groups: Sequence[Sequence[tuple[str, str]]]
    ) -> list[list[tuple[Finding, ...]] | None]:
        """Findings for every group of (path, text) items in one detection call; a group
        whose detection fails gets ``None`` (the call is redone group by group to find
        it). An overrun of the time budget is raised: the caller decides."""
        items = [item for group in groups for item in group]
        try:
            flat = self.detector.detect(items)
            if len(flat) != len(items):
                raise DetectionError("detector returned the wrong number of results")
        except RecordTooSlowError:
            raise  # the caller decides: redo record by record, or dead-letter (too_slow)
        except Exception:  # noqa: BLE001 - isolate the failing group(s) below
            if len(groups) == 1:
                return [None]
            return [r for group in groups for r in self._detect_groups([group])]
        out: list[list[tuple[Finding, ...]] | None] = []
        pos = 0
        for group in groups:
            out.append(list(flat[pos : pos + len(group)]))
            pos += len(group)
        return out

    def _detect(self, analyses: Sequence[RecordAnalysis]) -> list[_Detected | None]:
        """Findings per record (leaves, then object keys); ``None`` where detection failed."""
        groups = [
            (
                list(zip(a.scan_paths, (text for _, text in a.scan), strict=True))
                if a.scan_paths else [(format_path(loc), text) for loc, text in a.scan]
            ) + list(a.object_keys)
            for a in analyses
        ]
        return [
            None if found is None else (found[: len(a.scan)], found[len(a.scan) :])
            for a, found in zip(analyses, self._detect_groups(groups), strict=True)
        ]

    def _check_object_keys(self, key_findings: Sequence[tuple[Finding, ...]]) -> None:
        for found in key_findings:
            for finding in found:
                _, sensitivity = self.taxonomy.classify(finding.entity_type)
                if sensitivity.rank >= Sensitivity.CONFIDENTIAL.rank:
                    raise SensitiveKeyError(
                        f"an object key holds a {finding.entity_type}; field names must not "
                        "carry personal data"
                    )

    def subject_of(self, record: dict[str, Any]) -> str | None:
        """The data-subject id of a raw record (``subject:`` in the topology), if any."""
        if self._subject is None:
            return None
        for location in self._rules.expand(record, self._subject):
            value = get_at(record, location)
            if value is not None and not isinstance(value, dict | list):
                return str(value)
        return None

    def explain(self, record: dict[str, Any]) -> Explanation:
        analysis = analyze_structure(record, self._rules)
        (detected,) = self._detect([analysis])
        if detected is None:
            raise DetectionError("detection failed")
        findings, key_findings = detected
        self._check_object_keys(key_findings)
        classification = classify_record(analysis.scan, findings, self.taxonomy)
        plan = plan_record(record, analysis, classification, self.topology.policy, self.taxonomy)
        return Explanation(classification, plan)

    # -- protection -------------------------------------------------------------------
    def protect_many(
        self, records: Sequence[dict[str, Any]]
    ) -> list[ProtectionResult | ProtectionFailure]:
        """Analyse, detect (one batch), classify and plan every record, fetch the keys
        the plans need at once, then apply each plan. One record's failure is its own."""
        prepared = [self.shapes.prepare(r) for r in records]
        detections = self._detect([p.analysis for p in prepared])
        for p, detected in zip(prepared, detections, strict=True):
            if detected is not None:
                self.shapes.learn(p, *detected)
        planned: list[_Planned | ProtectionFailure] = [
            self._plan(record, p, detected)
            for record, p, detected in zip(records, prepared, detections, strict=True)
        ]
        self._prepare_keys([p for p in planned if not isinstance(p, ProtectionFailure)])
        results = [p if isinstance(p, ProtectionFailure) else self._apply(p) for p in planned]
        pairs = zip(results, records, strict=True)
        return [self._forgotten_first(result, record) for result, record in pairs]

    def _forgotten_first(
        self, result: ProtectionResult | ProtectionFailure, record: dict[str, Any]
    ) -> ProtectionResult | ProtectionFailure:
        """A record of a forgotten subject that failed for another reason is still the
        forgotten subject's: say so, so its dead letter carries nothing of it."""
        if not isinstance(result, ProtectionFailure) or isinstance(
            result.error, SubjectForgottenError
        ):
            return result
        try:
            subject = self.subject_of(record)
            if subject is not None:
                self.cipher.check_subject(subject)
        except SubjectForgottenError as exc:
            return ProtectionFailure(exc)
        except Exception:  # noqa: BLE001 - keep the first failure
            return result
        return result

    def _plan(
        self, record: dict[str, Any], prepared: Prepared, detected: _Detected | None,
    ) -> _Planned | ProtectionFailure:
        analysis = prepared.analysis
        if detected is None:
            return ProtectionFailure(DetectionError("detection failed"))
        findings, key_findings = detected
        try:
            self._check_object_keys(key_findings)
            classification = classify_record(
                analysis.scan, findings, self.taxonomy, analysis.scan_paths
            )
            policy = self.topology.policy
            plan = plan_record(record, analysis, classification, policy, self.taxonomy)
            subject = self.subject_of(record)
            if (
                subject is None and self._subject is not None
                and self.topology.encryption.missing_subject != "shared"
            ):
                raise MissingSubjectError(
                    "the record has no data-subject value and the topology dead-letters "
                    "such records (encryption.missing_subject)", key=self.topology.subject,
                )
            shape = prepared.shape.number if prepared.shape is not None else None
            return _Planned(record, classification, plan, subject, shape)
        except StreamsecError as exc:
            return ProtectionFailure(exc)
        except Exception as exc:  # noqa: BLE001 - fail closed; never echo the message
            return _unexpected(exc)

    def _prepare_keys(self, planned: Sequence[_Planned]) -> None:
        """Per-subject keys of the whole batch in one keyring change (best effort: a
        failure here is met again, record by record, when the plans are applied)."""
        needs = {
            (p.subject, deterministic)
            for p in planned
            if p.subject is not None
            for deterministic in p.plan.encryption_modes() | {False}
        }
        if not needs:
            return
        try:
            self.cipher.prepare_keys(needs)
        except StreamsecError as exc:
            log.warning("could not prepare the batch's keys (%s)", type(exc).__name__)

    def _apply(self, planned: _Planned) -> ProtectionResult | ProtectionFailure:
        try:
            if planned.subject is not None:
                self.cipher.check_subject(planned.subject)  # even with nothing to encrypt
            protected, actions = apply_plan(
                planned.record, planned.plan, topology=self.topology.name, cipher=self.cipher,
                subject=planned.subject, binder=self.binder,
                pad_to=self.topology.encryption.pad_to,
            )
        except StreamsecError as exc:
            return ProtectionFailure(exc)
        except Exception as exc:  # noqa: BLE001 - fail closed; never echo the message
            return _unexpected(exc)
        return ProtectionResult(protected, actions, planned.classification, planned.shape)

    def protect(self, record: dict[str, Any]) -> ProtectionResult:
        """Protect one record; raises the record's :class:`StreamsecError` on failure."""
        (result,) = self.protect_many([record])
        if isinstance(result, ProtectionFailure):
            raise result.error
        return result

    def protect_keys(
        self, keys: Sequence[str]
    ) -> list[tuple[str, FieldAction | None] | ProtectionFailure]:
        """Protect record keys like fields, from the key alone, so a tombstone gets the
        protected key of its record (see :mod:`streamsec.protection.record_key`).
        One detection call and one keyring change for the whole batch."""
        if not keys:
            return []
        detected = self._detect_keys(keys)
        plans = [
            None if found is None
            else plan_record_key(found[0], topology=self.topology, taxonomy=self.taxonomy)
            for found in detected
        ]
        pairs = list(zip(keys, plans, detected, strict=True))
        needs = {(key, True) for key, plan, _ in pairs if plan is not None and plan.subject}
        if needs:
            try:
                self.cipher.prepare_keys(needs)
            except StreamsecError as exc:  # met again, key by key, when applied
                log.warning("could not prepare the keys' subject keys (%s)", type(exc).__name__)
        return [
            ProtectionFailure(DetectionError("detection failed")) if found is None
            else self._apply_key(key, plan)
            for key, plan, found in pairs
        ]

    def _detect_keys(self, keys: Sequence[str]) -> list[list[tuple[Finding, ...]] | None]:
        """Findings per key; a key the learnt ``$key`` verdicts prove clean gets none
        without detection (see :mod:`streamsec.protection.compiled`)."""
        skips, sampled = self.shapes.key_plan(keys)
        todo = [i for i, skip in enumerate(skips) if sampled or not skip]
        found = self._detect_groups([[(KEY_PATH, keys[i])] for i in todo])
        detected: list[list[tuple[Finding, ...]] | None] = [[()] for _ in keys]
        for i, one in zip(todo, found, strict=True):
            detected[i] = one
        learnt = [(i, one) for i, one in zip(todo, found, strict=True) if one is not None]
        self.shapes.learn_keys(
            [keys[i] for i, _ in learnt], [bool(one[0]) for _, one in learnt],
            [skips[i] for i, _ in learnt],
        )
        return detected

    def _apply_key(
        self, key: str, plan: KeyPlan | None
    ) -> tuple[str, FieldAction | None] | ProtectionFailure:
        if plan is None:
            return key, None
        try:
            return apply_key_plan(key, plan, topology=self.topology.name, cipher=self.cipher)
        except StreamsecError as exc:
            return ProtectionFailure(exc)
        except Exception as exc:  # noqa: BLE001 - fail closed; never echo the message
            return _unexpected(exc)

    def protect_key(self, key: str) -> tuple[str, FieldAction | None]:
        """One record key (see :meth:`protect_keys`); raises its error on failure."""
        (result,) = self.protect_keys([key])
        if isinstance(result, ProtectionFailure):
            raise result.error
        return result
