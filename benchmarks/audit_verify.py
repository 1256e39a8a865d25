"""``audit verify`` throughput on one core: events/s, from the bytes as read.

Rates are events per second of this process's CPU time (``time.process_time``):
what one core does, even on a machine shared with other work.

A trail as a worker writes it (record events built by the real pipeline builders,
one signed checkpoint per batch of ``--batch`` events, a final checkpoint and a
final signed digest per chain) is verified from its wire bytes with the real
verifier and a trust store. Printed against two baselines measured in the same
run: ``json.loads`` of every line (the least any JSON verifier does), and Ed25519
verification of one signature per event (what signing every event would cost)::

    .venv/bin/python benchmarks/audit_verify.py [--events 200000] [--batch 64] [--chains 8]
        [--records-per-event 1]

Target: >= 50,000 events/s. ``--records-per-event 64 --batch 1`` writes what a worker
with ``STREAMSEC_AUDIT_GRANULARITY=batch`` writes at full batches: one
``records.batch`` event of 64 records and its checkpoint (which lists each entry's
digest); the rate that compares is then records per second.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime, timedelta

from streamsec.events.audit import RecordRef, protected_entry, record_protected
from streamsec.events.batch import BatchEntries
from streamsec.events.canonical import wire
from streamsec.events.chain import AuditChain
from streamsec.events.digests import ChainHead, DigestWriter
from streamsec.events.signing import FileSigner, Pseudonymizer
from streamsec.events.trust import TrustStore
from streamsec.events.verify import AuditVerifier
from streamsec.protection.result import FieldAction
from streamsec.topology import parse_topology

TOPOLOGY = parse_topology(
    "name: bench\ninput: raw.bench\noutput: protected.bench\n"
    "fields:\n  email: {action: encrypt, deterministic: true}\n  card.number: mask\n"
)
ACTIONS = (
    FieldAction("email", "encrypt", "field", ("EMAIL_ADDRESS",), "PII", "confidential", "rule",
                key_id="kdet0000001", score=1.0),
    FieldAction("card.number", "mask", "field", ("CREDIT_CARD",), "PCI", "restricted", "rule",
                score=0.95),
)


def build(
    events: int, batch: int, chains: int, per_event: int = 1
) -> tuple[list[bytes], TrustStore]:
    signer = FileSigner.generate()
    pseudonyms = Pseudonymizer(bytes(32))
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    per_chain = events // chains
    lines: list[bytes] = []
    digests = DigestWriter(signer, worker_id="bench-1", scope="bench")
    heads: dict[str, ChainHead] = {}
    for partition in range(chains):
        chain = AuditChain(signer, worker_id="bench-1", scope="bench", partition=partition)
        for offset in range(per_chain):
            moment += timedelta(milliseconds=3)
            if per_event > 1:
                entries = BatchEntries("raw.bench", partition)
                for i in range(offset * per_event, (offset + 1) * per_event):
                    ref = RecordRef.of("raw.bench", partition, i, f"c-{i}".encode(), pseudonyms)
                    entries.add(protected_entry(ref, ACTIONS))
                event = entries.event(TOPOLOGY, worker_id="bench-1")
                lines.extend(wire(e) for e in chain.append(event, entries.records()))
            else:
                ref = RecordRef.of("raw.bench", partition, offset, f"c-{offset}".encode(),
                                   pseudonyms)
                event = record_protected(TOPOLOGY, ref, ACTIONS, worker_id="bench-1", time=moment)
                lines.extend(wire(e) for e in chain.append(event))
            if offset % batch == batch - 1:
                checkpoint = chain.checkpoint()
                if checkpoint is not None:
                    lines.append(wire(checkpoint))
        final = chain.close()
        lines.append(wire(final))
        heads[final["chain"]] = ChainHead(final["seq"], final["digest"], final=True)
    lines.append(wire(digests.digest(heads, final=True)))
    return lines, TrustStore.of_signers(signer.public_key())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--chains", type=int, default=8)
    parser.add_argument("--records-per-event", type=int, default=1,
                        help="> 1: records.batch events listing this many records each")
    args = parser.parse_args()
    lines, trust = build(args.events, args.batch, args.chains, args.records_per_event)
    size = sum(map(len, lines)) / len(lines)

    start = time.process_time()
    for line in lines:
        json.loads(line)
    parse_rate = len(lines) / (time.process_time() - start)

    signer = FileSigner.generate()
    public = TrustStore.of_signers(signer.public_key()).key(signer.key_id)
    assert public is not None
    sample = lines[: min(5000, len(lines))]
    signatures = [signer.sign(line) for line in sample]
    start = time.process_time()
    for line, signature in zip(sample, signatures, strict=True):
        public.verify(signature, line)
    sign_rate = len(sample) / (time.process_time() - start)

    start = time.process_time()
    verifier = AuditVerifier(trust)
    for line in lines:
        verifier.feed(line)
    report = verifier.report()
    elapsed = time.process_time() - start
    rate = len(lines) / elapsed
    assert report.ok, report.first_problems[:3]

    print(f"audit verify: {len(lines)} events ({size:.0f} B each, {args.chains} chains, "
          f"a signed checkpoint every {args.batch}) in {elapsed:.2f} s CPU on one core")
    print(f"  verify (digests + signed checkpoints + digests) {rate:10,.0f} events/s")
    print(f"  baseline json.loads of every line               {parse_rate:10,.0f} events/s"
          f"   ratio {rate / parse_rate:.2f}x")
    print(f"  baseline one Ed25519 verify per event           {sign_rate:10,.0f} events/s"
          f"   ratio {rate / sign_rate:.2f}x")
    print(f"  target >= 50,000 events/s: {'met' if rate >= 50_000 else 'NOT met'}")
    records = (args.events // args.chains) * args.chains * args.records_per_event
    print(f"  records verified: {records} ({records / elapsed:,.0f} records/s)")


if __name__ == "__main__":
    main()
