# SPDX-License-Identifier: Apache-2.0
"""The administrator's next revocation list: built and verified before anything is saved.

A revocation is made in the middle of an incident (a PC stolen), so the one thing it
must never do is leave the administrator's list in a state that breaks the next one.
The next list is therefore made whole in memory from the list held (the signed one,
the only source of truth), checked item by item (a serial not yet listed, logs of the
revoked node only, seqs inside the protocol's bounds), signed, decoded again and
verified against the key that must have signed it, and checked to succeed the held
list by SPEC.md §8.3. Only then is it written, atomically; a refusal changes nothing.
"""

from __future__ import annotations

from node.errors import NodeError
from protocol import (
    Certificate,
    LogId,
    NodeId,
    Revocation,
    RevocationList,
    SigningKey,
    decode_revocations,
    issue_revocations,
)

MAX_SEQ = 2**53 - 1
MAX_LOGS = 64
REASONS = ("lost", "stolen", "compromised", "retired")


def refused(zh: str, en: str, code: str) -> NodeError:
    return NodeError(f"{zh}；未做任何更改", f"{en}; nothing was changed", code=code)


def check_item(held: RevocationList | None, item: Revocation) -> None:
    """An item the next list may carry (SPEC.md §8.3), or a clear refusal.

    Raises:
        NodeError: ``already_revoked``, ``bad_valid_through`` or ``bad_reason``.
    """
    if held is not None and item.serial in held.revoked:
        earlier = held.revoked[item.serial]
        raise refused(
            f"证书 {item.serial}（{earlier.node}）已在吊销名单上（原因 {earlier.reason}）",
            f"certificate {item.serial} of {earlier.node} is already revoked "
            f"({earlier.reason}); a listed revocation never changes",
            "already_revoked",
        )
    if item.reason not in REASONS:
        raise refused(
            f"吊销原因 {item.reason!r} 无效", f"unknown reason {item.reason!r}", "bad_reason"
        )
    if len(item.valid_through) > MAX_LOGS:
        raise refused(
            f"--valid-through 最多 {MAX_LOGS} 个日志",
            f"at most {MAX_LOGS} logs in --valid-through",
            "bad_valid_through",
        )
    for log, seq in item.valid_through.items():
        if log.node != item.node:
            raise refused(
                f"--valid-through 中的日志 {log} 不属于被吊销的节点 {item.node}",
                f"--valid-through names {log}, not a log of {item.node}",
                "bad_valid_through",
            )
        if not 0 <= seq <= MAX_SEQ:
            raise refused(
                f"--valid-through 中 {log} 的序号 {seq} 超出范围（0..2^53-1）",
                f"seq {seq} of {log} is out of range 0..2^53-1",
                "bad_valid_through",
            )


def next_list(
    signing: SigningKey,
    issuer: NodeId,
    verifier: Certificate,
    held: RevocationList | None,
    item: Revocation,
    now_ms: int,
) -> tuple[bytes, RevocationList]:
    """Sign the list that adds ``item`` to ``held``, verified as a holder would.

    ``verifier`` is the certificate a node verifies the list with (the county root).
    ``issued_at`` never goes back behind the held list's, even if this PC's clock did:
    a list issued earlier than the held one is refused everywhere (§8.3).

    Raises:
        NodeError: the item is refused (:func:`check_item`).
        ProtocolError: the signed list does not verify or does not succeed ``held``
            (a key that is not the one nodes trust).
    """
    check_item(held, item)
    items = [*(held.revoked.values() if held is not None else ()), item]
    version = (held.version if held is not None else 0) + 1
    issued_at = max(now_ms, held.issued_at if held is not None else 0)
    raw = issue_revocations(signing, issuer, version, issued_at, items)
    newer = decode_revocations(raw, verifier)
    if held is not None:
        held.check_successor(newer)
    return raw, newer


def parse_valid_through(text: str) -> tuple[LogId, int]:
    """``LOG=SEQ`` as typed at the terminal (``village:441322119001#1=120``).

    Raises:
        NodeError: ``bad_valid_through`` naming what is wrong.
    """
    log_text, sep, seq_text = text.rpartition("=")
    if not sep or not (seq_text.isascii() and seq_text.isdigit()) or len(seq_text) > 16:
        raise refused(
            f"--valid-through {text!r} 应写成 日志=序号（如 village:441322119001#1=120）",
            f"--valid-through {text!r} must look like LOG=SEQ (e.g. village:441322119001#1=120)",
            "bad_valid_through",
        )
    return LogId.parse(log_text), int(seq_text)
