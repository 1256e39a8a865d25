from __future__ import annotations

from streamsec.detection.memo import PathMemo


def test_benign_values_are_remembered_per_path_by_digest() -> None:
    memo = PathMemo()
    memo.add_benign("status", "shipped")
    assert memo.is_benign("status", "shipped")
    assert not memo.is_benign("status", "536-22-1234")
    assert not memo.is_benign("other", "shipped")
    assert "shipped" not in repr(memo.__dict__)


def test_memo_is_bounded() -> None:
    memo = PathMemo(max_values=3)
    for value in ("a", "b", "c", "d"):
        memo.add_benign("p", value)
    assert len(memo) == 3
    assert not memo.is_benign("p", "a")
    assert memo.is_benign("p", "d")


def test_path_learns_a_settled_entity() -> None:
    memo = PathMemo()
    for _ in range(15):
        memo.record_ner("meta.x", "PERSON")
    assert memo.learned("meta.x") is None
    memo.record_ner("meta.x", "PERSON")
    assert memo.learned("meta.x") == "PERSON"
    for _ in range(16):
        memo.record_ner("meta.y", None)
    assert memo.learned("meta.y") is None
