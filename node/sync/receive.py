# SPDX-License-Identifier: Apache-2.0
"""The receive pipeline for one envelope, in the order SPEC.md §6.7 fixes.

decode -> addressed to us, from the session's peer -> hop signature, the hop's expiry
not beyond the origin's (a relay that tried is alerted, with wrap-free evidence) and not
past ->
the origin is the peer or below it -> origin certificate (chain at now), batch
signature, revocation -> sealed for the county (a relay) -> clock bound -> continuity
with what we hold (duplicate, gap, fork; every claim compared with the hash we hold,
a relay opening a batch it keeps where no kept header claims the seq) -> open, rebuild
and check rulesets and payloads (the county) or keep sealed (a relay) -> advance the
head -> signed ack.

The continuity check and the write share one ``BEGIN IMMEDIATE`` transaction: nothing
half-stored, and two deliveries of one batch at once cannot both apply it. A refusal
stores nothing but evidence: a fork goes to ``alerts`` (with a fork proof when we kept
the other header), a quarantined batch to ``quarantine``; a re-sent copy of the same
refused batch is not recorded twice.
"""

from __future__ import annotations

from node.domain.records import KNOWN_RULESETS
from node.store import erasure
from node.store.evidence import Evidence
from node.store.holdings import Holdings, immediate
from node.store.store import NodeStore
from node.sync import origin_cuts
from node.sync.trust import Trust
from protocol import (
    BatchHeader,
    Certificate,
    CertificateError,
    ChainError,
    Entry,
    Envelope,
    ErrorCode,
    ExpiryExtendedError,
    ForkError,
    ForkProof,
    Frontier,
    Head,
    KemPrivateKey,
    LogId,
    MalformedError,
    NodeId,
    ProtocolError,
    QuarantineError,
    Role,
    SignatureError,
    UnsupportedError,
    check_continues,
    check_recipients,
    decode_envelope,
    evidence_form,
    open_envelope,
)
from protocol.fast_payload import check_payload
from protocol.frontier import Ack, sign_ack
from protocol.rules import check_clock, check_rulesets, check_signer


def receive_envelope(
    store: NodeStore, trust: Trust, raw: bytes, peer: NodeId, now_ms: int
) -> bytes:
    """Verify and keep one envelope from ``peer``; return our signed acknowledgement.

    Raises:
        ProtocolError: the envelope is refused; after decoding, the error carries the
            refused log as ``exc.log`` so the answer can name it.
    """
    env = decode_envelope(raw)
    try:
        try:
            _check(store, trust, env, peer, now_ms)
        except ExpiryExtendedError as exc:
            _check_origin(trust, env, peer, now_ms)  # an alert only for what an origin signed
            _record_extended(store, env, now_ms, exc)
            raise
        try:
            check_clock(env.header, now_ms)
            _keep(store, env, raw, now_ms)
        except ForkError as exc:
            _record_fork(store, env, now_ms, exc)
            raise
        except QuarantineError as exc:
            _quarantine(store, env, now_ms, exc)
            raise
    except ProtocolError as exc:
        if getattr(exc, "log", None) is None:
            exc.log = str(env.header.log)  # type: ignore[attr-defined]  # for the report
        raise
    head = Holdings(store.db).head(env.header.log)
    assert head is not None
    ack = Ack(store.node, env.header.log, head.seq, head.hash, now_ms)
    return sign_ack(ack, store.identity.signing)


def _check(store: NodeStore, trust: Trust, env: Envelope, peer: NodeId, now_ms: int) -> None:
    """Hop and origin (SPEC.md §6.7 steps 2-3): who sent it, who wrote it, may they,
    and (a relay) whether the county can read it."""
    if env.recipient != store.node:
        raise MalformedError(f"envelope is addressed to {env.recipient}, not to {store.node}")
    if env.sender != peer:
        raise SignatureError("envelope sender is not the authenticated peer")
    env.verify_hop(trust.certificate(peer).verify_key, now_ms)
    origin_cert = _check_origin(trust, env, peer, now_ms)
    check_signer(env.header, origin_cert, trust.crl)
    if store.node.role is not Role.COUNTY:
        # 3. recipients: a relay acknowledges before the county sees the batch, so a
        # batch the county could not open is refused here (the county itself finds its
        # key when it opens, or fails with no_recipient).
        check_recipients(env, [trust.own("county.cert").kem_key.key_id])


