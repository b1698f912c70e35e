# SPDX-License-Identifier: Apache-2.0
"""Renewed certificates reach their nodes, and their children, through sync (item 3).

The administrator renews a node's certificate (``renkou keys renew --code C``: same
keys, a new serial and window) or certifies its rotated keys (``renkou keys rotate``,
node/keys/rotation.py), and installs the new certificate at the county node
(``keys/issued/<code>.cert``), which serves it to anyone at ``GET
/keys/v1/certificates/<code>`` (a certificate is public and verified by whoever takes
it). Then, with no file replaced by hand:

* the node fetches its own newest certificate before a sync round, at most hourly
  (:func:`fetch_own`), and installs it as ``keys/node.cert`` if it chains to its root,
  names it, carries its keys (or the rotated keys it waits for) and is newer (a greater
  serial) than the one it holds;
* its children meet the new certificate in its session answer (SPEC.md §8.5): each
  accepts it because it chains to the root it trusts, is its parent's, is not revoked
  and is newer than the parent certificate it holds, verifies the welcome with it, and
  only then keeps it as ``keys/parent.cert`` (:func:`newer_parent`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from node.errors import NodeError
from node.identity import key_dir, load_identity
from node.keys.files import write_atomic
from node.store.sync_meta import SyncMeta
from node.sync.failures import SessionFailed
from node.sync.trust import Trust
from protocol import Certificate, ProtocolError
from protocol.ids import check_division_code

ISSUED_DIR = "issued"
CERTIFICATE_PATH = "/keys/v1/certificates/"
CHECK_EVERY_MS = 3_600_000
MAX_CERT_BYTES = 64 * 1024
_CHECKED = "own_certificate_checked"


def publish(county_data_dir: Path, cert: Certificate) -> None:
    """Install a renewed certificate at the county node, from where it is served."""
    directory = key_dir(county_data_dir) / ISSUED_DIR
    directory.mkdir(exist_ok=True)
    write_atomic(directory / f"{cert.node.code}.cert", cert.raw)


def published(data_dir: Path, code: str) -> bytes:
    """The certificate the county node publishes for ``code`` (b"" when none)."""
    check_division_code(code)  # a code, never a path
    path = key_dir(data_dir) / ISSUED_DIR / f"{code}.cert"
    return path.read_bytes() if path.exists() else b""


def newer_parent(trust: Trust, held: Certificate, raw: bytes, now_ms: int) -> Certificate:
    """The parent's certificate its session answer carries: ``held``, or a newer one.

    Raises:
        SessionFailed: the certificate does not chain to our root, is revoked or out of
            its window, names another node, or is not newer than the one we hold.
    """
    if raw == held.raw:
        return held
    try:
        cert = trust.check(raw, now_ms)
    except ProtocolError as exc:
        raise SessionFailed(
            f"the parent answered with a certificate we cannot accept: {exc}", code=str(exc.code)
        ) from None
    if cert.node != held.node:
        raise SessionFailed(f"the parent answered with the certificate of {cert.node}")
    if cert.serial <= held.serial:
        raise SessionFailed(
            f"the parent answered with certificate {cert.serial}, older than the one held "
            f"({held.serial})"
        )
    return cert


def keep_parent(data_dir: Path, cert: Certificate) -> None:
    """Keep the parent's renewed certificate, once its welcome verified with it."""
    write_atomic(key_dir(data_dir) / "parent.cert", cert.raw)


def take_own(trust: Trust, raw: bytes, now_ms: int) -> Certificate | None:
    """Install ``raw`` as our own certificate if it is a newer one for our keys (or
    for the rotated keys we wait for: node/keys/rotation.py swaps them in).

    Returns the installed certificate, or None when it is the one held.

    Raises:
        ProtocolError: not a valid certificate of our root.
        ValueError: another node's, an older one, or for keys that are not ours.
    """
    from node.keys.rotation import take_rotated

    cert = trust.check(raw, now_ms)
    held = trust.own("node.cert")
    if cert.raw == held.raw:
        return None
    if cert.node != held.node or cert.serial <= held.serial:
        raise ValueError(f"certificate {cert.serial} of {cert.node} does not renew ours")
    identity = load_identity(trust.data_dir)
    if cert.verify_key.raw != identity.signing.verify_key.raw:
        if not take_rotated(trust.data_dir, cert):
            raise ValueError(f"certificate {cert.serial} is not for this PC's keys")
    elif cert.kem_key.raw != identity.kem.public_key.raw:
        raise ValueError(f"certificate {cert.serial} is not for this PC's keys")
    write_atomic(key_dir(trust.data_dir) / "node.cert", cert.raw)
    if trust.own("parent.cert").node == cert.node:  # the county node: its own parent
        write_atomic(key_dir(trust.data_dir) / "parent.cert", cert.raw)
        write_atomic(key_dir(trust.data_dir) / "county.cert", cert.raw)
    return cert


def fetch_own(
    trust: Trust,
    meta: SyncMeta,
    urls: list[str],
    now_ms: int,
    *,
    timeout_s: float = 10.0,
    http: Any = None,
) -> str:
    """Before a round, at most hourly: fetch our newest certificate from the county
    (or the parent) and install it if it renews ours. A line for the report ("" when
    not due); nothing raises: sync goes on with the certificate held.

    ``http`` is the round's own session (node/sync/link.py): the request goes where
    the round's requests go, through its proxies and its connection to the parent, and
    a simulated network answers it instead of a name server (tests/sim)."""
    http = http or requests
    last = meta.get(_CHECKED)
    if last is not None and 0 <= now_ms - int(last) < CHECK_EVERY_MS:
        return ""
    meta.set(_CHECKED, str(now_ms))
    code = trust.own("node.cert").node.code
    for url in dict.fromkeys(u for u in urls if u):
        try:
            resp = http.request("GET", url + CERTIFICATE_PATH + code, timeout=timeout_s)
        except requests.RequestException:
            continue
        if resp.status_code != 200 or not 0 < len(resp.content) <= MAX_CERT_BYTES:
            continue
        try:
            cert = take_own(trust, resp.content, now_ms)
        except (ProtocolError, ValueError, NodeError) as exc:
            return (
                "县级发布的本机证书未安装 / the certificate published for us was not "
                f"installed: {getattr(exc, 'code', 'refused')}: {exc}"
            )
        if cert is None:
            return ""
        from node.keys.dates import local_date

        return (
            f"已安装续期证书 {cert.serial}，有效至 {local_date(cert.not_after)} / installed "
            f"our renewed certificate {cert.serial}"
        )
    return ""


__all__ = ["fetch_own", "keep_parent", "newer_parent", "publish"]
