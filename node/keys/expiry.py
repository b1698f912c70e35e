# SPDX-License-Identifier: Apache-2.0
"""Certificates that run out soon: listed by ``renkou keys list``, warned in status.

A certificate that expires stops its node from syncing (SPEC.md §8.2: ``expired``), and
a township's stops every village under it. Thirty days is the warning: long enough for
the administrator to renew it (``renkou keys renew``), after which the renewed
certificate reaches the node and its children by itself (node/keys/renewal.py).
"""

from __future__ import annotations

from pathlib import Path

from node.i18n import gettext
from node.keys.dates import local_date
from protocol import Certificate, ProtocolError, decode_certificate

WARN_DAYS = 30
DAY_MS = 86_400_000
OWN_FILES = ("node.cert", "parent.cert", "county.cert", "root.cert")


def days_left(cert: Certificate, now_ms: int) -> int:
    """Whole days until ``cert`` expires (negative once it has)."""
    return (cert.not_after - now_ms) // DAY_MS


def expiry_note(cert: Certificate, now_ms: int, within_days: int = WARN_DAYS) -> str:
    """ "" when ``cert`` is good for longer than ``within_days``; else what to say."""
    left = days_left(cert, now_ms)
    until = local_date(cert.not_after)
    if cert.not_after < now_ms:
        return gettext("EXPIRED since %(date)s", date=until)
    if left <= within_days:
        return gettext("expires in %(days)s days, %(date)s", days=left, date=until)
    return ""


def status_lines(data_dir: Path | None, now_ms: int) -> list[str]:
    """``renkou node status``: a WARNING per certificate this node holds that expires
    within 30 days (or has expired), naming who renews it."""
    if data_dir is None:
        return []
    lines = []
    for name in OWN_FILES:
        path = data_dir / "keys" / name
        if not path.exists():
            continue
        try:
            cert = decode_certificate(path.read_bytes())
        except ProtocolError as exc:
            lines.append(
                gettext(
                    "WARNING:   keys/%(name)s is not a valid certificate (%(code)s)",
                    name=name,
                    code=exc.code,
                )
            )
            continue
        note = expiry_note(cert, now_ms)
        if note:
            lines.append(
                gettext(
                    "WARNING:   certificate %(serial)s of %(node)s (keys/%(name)s): %(note)s; "
                    "the county administrator renews it with `renkou keys renew --code "
                    "%(code)s`",
                    serial=cert.serial,
                    node=cert.node,
                    name=name,
                    note=note,
                    code=cert.node.code,
                )
            )
    return lines
