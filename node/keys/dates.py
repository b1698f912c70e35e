# SPDX-License-Identifier: Apache-2.0
"""Dates and times as the keys commands print them: Asia/Shanghai, Chinese and ISO.

Certificates and lists keep UTC milliseconds (SPEC.md §1.2); an administrator reads
``2026年11月29日 14:05（2026-11-29T14:05+08:00）``, never ``1859572014682``.
"""

from __future__ import annotations

import re
from datetime import datetime

from node.timeutil import SHANGHAI


def _local(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, SHANGHAI)


def local_time(ms: int) -> str:
    """``2026年11月29日 14:05（2026-11-29T14:05+08:00）``: to the minute, local."""
    t = _local(ms)
    return f"{t.year}年{t.month}月{t.day}日 {t:%H:%M}（{t.isoformat(timespec='minutes')}）"


def local_date(ms: int) -> str:
    """``2026年11月29日（2026-11-29）``: the local calendar day of ``ms``."""
    t = _local(ms)
    return f"{t.year}年{t.month}月{t.day}日（{t.date().isoformat()}）"


_MS = re.compile(r"(?<![0-9])1[0-9]{12}(?![0-9])")
"""A UTC millisecond time of 2001..2286 as protocol messages spell it."""


def readable(text: str) -> str:
    """``text`` with every millisecond time in it (a protocol error's "valid
    1795000000000..1830297600000") written as a local time instead."""
    return _MS.sub(lambda m: local_time(int(m[0])), text)
