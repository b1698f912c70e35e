# SPDX-License-Identifier: Apache-2.0
"""The check report slip (避孕节育情况报告单) as printed: the slip and its stub.

篇10 第23条: a floating woman has her free checks where she lives and carries the slip
to show her hukou place, so she never travels back for a check (篇10 第20条); the office
keeps the stub, with the same number. One sheet: the slip she takes, then the stub that
stays, both free of charge (篇10 第12条: certificates are free; this slip is too).
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from node.errors import NotFoundError
from node.registers.labels import display_value
from node.registers.model import Column, Register, Section
from node.store.lookup import RecordLookup, node_name

TITLE = "避孕节育情况报告单"
COLUMNS = (Column("item", "项目"), Column("value", "内容"))
FREE = "本报告单免费出具，持单人无需返回户籍地检查"


def build_slip(db: Database, slip_id: str) -> Register:
    """The printable slip ``slip_id`` with its stub.

    Raises:
        NotFoundError: no live slip of that id.
    """
    lookup = RecordLookup(db)
    slip = lookup.get("check_report_slip", slip_id)
    if slip is None or lookup.retired("check_report_slip", slip_id) is not None:
        raise NotFoundError(f"没有编号为 {slip_id} 的报告单", f"no check report slip {slip_id}")
    card = lookup.get("person", slip.get("person_ref")) or {}
    rows = _rows(slip, card)
    stub = Section(f"{TITLE}（存根，由出具单位留存）", COLUMNS, rows)
    return Register(
        title=f"{TITLE}（持单人联）",
        columns=COLUMNS,
        rows=[*rows, {"item": "说明", "value": FREE}],
        name="check_slip",
        village=node_name(db),
        month=str(slip.get("issued_date", ""))[:7],
        sections=(stub,),
    )


def _rows(slip: dict[str, Any], card: dict[str, Any]) -> list[dict[str, Any]]:
    pairs = (
        ("编号", slip.get("slip_no")),
        ("姓名", card.get("name")),
        ("身份证号码", card.get("id_number")),
        ("户籍地址", card.get("hukou_address")),
        ("现居住地址", card.get("residence_address")),
        ("婚姻状况", display_value("marital_status", card.get("marital_status"))),
        ("检查日期", slip.get("check_date")),
        ("检查单位", slip.get("check_place")),
        ("避孕节育情况", display_value("method_in_use", slip.get("method_in_use"))),
        ("检查结论", display_value("check_result", slip.get("check_result"))),
        ("出具单位", slip.get("issuer")),
        ("出具日期", slip.get("issued_date")),
    )
    return [{"item": k, "value": "" if v is None else v} for k, v in pairs]
