# SPDX-License-Identifier: Apache-2.0
"""Revocation lists travel with sync (design.md: "with every sync"; SPEC.md §8.3, §8.6).

The county administrator installs a new list at the county node (``renkou keys revoke
--county-data-dir`` or ``renkou keys install-revocations``). From there it goes down one
hop per sync, each node passing on the list it holds:

* The child names the version it holds in its state request (``r=``, left out when it
  holds none). The parent answers 204 only if the digests are equal *and* it holds no
  newer list; otherwise its full state carries ``"crl": <version>``. An idle round thus
  stays one request, a few bytes longer only once a list exists.
* A child offered a newer version fetches ``GET /sync/v1/revocations`` (authenticated
  like every request), verifies the list against its own county root and installs it
  if it succeeds the held one (trust.install_revocations: never a lower version, never
  a dropped or widened item), atomically. A list that does not verify is reported and
  the round goes on; the offer stays, so the next round tries again.
* Installed, it takes effect at once: every request loads the trust store, so the
  handshake of a revoked child is refused (403 ``revoked``, with the reason) and its
  batches beyond ``valid_through`` are refused (SPEC.md §7b).
"""

from __future__ import annotations

import time
from pathlib import Path

from node.i18n import gettext
from node.sync.trust import held_revocations, install_revocations
from protocol import CertificateError, ProtocolError, RevocationList


def version(crl: RevocationList | None) -> int:
    """The version of a held list (0: none)."""
    return crl.version if crl is not None else 0


def held_version(data_dir: Path) -> int:
    """The version of the list installed here (0: none)."""
    return version(held_revocations(data_dir))


def state_param(crl: RevocationList | None) -> str:
    """The state request's ``r=`` part: the version we hold ("" when none)."""
    held = version(crl)
    return f"&r={held}" if held else ""


def take(data_dir: Path, raw: bytes) -> str:
    """Install the list the parent served; a line for the round's report.

    Raises:
        ProtocolError: the list does not verify against our root or does not succeed
            ours.
    """
    if not raw:
        raise CertificateError("the parent offered a revocation list but served none")
    crl = install_revocations(data_dir, raw)
    if crl is None:
        return "the parent's revocation list is the one installed here"
    return (
        f"已安装吊销名单第 {crl.version} 版（{len(crl.revoked)} 项）/ installed revocation "
        f"list version {crl.version} ({len(crl.revoked)} revoked)"
    )


MAX_LIST_AGE_MS = 30 * 86_400_000
"""A list older than this is a warning in status: the county re-issues its list at least
monthly (``renkou keys refresh-revocations``), so an older one means this node has been
cut off from it (a parent withholding it, say)."""


def status_lines(data_dir: Path | None, now_ms: int | None = None) -> list[str]:
    """``renkou node status``: which list this node holds, and a warning when it is old."""
    if data_dir is None:
        return []
    try:
        crl = held_revocations(data_dir)
    except ProtocolError as exc:
        return [
            gettext("revocations: the installed list does not verify (%(code)s)", code=exc.code)
        ]
    if crl is None:
        return [gettext("revocations: none installed")]
    lines = [
        gettext(
            "revocations: version %(version)s, %(n)s revoked",
            version=crl.version,
            n=len(crl.revoked),
        )
    ]
    now = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    if now - crl.issued_at > MAX_LIST_AGE_MS:
        from node.keys.dates import local_date

        lines.append(
            gettext(
                "WARNING:   the revocation list was issued %(days)s days ago (%(date)s): fetch "
                "the county's current list (renkou node sync, or renkou node "
                "install-revocations FILE)",
                days=(now - crl.issued_at) // 86_400_000,
                date=local_date(crl.issued_at),
            )
        )
    return lines
