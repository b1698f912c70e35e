# SPDX-License-Identifier: Apache-2.0
"""Vectors of trust: certificate chains (SPEC.md §8.2) and revocation lists (§7a, §7b, §8.3).

Everything here is CLASSIC, so every byte is deterministic (Ed25519), except the one
HYBRID chain, which is checked by verifying it. ``python -m protocol.vectors.generate
certs.json revocations.json`` writes the files.
"""

from __future__ import annotations

from typing import Any

from protocol import batches
from protocol.batches import sign_batch
from protocol.certs import Revocation, decode_certificate, issue_certificate, issue_revocations
from protocol.crypto import KemPrivateKey, SigningKey, Suite
from protocol.ids import LogId
from protocol.testing import (
    NOT_AFTER,
    NOT_BEFORE,
    NOW,
    ORIGIN_EXPIRES,
    ORIGIN_SENT,
    TestNode,
    chain_entries,
    make_node,
    seed,
)
from protocol.testing import person_payload as _person


def _cert(
    issuer: TestNode,
    subject: TestNode,
    *,
    serial: int,
    claimed_issuer: TestNode | None = None,
    not_before: int = NOT_BEFORE,
    not_after: int = NOT_AFTER,
) -> bytes:
    """``issuer`` certifies ``subject``'s keys, naming ``claimed_issuer`` (an impostor's lie)."""
    return issue_certificate(
        issuer.signing,
        (claimed_issuer or issuer).node,
        serial=serial,
        node=subject.node,
        verify_key=subject.signing.verify_key,
        kem_key=subject.kem.public_key,
        not_before=not_before,
        not_after=not_after,
    )


def _issuing(root: TestNode, suite: Suite) -> TestNode:
    """The county's issuing key (SPEC.md §8.2), certified by ``root`` (serial 2)."""
    signing = SigningKey(suite, seed(f"{root.node.code} issuing sign", suite.sign_seed_size))
    kem = KemPrivateKey(suite, seed(f"{root.node.code} issuing kem", suite.kem_seed_size))
    subject = TestNode(root.node, signing, kem, root.cert)
    return TestNode(root.node, signing, kem, decode_certificate(_cert(root, subject, serial=2)))


def _chain_case(
    name: str, chain: list[bytes], anchors: list[bytes], expect: str, *, now: int = NOW
) -> dict[str, Any]:
    case: dict[str, Any] = {
        "name": name,
        "chain": [c.hex() for c in chain],
        "anchors": [a.hex() for a in anchors],
        "now": now,
        "expect": expect,
    }
    if expect == "ok":
        case["leaf"] = str(decode_certificate(chain[0]).node)
    return case


