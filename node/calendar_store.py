# SPDX-License-Identifier: Apache-2.0
"""Holiday schedules the county publishes, kept by the node as signed files.

When the State Council publishes a year the holiday package does not know yet, the
county signs the schedule with its root key; the node verifies it against the root
certificate it was enrolled with before using it (until the sync network carries it,
the officer imports the file). The files stay signed on disk so they can be checked
again at any time.
"""

from __future__ import annotations

from pathlib import Path

from node.deadlines import WorkCalendar, YearSchedule, load_schedule
from node.errors import FieldProblem, ValidationError
from node.identity import load_certificate
from protocol import ProtocolError, decode_signed

METADATA_DIR = "metadata"
ROOT_CERT = "root.cert"


def import_schedule(data_dir: Path, raw: bytes) -> YearSchedule:
    """Verify a signed holiday schedule against the county root and keep it."""
    root = load_certificate(data_dir, ROOT_CERT)
    if root is None:
        raise ValidationError(
            [
                FieldProblem(
                    "file",
                    "schedule.not_enrolled",
                    "本节点尚未登记（缺少县根证书），无法验证节假日安排的签名",
                    "this node is not enrolled (no county root certificate) so the schedule's "
                    "signature cannot be checked",
                )
            ]
        )
    try:
        signed = decode_signed(raw, expect_type="holiday_schedule")
        signed.verify(root.verify_key)
    except ProtocolError as exc:
        raise ValidationError(
            [
                FieldProblem(
                    "file",
                    f"schedule.{exc.code}",
                    f"节假日安排文件无效或签名不符：{exc}",
                    f"the holiday schedule file is invalid or not signed by the county root: {exc}",
                )
            ]
        ) from None
    schedule = load_schedule(dict(signed.body))
    directory = data_dir / METADATA_DIR
    directory.mkdir(exist_ok=True)
    (directory / f"holidays-{schedule.year}.signed").write_bytes(raw)
    return schedule


def node_calendar(data_dir: Path) -> WorkCalendar:
    """The working-day calendar with every verified schedule this node holds."""
    root = load_certificate(data_dir, ROOT_CERT)
    schedules = []
    directory = data_dir / METADATA_DIR
    if root is not None and directory.exists():
        for path in sorted(directory.glob("holidays-*.signed")):
            signed = decode_signed(path.read_bytes(), expect_type="holiday_schedule")
            signed.verify(root.verify_key)
            schedules.append(load_schedule(dict(signed.body)))
    return WorkCalendar(schedules=schedules)
