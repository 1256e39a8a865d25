"""Hyperscan compilation, run in a child process by :mod:`._prefilter`.

Compiling the database takes ~35 MB of heap at its peak and the allocator keeps
~30 MB of it afterwards; the worker's peak RSS has a budget, so the compiler
runs in its own short-lived process (this file, run by path: it imports nothing
but Hyperscan and the standard library) and hands back the serialized database
(``hyperscan.dumpb``), which the worker loads (``hyperscan.loadb``, the size of
the database). Protocol: JSON on stdin ``{"expressions": [latin-1 str], "ids":
[int], "flags": [int]}``, JSON on stdout ``{"database": base64 | null,
"refused": {id: reason}}``.
"""

from __future__ import annotations

import base64
import json
import sys

import hyperscan

__all__ = ["compile_serialized"]


def compile_serialized(
    expressions: list[bytes], ids: list[int], flags: list[int]
) -> tuple[bytes | None, dict[int, str]]:
    """One database of every expression Hyperscan accepts, serialized, and the ids
    it refused (found one by one, only when the whole set fails: the binding does
    not say which expression failed). None when none is accepted, or when the
    accepted ones still fail together: then every pattern runs."""
    if not expressions:
        return None, {}
    try:
        db = hyperscan.Database()
        db.compile(expressions=expressions, ids=ids, flags=flags)
        return hyperscan.dumpb(db), {}
    except hyperscan.error:
        pass
    keep: list[int] = []
    refused: dict[int, str] = {}
    for index, (expression, pid, f) in enumerate(zip(expressions, ids, flags, strict=True)):
        try:
            hyperscan.Database().compile(expressions=[expression], ids=[pid], flags=[f])
        except hyperscan.error as exc:
            refused[pid] = f"hyperscan: {exc}"
            continue
        keep.append(index)
    if not keep:
        return None, refused
    try:
        db = hyperscan.Database()
        db.compile(
            expressions=[expressions[k] for k in keep],
            ids=[ids[k] for k in keep],
            flags=[flags[k] for k in keep],
        )
    except hyperscan.error:
        return None, refused
    return hyperscan.dumpb(db), refused


def main() -> None:
    request = json.load(sys.stdin)
    database, refused = compile_serialized(
        [e.encode("latin-1") for e in request["expressions"]], request["ids"], request["flags"]
    )
    json.dump(
        {
            "database": base64.b64encode(database).decode() if database is not None else None,
            "refused": {str(k): v for k, v in refused.items()},
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