def _check_origin(trust: Trust, env: Envelope, peer: NodeId, now_ms: int) -> Certificate:
    """Step 3's signature: the origin (the peer or one of its children) wrote this
    header. Checked before an expiry_extended alert is kept too, so a hop that rewrites
    headers cannot fill the alerts with evidence of batches no origin signed."""
    origin = env.header.log.node
    if not origin.code.startswith(peer.code):
        raise CertificateError(f"{peer} may not relay changes of {origin}")
    origin_cert = trust.certificate(origin, env.header.cert_serial)
    trust.verify(origin_cert, now_ms)
    env.verify_batch(origin_cert.verify_key)
    return origin_cert


def _keep(store: NodeStore, env: Envelope, raw: bytes, now_ms: int) -> None:
    holdings = Holdings(store.db)
    header = env.header
    with immediate(store.db):
        have = holdings.head(header.log)
        held = Frontier({header.log: have} if have is not None else {})
        opens = store.node.role is Role.COUNTY
        try:
            known = _Known(holdings, header.log, None if opens else store.identity.kem)
            verdict = check_continues(held, header, known)
        except ChainError as exc:
            if not (opens and _is_overlap(held.get(header.log), header, exc)):
                raise
            verdict = "overlap"
        if verdict not in ("next", "overlap"):
            if verdict == "duplicate" and not opens:  # a fresh copy of one handed back
                holdings.replace_returned(env.message_id, raw, now_ms)
            return
        if opens:
            keys = {store.identity.kem.public_key.key_id: store.identity.kem}
            entries = open_envelope(env, keys)
            if verdict == "overlap":
                entries = _beyond_held(holdings, header.log, entries, have)
            check_rulesets(entries, KNOWN_RULESETS)
            for entry in entries:
                if entry.payload is not None:
                    try:
                        check_payload(entry.payload)
                    except UnsupportedError as exc:
                        raise QuarantineError(
                            f"{header.log} seq {entry.seq}: {exc}", code=ErrorCode.UNSUPPORTED
                        ) from None
            holdings.store_entries(entries)
            if any(erasure.mentions_retention(e.payload) for e in entries):
                erasure.erase_received(store.db, header.log)  # SPEC §5.4, at every holder
        else:
            holdings.keep_envelope(env.message_id, header, raw, now_ms)
            # Copies we handed back that end here are sent again, if in other batch
            # bounds (node/sync/returned.py beyond): we hold the range anew.
            holdings.settle_returned(header.log, header.last_seq)
            origin_cuts.learn(store.db, env, store.identity.kem)
        holdings.set_head(header.log, header.last_seq, header.head_hash, now_ms)


class _Known:
    """The entry hash we know for a seq of ``log`` (check_continues' ``known``).

    The county holds every entry's hash. A relay knows the hashes its kept signed
    headers claim (their last seq, and the seq before their first); for a seq strictly
    inside a batch it keeps, it opens that envelope (a relay is a recipient of its
    children's batches, §6.3.1) and rebuilds the chain, in memory only. Without this a
    forked range lying wholly below our head, inside one kept batch, would be taken for
    a duplicate and acknowledged (issue 17). That happens only for such a range: a
    batch that extends our head names our head's seq, which a kept header claims.
    """

    def __init__(self, holdings: Holdings, log: LogId, kem: KemPrivateKey | None) -> None:
        self.holdings, self.log, self.kem = holdings, log, kem
        self.opened: dict[int, bytes] = {}

    def __call__(self, seq: int) -> bytes | None:
        held = self.holdings.entry_hash(self.log, seq)
        if held is not None:
            return held
        kept = self.holdings.held_header(self.log, seq)
        if kept is not None:
            return kept[0].claims().get(seq)
        if self.kem is None:
            return None
        if seq not in self.opened:
            self._open_covering(seq)
        return self.opened.get(seq)

    def _open_covering(self, seq: int) -> None:
        raw = self.holdings.envelope_covering(self.log, seq)
        if raw is None or self.kem is None:
            return
        env = decode_envelope(raw)
        try:
            entries = open_envelope(env, {self.kem.public_key.key_id: self.kem})
        except ProtocolError:
            return  # not sealed for us, or damaged: we cannot say, so we know nothing
        self.opened.update((e.seq, e.hash) for e in entries)


def _is_overlap(have: Head | None, header: BatchHeader, exc: ChainError) -> bool:
    """Is ``exc`` check_continues' partial overlap (not a gap, a fork or a bad chain)?"""
    seq = have.seq if have is not None else 0
    return type(exc) is ChainError and header.first_seq <= seq < header.last_seq


