# SPDX-License-Identifier: Apache-2.0
"""Holiday schedules travel with sync, like the revocation list (SPEC.md §8.6, §8.7).

The county administrator signs a year's schedule (``renkou keys sign-schedule``) and
installs it at the county node; from there it goes down one hop per sync, each node
passing on the schedules it holds:

* The child names, in its state request (``h=``), the digest of the parent's set of
  schedules it last took (protocol/schedules.py; left out before the first). The
  parent answers 204 only if the digests of the round agree *and* its own set has that
  digest; otherwise its full state carries ``"schedules": <digest>``. An idle round
  thus stays one request.
* A child offered another set fetches ``GET /sync/v1/schedules`` (authenticated like
  every request) and installs each schedule that verifies against its own county root
  and is newer than the one it holds of that year (node/calendar_store.py): never an
  older one, never one signed by another key. It then remembers the parent's digest,
  so the same set is not fetched again; a schedule refused is reported in the round.
"""

from __future__ import annotations

from pathlib import Path

from node.calendar_store import held_schedules_raw, install_schedule
from node.errors import ValidationError
from node.store.sync_meta import SyncMeta
from protocol.schedules import decode_schedule_bundle, schedule_set_digest

SEEN_KEY = "parent_schedules"
"""SyncMeta key: the digest of the parent's set of schedules last taken."""


def held_digest(data_dir: Path) -> str:
    """The digest of the set of schedules held here ("" when none)."""
    return schedule_set_digest(held_schedules_raw(data_dir))


def state_param(meta: SyncMeta) -> str:
    """The state request's ``h=`` part ("" before the first set was taken)."""
    seen = meta.get(SEEN_KEY) or ""
    return f"&h={seen}" if seen else ""


def offered(meta: SyncMeta, digest: str) -> bool:
    """Does the parent hold a set of schedules we have not taken yet?"""
    return bool(digest) and digest != (meta.get(SEEN_KEY) or "")


def take(data_dir: Path, meta: SyncMeta, digest: str, bundle: bytes) -> list[str]:
    """Install what is newer in the bundle the parent served; lines for the report.

    The parent's digest is remembered only when the bundle has that digest (a bundle
    that changed between the state and the fetch is taken again next round).

    Raises:
        ProtocolError: the bundle is not readable (nothing is installed).
    """
    schedules = decode_schedule_bundle(bundle)
    notes = []
    for raw in schedules:
        try:
            schedule, installed = install_schedule(data_dir, raw)
        except ValidationError as exc:
            first = exc.problems[0]
            notes.append(
                f"上级的一份节假日安排未导入：{first.zh} / a schedule from the parent was "
                f"not installed: {first.code}: {first.en}"
            )
            continue
        if installed:
            notes.append(
                f"已导入 {schedule.year} 年节假日安排（{schedule.published} 发布）/ installed "
                f"the {schedule.year} holiday schedule published {schedule.published}"
            )
    if schedule_set_digest(schedules) == digest:
        meta.set(SEEN_KEY, digest)
    return notes
