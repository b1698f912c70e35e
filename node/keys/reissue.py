# SPDX-License-Identifier: Apache-2.0
"""The administrator re-issues certificates: renewal (same keys) and rotation (new keys).

Both write the new certificate to the administrator's ``issued/<code>.cert`` and, with
the county node's data dir, publish it there (node/keys/renewal.py), from where it
reaches the node and its children with sync. A revoked certificate is neither renewed
nor rotated: the PC it belonged to is not trusted any more, its replacement is enrolled.
"""

from __future__ import annotations

from pathlib import Path

from node.admin import CountyAdmin
from node.errors import NodeError
from node.identity import key_dir
from protocol import Certificate, ProtocolError
from protocol.crypto import KemPublicKey, VerifyKey
from protocol.rotation import decode_rotation

ROTATIONS_DIR = "rotations"


def _refused(code: str, zh: str, en: str) -> NodeError:
    return NodeError(f"{zh}；未做任何更改", f"{en}; nothing was changed", code=code)


def _current(admin: CountyAdmin, code: str) -> Certificate:
    held = admin.issued(code)
    if held is None:
        raise _refused(
            "not_issued",
            f"本县未给 {code} 签发过证书",
            f"no certificate was issued here for {code}",
        )
    crl = admin.revocations()
    if crl is not None and held.serial in crl.revoked:
        raise _refused(
            "revoked",
            f"{held.node} 的证书 {held.serial} 已被吊销，不能续期；请为替换的电脑重新登记",
            f"certificate {held.serial} of {held.node} is revoked: enrol the replacement PC "
            "instead",
        )
    return held


def _issue(
    admin: CountyAdmin, held: Certificate, verify: VerifyKey, kem: KemPublicKey, now_ms: int,
    years: int,
) -> Certificate:  # fmt: skip
    """Signed by the issuing key, like an enrolment (CountyAdmin.certify_keys)."""
    return admin.certify_keys(held.node, verify, kem, now_ms, years)


def renew(admin: CountyAdmin, code: str, now_ms: int, years: int = 2) -> Certificate:
    """A new certificate for the same keys: a new serial, valid ``years`` from now."""
    held = _current(admin, code)
    return _issue(admin, held, held.verify_key, held.kem_key, now_ms, years)


def pending_rotations(county_data_dir: Path) -> list[Path]:
    """The rotation requests the county node received and keeps, by node code."""
    directory = key_dir(county_data_dir) / ROTATIONS_DIR
    return sorted(directory.glob("*.signed")) if directory.is_dir() else []


def certify_rotation(admin: CountyAdmin, raw: bytes, now_ms: int, years: int = 2) -> Certificate:
    """Certify the new keys of a ``key_rotation`` signed by the node's current key.

    Raises:
        NodeError: ``bad_rotation``: not a rotation of the newest certificate issued
            here, not signed by its key; ``revoked``, ``not_issued``.
    """
    try:
        rotation = decode_rotation(raw)
    except ProtocolError as exc:
        raise _refused(
            "bad_rotation", f"轮换请求无效：{exc}", f"the rotation is not valid: {exc}"
        ) from None
    held = _current(admin, rotation.node.code)
    try:
        rotation.verify(held)
    except ProtocolError as exc:
        raise _refused(
            "bad_rotation",
            f"轮换请求不是由 {held.node} 当前证书（{held.serial}）的密钥签发的",
            f"the rotation is not signed by the key of {held.node}'s current certificate "
            f"{held.serial}: {exc}",
        ) from None
    return _issue(admin, held, rotation.verify_key, rotation.kem_key, now_ms, years)