def _beyond_held(
    holdings: Holdings, log: LogId, entries: list[Entry], have: Head | None
) -> list[Entry]:
    """The entries of an overlapping batch above what we hold (SPEC.md §9.2, taking an
    overlap), after checking that every entry we hold is the one the batch carries.

    A relay restored from a backup receives a village's log again in other batch
    boundaries and cannot re-split the signed batch; refusing the overlap would leave
    it offering the same envelope for ever. The entries are hash-chained, so a matching
    held part proves the batch extends exactly the log we hold.

    Raises:
        ForkError: an entry we hold differs from the batch's entry at the same seq.
    """
    have_seq = have.seq if have is not None else 0
    held = holdings.entry_hashes(log, entries[0].seq, have_seq)
    if have is not None:
        held[have_seq] = have.hash  # the frontier's head decides
    for entry in entries:
        mine = held.get(entry.seq)
        if mine is not None and mine != entry.hash:
            raise ForkError(f"{log}: the batch carries another entry {entry.seq} than we hold")
    return [entry for entry in entries if entry.seq > have_seq]


def _quarantine(store: NodeStore, env: Envelope, now_ms: int, exc: QuarantineError) -> None:
    """Signed and valid but not applicable now: keep it as evidence and report it."""
    h = env.header
    with immediate(store.db):
        Evidence(store.db).quarantine(
            now_ms, str(h.log), h.first_seq, h.last_seq, str(exc.code), str(exc), env.raw
        )


def _record_extended(
    store: NodeStore, env: Envelope, now_ms: int, exc: ExpiryExtendedError
) -> None:
    """A hop (normally a township) signed a later expiry than the origin: keep the
    proof for the administrator (``alerts``, kind ``expiry_extended``, SPEC.md §6.7 step
    2). The proof is the envelope's evidence form (§6.4): the hop's signature over
    the digest form shows that this hop signed that expiry, the origin's over the
    header what the origin allowed, and it holds no wrap and no ciphertext."""
    h = env.header
    detail: dict[str, object] = {
        "detail": str(exc),
        "from": str(env.sender),
        "first_seq": h.first_seq,
        "last_seq": h.last_seq,
        "expires_ms": env.expires_ms,
        "origin_expires_ms": h.expires_ms,
        "evidence": "envelope_evidence",
    }
    with immediate(store.db):
        Evidence(store.db).alert(
            now_ms, "expiry_extended", str(h.log), env.message_id.hex(), detail, evidence_form(env)
        )


def _record_fork(store: NodeStore, env: Envelope, now_ms: int, exc: ForkError) -> None:
    """Keep the evidence where the administrator will see it (``alerts``, kind fork).

    The proof is a fork proof (SPEC.md §9.3) when we kept the other signed header (a
    relay keeps the envelopes it forwards), else the refused envelope itself; when the
    fork lies inside a batch a relay keeps, ``held_message_id`` names that batch (its
    chain, opened, holds the other hash: no pair of signed headers claims the seq). The log
    stays frozen at what we hold: check_continues refuses every later batch that does
    not extend our head, so nothing of the other branch is applied.
    """
    header = env.header
    holdings = Holdings(store.db)
    proof, evidence, held_in = env.raw, "envelope", ""
    if isinstance(exc.proof, ForkProof):
        proof, evidence = exc.proof.to_bytes(), "fork_proof"
    else:
        for seq, claimed in sorted(header.claims().items()):
            held = holdings.held_header(header.log, seq)
            if held is not None and held[0].claims().get(seq) not in (None, claimed):
                proof = ForkProof(held[0], held[1], header, env.batch_sig).to_bytes()
                evidence = "fork_proof"
                break
            covering = holdings.envelope_covering(header.log, seq)
            if covering is not None and not held_in:
                held_in = decode_envelope(covering).message_id.hex()
    detail: dict[str, object] = {
        "detail": str(exc),
        "first_seq": header.first_seq,
        "last_seq": header.last_seq,
        "from": str(env.sender),
        "evidence": evidence,
    }
    if evidence == "envelope" and held_in:
        detail["held_message_id"] = held_in  # the kept batch whose chain it contradicts
    with immediate(store.db):
        Evidence(store.db).alert(
            now_ms, "fork", str(header.log), env.message_id.hex(), detail, proof
        )