def certificate_vectors() -> dict[str, Any]:
    """§8.2 chain verification: valid chains (a cross-certificate included) and one
    case per failing check, each with the code the first failing check gives."""
    suite = Suite.CLASSIC
    root = make_node("440104", suite=suite)
    town = make_node("440104001", root, suite)
    village = make_node("440104001002", root, suite)
    other_root = make_node("440105", suite=suite)
    other_village = make_node("440105001001", other_root, suite)
    third_root = make_node("440106", suite=suite)
    third_village = make_node("440106001001", third_root, suite)
    cross = _cert(root, other_root, serial=9001)
    transitive = _cert(other_root, third_root, serial=9002)
    by_town = _cert(town, village, serial=9003)
    foreign = _cert(root, other_village, serial=9004)
    impostor = _cert(other_root, village, serial=9005, claimed_issuer=root)
    short = _cert(root, village, serial=9006, not_before=NOW - 1000, not_after=NOW - 1)
    early = _cert(root, village, serial=9007, not_before=NOW + 1)
    old_root = issue_certificate(
        root.signing, root.node, serial=9008, node=root.node,
        verify_key=root.signing.verify_key, kem_key=root.kem.public_key,
        not_before=NOT_BEFORE, not_after=NOW - 1,
    )  # fmt: skip
    spare = make_node("440107", suite=suite)  # other keys, under the peer county's name
    peer_county_node = _cert(
        other_root, TestNode(other_root.node, spare.signing, spare.kem, spare.cert), serial=9009
    )
    third_as_leaf = _cert(other_root, third_root, serial=9010)
    flipped = bytearray(village.cert.raw)
    flipped[-1] ^= 1
    hybrid_root = make_node("440104")
    hybrid_village = make_node("440104001002", hybrid_root)
    rootc, villagec = root.cert.raw, village.cert.raw
    issuing = _issuing(root, suite)
    by_issuing = _cert(issuing, village, serial=9010)
    county_by_issuing = _cert(issuing, make_node("440104", suite=suite), serial=9011)
    other_issuing = _issuing(other_root, suite)
    other_by_issuing = _cert(other_issuing, other_village, serial=9012)
    other_county_by_issuing = _cert(issuing, other_root, serial=9013)
    cases = [
        _chain_case("village under its root", [villagec], [rootc], "ok"),
        _chain_case("township under its root", [town.cert.raw], [rootc], "ok"),
        _chain_case("the root itself", [rootc], [rootc], "ok"),
        _chain_case("trailing copy of the anchor is dropped", [villagec, rootc], [rootc], "ok"),
        _chain_case(
            "valid at not_after, inclusive", [villagec], [rootc], "ok", now=NOT_AFTER
        ),
        _chain_case(
            "valid at not_before, inclusive", [villagec], [rootc], "ok", now=NOT_BEFORE
        ),
        _chain_case(
            "another county's village through our cross-certificate",
            [other_village.cert.raw, cross], [rootc], "ok",
        ),
        _chain_case(
            "cross-certificate, then a copy of the anchor",
            [other_village.cert.raw, cross, rootc], [rootc], "ok",
        ),
        _chain_case("cross-certificate alone", [cross], [rootc], "ok"),
        _chain_case(
            "village under the county's issuing certificate",
            [by_issuing, issuing.cert.raw], [rootc], "ok",
        ),
        _chain_case(
            "the county node under its issuing certificate",
            [county_by_issuing, issuing.cert.raw], [rootc], "ok",
        ),
        _chain_case(
            "another county's village through its issuing key and our cross-certificate",
            [other_by_issuing, other_issuing.cert.raw, cross], [rootc], "ok",
        ),
        _chain_case(
            "another county's own county node through our cross-certificate",
            [peer_county_node, cross], [rootc], "ok",
        ),
        _chain_case("HYBRID village under its root", [hybrid_village.cert.raw],
                    [hybrid_root.cert.raw], "ok"),
        # Step 1: length.
        _chain_case("empty chain", [], [rootc], "bad_certificate"),
        _chain_case("four certificates", [villagec] * 4, [rootc], "bad_certificate"),
        # Step 2: a county subject only last.
        _chain_case(
            "two cross-certificates (trust is not transitive)",
            [third_village.cert.raw, transitive, cross], [rootc], "bad_certificate",
        ),
        _chain_case(
            "a county certificate in the middle", [villagec, rootc, cross], [rootc],
            "bad_certificate",
        ),
        _chain_case(
            "another county's certificate under our issuing key",
            [other_county_by_issuing, issuing.cert.raw], [rootc], "bad_certificate",
        ),
        _chain_case(
            "a peer's cross-certificate of a third county as the leaf (not its own node)",
            [third_as_leaf, cross], [rootc], "bad_certificate",
        ),
        # Step 3: issuers.
        _chain_case(
            "no trusted issuer", [other_village.cert.raw], [rootc], "bad_certificate"
        ),
        _chain_case(
            "anchor that is not self-signed", [other_village.cert.raw], [cross],
            "bad_certificate",
        ),
        _chain_case(
            "a township as issuer", [by_town, town.cert.raw], [rootc], "bad_certificate"
        ),
        _chain_case(
            "a county certifying a village of another county", [foreign], [rootc],
            "bad_certificate",
        ),
        _chain_case(
            "signed by another county's key, naming ours", [impostor], [rootc],
            "bad_signature",
        ),
        _chain_case("signature flipped", [bytes(flipped)], [rootc], "bad_signature"),
        _chain_case(
            "village under an issuing certificate the root did not sign",
            [other_by_issuing, other_issuing.cert.raw], [rootc], "bad_certificate",
        ),
        _chain_case("leaf expired", [short], [rootc], "expired"),
        _chain_case("leaf not yet valid", [early], [rootc], "expired"),
        _chain_case("leaf after not_after", [villagec], [rootc], "expired", now=NOT_AFTER + 1),
        # Step 4: the anchor itself.
        _chain_case("anchor outside its window", [villagec], [old_root], "expired"),
    ]  # fmt: skip
    return {"cases": cases}


def _item(node: TestNode, valid_through: dict[LogId, int], *, serial: int = 0) -> Revocation:
    return Revocation(serial or node.cert.serial, node.node, NOW - 1000, "stolen", valid_through)


