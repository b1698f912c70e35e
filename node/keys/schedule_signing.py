# SPDX-License-Identifier: Apache-2.0
"""Signing a year's holiday schedule with the county root (``renkou keys sign-schedule``).

The administrator types the State Council's notice in the schedule file format
(node/keys/schedule_file.py); the body is checked by the very rules every node applies
(node/deadlines/schedule.py) before the root signs it, so nothing signed is refused
downstream for its content. The signed schedule is kept in the administrator's
directory (``schedules/holidays-<year>.signed``) and installed at the county node, from
where sync carries it to every node (node/sync/schedules.py).

``published`` orders the schedules of one year: a node keeps the one published last
(SPEC.md §8.7). So a correction must be published on a later day than the schedule it
corrects; signing a second, different schedule of a year on the same day (or an earlier
one) is refused here, where it is fixable, not at every node.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from node.deadlines import YearSchedule, load_schedule
from node.errors import NodeError
from node.keys.files import write_atomic
from node.keys.schedule_file import parse_schedule_file
from protocol import SigningKey, decode_signed, sign_object

SCHEDULES_DIR = "schedules"


def signed_path(admin_dir: Path, year: int) -> Path:
    return admin_dir / SCHEDULES_DIR / f"holidays-{year}.signed"


def sign_schedule(
    admin_dir: Path, root_key: SigningKey, year: int, text: str, published: date
) -> tuple[YearSchedule, bytes]:
    """Build, check and sign ``year``'s schedule from the file ``text``; keep it.

    Returns the schedule and its signed bytes (written to ``schedules/`` atomically).

    Raises:
        ValidationError: a line of the file, or a rule of SPEC.md §8.7, is broken.
        NodeError: ``not_later``: this year's schedule signed here before was published
            on ``published`` or later.
    """
    body = parse_schedule_file(text, year, published)
    schedule = load_schedule(body)
    path = signed_path(admin_dir, year)
    if path.exists():
        held = load_schedule(dict(decode_signed(path.read_bytes()).body))
        assert held.published is not None
        if held.published >= published:
            raise NodeError(
                f"{year} 年的节假日安排已于 {held.published} 签发；更正须以更晚的发布日期签发"
                "（--published）",
                f"the {year} schedule signed here was published {held.published}; a "
                "correction must carry a later publication date (--published)",
                code="not_later",
            )
    raw = sign_object(body, root_key)
    path.parent.mkdir(exist_ok=True)
    write_atomic(path, raw)
    return schedule, raw
