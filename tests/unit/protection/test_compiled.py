"""Compiled record shapes: learnt paths skip detection only for values a validator
proves clean; everything else, and a sample of records, is detected in full."""

from __future__ import annotations

import json
import random
import re
import uuid
from typing import Any

import pytest

from streamsec.protection.compiled import LEARN_AFTER, PathVerdicts, flatten
from streamsec.protection.protector import Protector
from streamsec.testing import FakeDetector
from tests.unit.protection.conftest import Build

SENSITIVE: list[Any] = [
    "123-45-6789", "123456789", "jane.roe@example.com", "4111 1111 1111 1111",
    "4111111111111111", "+1 415-555-0134", "415.555.0134", "(415) 555-0134",
    "GB82WEST12345698765432", "Jane Roe", "12 Main Street", "1985-03-02",
    "C-4111111111111111", "pay_4111111111111111", "id-123-45-6789", "gold 123-45-6789",
    4155550134, 4111111111111111, 123456789, 2025550134,
    # a learnt segmented prefix (tp-9dd575-) never carries digit groups through
    "tp-9dd575-4155550134", "tp-9dd575-123-45-6789", "tp-123-45-6789", "tp-415-555-0134",
    "a1-4111-1111-1111-1111", "eu1-2024-05-01", "tp-9dd575-4111111111111111",
    "tp-9dd5754155550-000001", "tp-9dd575_123456789",
]


def _learnt(values: list[Any], *, benign_name: bool = True) -> PathVerdicts:
    verdicts = PathVerdicts(benign_name=benign_name)
    for value in values:
        verdicts.learn(value, False)
    return verdicts


def _every_kind() -> list[PathVerdicts]:
    n = LEARN_AFTER
    return [
        _learnt([f"2024-05-{d % 28 + 1:02d}T10:{d % 60:02d}:00Z" for d in range(n)]),
        _learnt([_uuid(i) for i in range(n)]),
        _learnt([f"{i * 13.7:.2f}" for i in range(n)]),
        _learnt([1_700_000_000 + i for i in range(n)]),
        _learnt([f"C-{i:06d}" for i in range(n)] + [f"pay_{i:04x}ab12" for i in range(n)]
                + [f"tp-9dd575-{i:06d}" for i in range(n)]),
        _learnt(["gold", "silver", "bronze", "US", "EUR"] * n),
    ]


@pytest.mark.parametrize("value", SENSITIVE)
def test_no_learnt_path_skips_a_sensitive_value(value: Any) -> None:
    for verdicts in _every_kind():
        assert not verdicts.skips(value), (value, verdicts.kinds)


def test_each_kind_skips_its_own_values_once_learnt() -> None:
    ts, uid, amount, epoch, ids, closed = _every_kind()
    assert ts.skips("2025-01-31T23:59:59.123+02:00")
    assert uid.skips("8c0d5b2e-4f1a-4b7e-9a3d-2e6f1c0b9a7d")
    assert amount.skips("12.30")
    assert epoch.skips(1_800_000_000) and epoch.skips(1_700_000_000_000)
    assert ids.skips("C-999999") and ids.skips("pay_0e9f3a") and not ids.skips("X-999999")
    assert ids.skips("tp-9dd575-999999") and not ids.skips("tp-9dd576-999999")
    assert closed.skips("silver") and not closed.skips("platinum")


def test_epoch_integers_skip_only_where_the_name_says_benign_free_text_only_decimals() -> None:
    stamps = [1_700_000_000 + i for i in range(LEARN_AFTER)]
    assert not _learnt(stamps, benign_name=False).skips(1_424_307_139)  # an NHS number too
    stamps, amounts, ints = (PathVerdicts(free_text=True, benign_name=True) for _ in range(3))
    for i in range(LEARN_AFTER):
        stamps.learn(f"2024-05-01T10:{i:02d}:00Z", False)
        amounts.learn(f"{i}.50", False)
        ints.learn(1_700_000_000 + i, False)
    assert not stamps.skips("2024-05-01T11:00:00Z")  # a DATE_TIME in free text
    assert stamps.skips("2024-05-01T10:03:00Z")  # its closed set: detected clean here before
    assert not ints.skips(1_700_000_100)
    assert amounts.skips("99.50")


def test_a_uuid_with_a_long_digit_run_is_not_proven_clean() -> None:
    uid = _every_kind()[1]
    assert uid.skips("2036a78a-0e62-426a-b1c8-1046a93e3705")
    assert not uid.skips("2036078a-0e62-426a-61c8-1046a9303705")  # 8 digits + letter: ES NIF
    assert not uid.skips("41111111-1111-1111-abcd-ef0123456789")  # a card number