def revocation_vectors() -> dict[str, Any]:
    """§7a/§7b per batch (``check``), and §8.3 successor lists (``successors``)."""
    suite = Suite.CLASSIC
    root = make_node("440104", suite=suite)
    other_root = make_node("440105", suite=suite)
    village = make_node("440104001002", root, suite)
    village2 = make_node("440104001003", root, suite)
    log1, log2 = LogId(village.node, 1), LogId(village.node, 2)
    stolen = _item(village, {log1: 4})
    # An item with village2's serial that names another node: it applies to nobody else.
    elsewhere = Revocation(village2.cert.serial, make_node("440104001004", root, suite).node,
                           NOW - 1000, "lost", {})  # fmt: skip
    crl = issue_revocations(root.signing, root.node, 1, NOW, [stolen, elsewhere])
    foreign_crl = issue_revocations(other_root.signing, other_root.node, 1, NOW, [])

    def batch(signer: TestNode, log: LogId, first: int, last: int, serial: int = 0) -> bytes:
        entries = chain_entries(log, [_person(i) for i in range(first, last + 1)],
                                suite=suite, first_seq=first, prev_hash=bytes(32) if first == 1
                                else bytes([first]) * 32)  # fmt: skip
        header, sig = sign_batch(
            entries,
            signer.signing,
            serial or signer.cert.serial,
            sent_ms=ORIGIN_SENT,
            expires_ms=ORIGIN_EXPIRES,
        )
        return header.to_bytes() + sig

    def check(name: str, signer: TestNode, signed: bytes, expect: str, *, lists: str = "ours"
              ) -> dict[str, Any]:  # fmt: skip
        raw, root_of_list = {"ours": (crl, root), "foreign": (foreign_crl, other_root),
                             "none": (None, None)}[lists]  # fmt: skip
        return {
            "name": name,
            "certificate": signer.cert.raw.hex(),
            "batch_header": signed[: batches.SIZE].hex(),
            "batch_signature": signed[batches.SIZE :].hex(),
            "revocations": None if raw is None else raw.hex(),
            "revocations_root": None if root_of_list is None else root_of_list.cert.raw.hex(),
            "expect": expect,
        }

    checks = [
        check("revoked, batch within valid_through", village, batch(village, log1, 1, 4), "ok"),
        check("revoked, batch of one entry at valid_through", village,
              batch(village, log1, 4, 4), "ok"),
        check("revoked, batch one past valid_through", village, batch(village, log1, 1, 5),
              "revoked"),
        check("revoked, batch wholly past valid_through", village, batch(village, log1, 5, 6),
              "revoked"),
        check("revoked, a log valid_through does not name (through 0)", village,
              batch(village, log2, 1, 1), "revoked"),
        check("an item with this serial naming another node does not apply", village2,
              batch(village2, LogId(village2.node, 1), 1, 3), "ok"),
        check("no revocation list", village, batch(village, log1, 1, 9), "ok", lists="none"),
        check("7b: the list of another county", village, batch(village, log1, 1, 1),
              "bad_certificate", lists="foreign"),
        check("7a: the header names another serial", village,
              batch(village, log1, 1, 1, serial=village2.cert.serial), "bad_certificate"),
        check("7a: the certificate of another node", village2, batch(village, log1, 1, 1),
              "bad_certificate"),
    ]  # fmt: skip

    def successor(name: str, version: int, items: list[Revocation], expect: str, *,
                  at: int = NOW, issuer: TestNode = root) -> dict[str, Any]:  # fmt: skip
        raw = issue_revocations(issuer.signing, issuer.node, version, at, items)
        return {"name": name, "newer": raw.hex(), "newer_root": issuer.cert.raw.hex(),
                "expect": expect}  # fmt: skip

    extra = _item(make_node("440104001005", root, suite), {})
    widened = Revocation(stolen.serial, stolen.node, stolen.revoked_at, stolen.reason, {log1: 5})
    successors = [
        successor("one item more, next version", 2, [stolen, elsewhere, extra], "ok"),
        successor("a version far ahead", 9, [stolen, elsewhere], "ok"),
        successor("the same version again", 1, [stolen, elsewhere, extra], "bad_certificate"),
        successor("an item dropped", 2, [stolen], "bad_certificate"),
        successor("valid_through widened (un-revoking in effect)", 2, [widened, elsewhere],
                  "bad_certificate"),
        successor("issued before the held list", 2, [stolen, elsewhere], "bad_certificate",
                  at=NOW - 1),
        successor("another county's list", 2, [stolen, elsewhere], "bad_certificate",
                  issuer=other_root),
    ]  # fmt: skip
    return {
        "root": root.cert.raw.hex(),
        "held": crl.hex(),
        "check": checks,
        "successors": successors,
    }
