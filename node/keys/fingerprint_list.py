# SPDX-License-Identifier: Apache-2.0
"""The certificates an administrator's directory holds, for ``renkou keys list``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from protocol import Certificate, decode_certificate


def issued_certificates(admin_dir: Path) -> Iterator[tuple[str, Certificate]]:
    """(file, certificate) for the root, every node's newest certificate and every
    cross-certificate of a peer county, soonest to expire first."""
    paths = [admin_dir / "root.cert"]
    for sub in ("issued", "peers"):
        if (admin_dir / sub).is_dir():
            paths += sorted((admin_dir / sub).glob("*.cert"))
    found = [(str(p.relative_to(admin_dir)), decode_certificate(p.read_bytes())) for p in paths]
    yield from sorted(found, key=lambda item: (item[1].not_after, item[0]))
