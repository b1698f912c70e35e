# SPDX-License-Identifier: Apache-2.0
"""Where this node syncs: its parent's address, kept at enrolment (``keys/parent.url``).

``renkou node enroll`` reaches the parent over the network already (a township the
county, a village its township with ``--via``), so it keeps that address; ``renkou node
sync`` and ``renkou node serve`` then need no ``--parent-url``. One given on the command
line or in ``RENKOU_PARENT_URL`` still wins (a parent that moved). A village that
enrolled straight at the county (no ``--via``) keeps none: the county is not its parent.
"""

from __future__ import annotations

from pathlib import Path

from node.identity import key_dir
from node.keys.files import write_atomic

PARENT_URL_FILE = "parent.url"


def parent_url(data_dir: Path) -> str:
    """The parent's address kept here ("" when none is known)."""
    path = key_dir(data_dir) / PARENT_URL_FILE
    return path.read_text(encoding="utf-8").strip().rstrip("/") if path.exists() else ""


def remember_parent_url(data_dir: Path, url: str) -> None:
    """Keep ``url`` as the parent's address (an http(s) address, or ValueError)."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) address: {url!r}")
    write_atomic(key_dir(data_dir) / PARENT_URL_FILE, (url.rstrip("/") + "\n").encode())
