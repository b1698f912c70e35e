# SPDX-License-Identifier: Apache-2.0
"""Holiday schedules the county publishes, kept by the node as signed files.

When the State Council publishes a year the holiday package does not know yet, the
county administrator signs the schedule with the county's issuing key (``renkou keys
sign-schedule``; the root's signature is accepted too)
and installs it at the county node; from there it travels down with every sync
(node/sync/schedules.py), so no one carries files to villages. ``renkou node
import-schedule FILE`` still takes a signed file by hand. Either way the node verifies
it against the root certificate it was enrolled with, and keeps one schedule per year:
a schedule replaces the held one of its year only if its ``published`` date is later
(SPEC.md §8.7), so a relay restored from an old backup, or an old file found on a
stick, never puts an outdated year back. The files stay signed on disk so they can be
checked again at any time.
"""

from __future__ import annotations

import threading
from pathlib import Path

from node.deadlines import WorkCalendar, YearSchedule, load_schedule
from node.errors import FieldProblem, ValidationError
from node.identity import load_certificate
from node.keys.files import write_atomic
from node.keys.issuing import held_issuing, list_signer
from protocol import (
    Certificate,
    CertificateError,
    ProtocolError,
    SignatureError,
    SignedObject,
    decode_signed,
)

METADATA_DIR = "metadata"
ROOT_CERT = "root.cert"
_INSTALL_LOCK = threading.Lock()


def _refused(code: str, zh: str, en: str) -> ValidationError:
    return ValidationError([FieldProblem("file", f"schedule.{code}", zh, en)])


def verified_schedule(data_dir: Path, raw: bytes) -> YearSchedule:
    """A signed schedule checked against the county root this node was enrolled with.

    Raises:
        ValidationError: not enrolled, a container that fails SPEC.md §8.1, a signature
            that is not the root's (``schedule.bad_signature``), or a body that breaks
            a rule of §8.7 (each problem named).
    """
    root = load_certificate(data_dir, ROOT_CERT)
    if root is None:
        raise _refused(
            "not_enrolled",
            "本节点尚未登记（缺少县根证书），无法验证节假日安排的签名",
            "this node is not enrolled (no county root certificate) so the schedule's "
            "signature cannot be checked",
        )
    try:
        signed = _verified(data_dir, root, raw)
    except ProtocolError as exc:
        raise _refused(
            str(exc.code),
            f"节假日安排文件无效或不是本县根密钥签发的：{exc}",
            f"the holiday schedule file is invalid or not signed by the county root: {exc}",
        ) from None
    return load_schedule(dict(signed.body))


def _verified(data_dir: Path, root: Certificate, raw: bytes) -> SignedObject:
    """The schedule's container, its signature checked: by the root, or by the issuing
    certificate the root signed (the county's day-to-day key, node/keys/issuing.py)."""
    signed = decode_signed(raw, expect_type="holiday_schedule")
    try:
        signer = list_signer(signed, root, held_issuing(data_dir))
    except CertificateError:  # signed by some other key: SPEC §8.7 says bad_signature
        raise SignatureError(
            "the schedule is signed by neither the root nor its issuing key"
        ) from None
    signed.verify(signer.verify_key)
    return signed


def install_schedule(data_dir: Path, raw: bytes) -> tuple[YearSchedule, bool]:
    """Verify a signed schedule and keep it unless the held one of its year is newer.

    Returns the schedule and whether it was installed (False: these very bytes are
    held already). The file is replaced atomically; the lock and the comparison under
    it keep two installs in this process from putting an older schedule over a newer.

    Raises:
        ValidationError: as :func:`verified_schedule`; ``schedule.older`` when the held
            schedule of that year was published later; ``schedule.conflict`` when it
            was published the same day with other dates (SPEC.md §8.7: an error).
    """
    schedule = verified_schedule(data_dir, raw)
    directory = data_dir / METADATA_DIR
    path = directory / f"holidays-{schedule.year}.signed"
    with _INSTALL_LOCK:
        if path.exists():
            held_raw = path.read_bytes()
            if held_raw == raw:
                return schedule, False
            _check_replaces(schedule, verified_schedule(data_dir, held_raw))
        directory.mkdir(exist_ok=True)
        write_atomic(path, raw)
    return schedule, True


def _check_replaces(newer: YearSchedule, held: YearSchedule) -> None:
    assert newer.published is not None and held.published is not None  # county schedules
    if newer.published < held.published:
        raise _refused(
            "older",
            f"{newer.year} 年节假日安排（{newer.published} 发布）比本机已有的"
            f"（{held.published} 发布）旧，未导入",
            f"the {newer.year} schedule published {newer.published} is older than the one "
            f"held here (published {held.published}); it was not imported",
        )
    if newer.published == held.published:
        raise _refused(
            "conflict",
            f"{newer.year} 年有两份同日（{held.published}）发布而内容不同的节假日安排，"
            "未导入；请向县管理员核实",
            f"two different {newer.year} schedules were both published {held.published}; "
            "this one was not imported: ask the county administrator which is right",
        )


def import_schedule(data_dir: Path, raw: bytes) -> YearSchedule:
    """Verify a signed holiday schedule against the county root and keep it
    (``renkou node import-schedule``); see :func:`install_schedule`."""
    return install_schedule(data_dir, raw)[0]


def held_schedules_raw(data_dir: Path) -> list[bytes]:
    """The signed schedules this node holds, as the county signed them, by year."""
    directory = data_dir / METADATA_DIR
    if not directory.exists():
        return []
    return [path.read_bytes() for path in sorted(directory.glob("holidays-*.signed"))]


def node_calendar(data_dir: Path) -> WorkCalendar:
    """The working-day calendar with every verified schedule this node holds."""
    root = load_certificate(data_dir, ROOT_CERT)
    schedules = []
    if root is not None:
        for raw in held_schedules_raw(data_dir):
            schedules.append(load_schedule(dict(_verified(data_dir, root, raw).body)))
    return WorkCalendar(schedules=schedules)