def test_closed_sets_and_prefixes_are_kept_as_digests_never_values() -> None:
    verdicts = _learnt(["gold", "silver"] * LEARN_AFTER + ["C-000001"])
    assert verdicts.skips("gold") and verdicts.closed and verdicts.prefixes
    held = [*verdicts.closed, *verdicts.prefixes]
    assert all(isinstance(h, bytes) and b"gold" not in h and b"C-" not in h for h in held)


def test_nothing_skips_before_enough_clean_values_nor_after_one_finding() -> None:
    young = _learnt(["gold"] * (LEARN_AFTER - 1))
    assert not young.skips("gold")
    verdicts = _learnt(["gold"] * LEARN_AFTER)
    assert verdicts.skips("gold")
    verdicts.learn("Jane Roe", True)
    assert not verdicts.skips("gold")
    verdicts.learn("gold", False)
    assert not verdicts.skips("gold")


def test_flatten_tells_shapes_apart_by_keys_types_and_lengths() -> None:
    sigs = {
        flatten(r)[0]  # type: ignore[index]
        for r in (
            {"a": 1}, {"a": "1"}, {"a": True}, {"a": None}, {"a": 1.0}, {"b": 1},
            {"a": [1]}, {"a": [1, 1]}, {"a": {"b": 1}}, {"a": {}, "b": 1}, {"a": [], "b": 1},
        )
    }
    assert len(sigs) == 11
    assert flatten({"a": [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}) is None


def _uuid(i: int) -> str:
    rnd = random.Random(i)
    while True:
        value = str(uuid.UUID(int=rnd.getrandbits(128)))
        if not re.search(r"\d{7}", value.replace("-", "")):
            return value


def _record(i: int, **over: Any) -> dict[str, Any]:
    record = {
        "event_id": _uuid(i),
        "ts": 1_700_000_000 + i,
        "created_at": f"2024-06-{i % 28 + 1:02d}T08:{i % 60:02d}:00Z",
        "v": ["A1", "B7", "ok"][i % 3],
        "order": f"ORD-{i:06d}",
        "amount_text": f"{i * 3.5 % 900:.2f}",
        "meta": {"x": i % 1000, "y": "on"},
    }
    record.update(over)
    return record


def _learn(protector: Protector, n: int = 3 * LEARN_AFTER) -> None:
    for start in range(0, n, 16):
        results = protector.protect_many([_record(i) for i in range(start, start + 16)])
        assert all(r.actions == () for r in results)  # type: ignore[union-attr]


def test_learnt_shape_skips_detection_of_provably_clean_values(build: Build) -> None:
    detector = FakeDetector()
    protector, _ = build(detector=detector)
    _learn(protector)
    before = detector.items_seen
    protector.protect_many([_record(i) for i in range(100, 164)])
    assert protector.shapes.stats.skipped > 0
    sampled = protector.shapes.stats.sampled
    assert detector.items_seen - before < 64 * 6 * 0.5 or sampled > 8


@pytest.mark.parametrize("path", ["v", "created_at", "event_id", "order", "amount_text"])
@pytest.mark.parametrize("secret", ["123-45-6789", "jane.roe@example.com", "4111 1111 1111 1111",
                                    "+1 415-555-0134"])
def test_attack_clean_path_of_a_known_shape_now_carries_pii(
    build: Build, path: str, secret: str
) -> None:
    detector = FakeDetector()
    protector, decryptor = build("policy:\n  default_action: encrypt\n", detector=detector)
    _learn(protector)
    result = protector.protect(_record(500, **{path: secret}))
    out = json.dumps(result.record)
    assert secret not in out
    assert [a.path for a in result.actions] == [path]
    assert decryptor.decrypt(result.record)[path] == secret


def test_attack_learnt_epoch_path_carries_a_phone_number_as_an_integer(build: Build) -> None:
    protector, _ = build("policy:\n  default_action: encrypt\n",
                         detector=FakeDetector({"4155550134": "PHONE_NUMBER"}))
    _learn(protector)
    result = protector.protect(_record(500, ts=4155550134))
    assert result.record["ts"] != 4155550134
    assert [a.path for a in result.actions] == ["ts"]


def test_attack_sensitive_record_key_after_learnt_keys(build: Build) -> None:
    protector, _ = build("policy:\n  default_action: encrypt\n", detector=FakeDetector())
    for start in range(0, 4 * LEARN_AFTER, 16):
        done = protector.protect_keys([f"order-{i:06d}" for i in range(start, start + 16)])
        assert all(action is None for _, action in done)  # type: ignore[misc]
    assert protector.shapes.key_verdicts.skips("order-000999")
    (protected, action), = protector.protect_keys(["123-45-6789"])  # type: ignore[misc]
    assert action is not None and "123-45-6789" not in protected


def test_disagreement_of_a_sample_is_counted_and_drops_the_shapes(build: Build) -> None:
    stamp = "2024-06-30T08:00:00Z"
    protector, _ = build(detector=FakeDetector({stamp: "DATE_OF_BIRTH"}))
    _learn(protector)
    assert protector.shapes.key_verdicts is not None
    protector.shapes._sampled = lambda: True  # type: ignore[method-assign]
    result = protector.protect(_record(600, created_at=stamp))
    assert [a.path for a in result.actions] == ["created_at"]
    assert protector.shapes.stats.disagreements == 1
    assert protector.shapes.stats.shapes == 1
    protector.protect(_record(601))
    assert protector.shapes.stats.shapes == 2  # compiled again, learnt from scratch


def test_new_shape_and_changed_type_are_analysed_afresh(build: Build) -> None:
    protector, _ = build("policy:\n  default_action: encrypt\n", detector=FakeDetector())
    _learn(protector)
    moved = protector.protect(_record(700, v=None, extra="123-45-6789"))
    assert [a.path for a in moved.actions] == ["extra"]
    typed = protector.protect(_record(701, meta={"x": "123-45-6789", "y": "on"}))
    assert [a.path for a in typed.actions] == ["meta.x"]
    assert protector.shapes.stats.shapes == 3


def test_recheck_every_one_turns_skipping_off(build: Build) -> None:
    detector = FakeDetector()
    protector, _ = build("detection:\n  recheck_every: 1\n", detector=detector)
    _learn(protector)
    before = detector.items_seen
    protector.protect_many([_record(i) for i in range(100, 116)])
    assert protector.shapes.stats.skipped == 0
    assert detector.items_seen - before == 16 * 7  # every scanned value; keys known clean


def test_attack_with_the_real_detector_on_the_harness_shapes() -> None:
    """Customer records of the harness corpus teach their shape; then SSN, email and card
    in paths that were always clean (tier, created_at, customer_id)."""
    from streamsec.crypto.cipher import KeyringCipher
    from streamsec.detection import PresidioDetector
    from streamsec.detection.analyzer import get_analyzer
    from streamsec.testing.corpus import generate_corpus
    from streamsec.testing.keys import InMemoryKeyProvider
    from streamsec.topology import parse_topology

    topo = parse_topology("name: t\ninput: a\noutput: b\npolicy:\n  default_action: encrypt\n")
    protector = Protector(topo, detector=PresidioDetector(analyzer=get_analyzer()),
                          cipher=KeyringCipher(InMemoryKeyProvider(), "t"))
    corpus = [c.record for c in generate_corpus(96, 3, kinds=("customer",))]
    for start in range(0, 96, 32):
        protector.protect_many(corpus[start : start + 32])
    assert protector.shapes.stats.skipped > 0
    for path, secret in (("tier", "536-90-4312"), ("created_at", "jane.roe@example.com"),
                         ("tier", "4111 1111 1111 1111"), ("customer_id", "536-90-4312")):
        record = {**corpus[0], path: secret}
        result = protector.protect(record)
        assert secret not in json.dumps(result.record), path


@pytest.mark.parametrize(
    ("value", "prefix"),
    [("tp-9dd575-000123", "tp-9dd575-"), ("eu1-orders-00ab12", "eu1-orders-"),
     ("pay_cd425ec38f13", "pay_"), ("C-648562", "C-"),
     ("415-555-0134", None), ("tp-415-5550134", None), ("a1-123-45-6789", None),
     ("x-12-3456", None), ("tp-9dd575_000123", None), ("ord-1985-03-02", None),
     ("tp-9dd5751234567-000123", None), ("tp-9dd575-1234567", None), ("tp-9dd575-abcdef", None)],
)
def test_an_id_prefix_never_lets_two_digit_groups_meet(value: str, prefix: str | None) -> None:
    """Segmented prefixes: every segment holds a letter, so the tail is the only digit
    group that stands alone (a phone, SSN, card or date needs two); no 7-digit run."""
    from streamsec.protection.verdicts import _id_prefix

    assert _id_prefix(value) == prefix


def test_attack_sensitive_record_key_after_learnt_segmented_keys(build: Build) -> None:
    """Keys like the harness's (``tp-<run id>-<sequence>``) are learnt; a key that then
    carries a phone number or an SSN in that form is detected in full."""
    protector, _ = build("policy:\n  default_action: encrypt\n",
                         detector=FakeDetector({"tp-9dd575-4155550134": "PHONE_NUMBER",
                                                "tp-9dd575-123-45-6789": "US_SSN"}))
    for start in range(0, 4 * LEARN_AFTER, 16):
        done = protector.protect_keys([f"tp-9dd575-{i:06d}" for i in range(start, start + 16)])
        assert all(action is None for _, action in done)  # type: ignore[misc]
    assert protector.shapes.key_verdicts.skips("tp-9dd575-000999")
    for secret in ("tp-9dd575-4155550134", "tp-9dd575-123-45-6789"):
        (protected, action), = protector.protect_keys([secret])  # type: ignore[misc]
        assert action is not None and secret not in protected, secret
