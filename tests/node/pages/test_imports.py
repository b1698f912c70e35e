# SPDX-License-Identifier: Apache-2.0
"""Bulk entry: the template, an import with one bad row (nothing written, the problem by
row and column), the good rows alone when chosen, and files that are not templates."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook

from deploy.cli import cli
from node.store.store import NodeStore
from tests.bench.bench_store import _cards
from tests.node.pages.helpers import VILLAGE, Village, form_token, make_village, sign_in


@pytest.fixture
def village(tmp_path: Path) -> Village:
    made = make_village(tmp_path)
    made.app.config["RENKOU_IMPORT_WAIT"] = True
    return made


@pytest.fixture
def officer(village: Village) -> FlaskClient:
    client = village.app.test_client()
    sign_in(client)
    return client


def _template(officer: FlaskClient) -> Workbook:
    response = officer.get("/import/template/person.xlsx")
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.data))


def _filled(officer: FlaskClient, rows: list[dict[str, str]]) -> bytes:
    """The downloaded template with ``rows`` typed in under the headings, in Chinese."""
    wb = _template(officer)
    sheet = wb.worksheets[0]
    guide = {r[0]: r[1] for r in wb.worksheets[1].iter_rows(min_row=2, values_only=True)}
    columns = [guide[c.value] for c in sheet[1]]
    for row in rows:
        sheet.append([row.get(name) for name in columns])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _rows(n: int) -> list[dict[str, str]]:
    rows = []
    for card in _cards(n):
        row = {k: str(v) for k, v in card.items()}
        row.update(sex="女", card_type="育龄妇女", marital_status="已婚",
                   hukou_code=VILLAGE, residence_code=VILLAGE)  # fmt: skip
        rows.append(row)
    return rows


def _send(officer: FlaskClient, data: bytes, keep_good: bool = False) -> str:
    form = {
        "kind": "person",
        "csrf_token": form_token(officer, "/import"),
        "file": (io.BytesIO(data), "cards.xlsx"),
    }
    if keep_good:
        form["keep_good"] = "1"
    sent = officer.post("/import", data=form, content_type="multipart/form-data")
    assert sent.status_code in (302, 400), sent.status_code
    if sent.status_code == 400:
        return sent.get_data(as_text=True)
    return officer.get(sent.headers["Location"]).get_data(as_text=True)


def _count(village: Village) -> int:
    store = NodeStore.open(village.data_dir)
    try:
        return sum(1 for _ in store.records("person"))
    finally:
        store.close()


def test_the_template_has_chinese_headings_and_drop_downs(officer: FlaskClient) -> None:
    sheet = _template(officer).worksheets[0]
    headings = [c.value for c in sheet[1]]
    assert headings[:4] == ["卡片类别＊", "身份证号码＊", "姓名＊", "性别＊"]
    lists = [v.formula1 for v in sheet.data_validations.dataValidation]
    assert '"女,男"' in lists


def test_one_bad_row_writes_nothing_and_is_named_by_row_and_column(
    village: Village, officer: FlaskClient
) -> None:
    rows = _rows(4)
    rows[2]["birth_date"] = "1990-02-30"
    page = _send(officer, _filled(officer, rows))
    assert "没有登记任何记录" in page
    problems = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", page)
    assert ("4", "出生日期", "不是有效的日期") in problems  # heading row 1: the 3rd card is row 4
    assert _count(village) == 0


def test_the_good_rows_alone_when_the_officer_chooses(
    village: Village, officer: FlaskClient
) -> None:
    rows = _rows(4)
    rows[1]["id_number"] = "123"
    page = _send(officer, _filled(officer, rows), keep_good=True)
    assert "已登记 3 行" in page and "<td>3</td><td>身份证号码</td>" in page
    assert _count(village) == 3
    store = NodeStore.open(village.data_dir)
    try:
        marks = store.db.execute(
            "SELECT actor, purpose FROM audit WHERE action = 'record' ORDER BY rowid"
        ).fetchall()
    finally:
        store.close()
    assert [a for a, _ in marks] == ["王芳"] * 3 and all(p.startswith("entry ") for _, p in marks)


def test_all_rows_recorded(village: Village, officer: FlaskClient) -> None:
    page = _send(officer, _filled(officer, _rows(25)))
    assert "全部 25 行已登记" in page and 'value="25" max="25"' in page
    assert _count(village) == 25


@pytest.mark.parametrize(
    ("data", "says"), [(b"not a workbook", "不是有效的 Excel"), (None, "不认识的列")]
)
def test_a_file_that_is_not_a_template_is_refused(
    village: Village, officer: FlaskClient, data: bytes | None, says: str
) -> None:
    if data is None:
        wb = Workbook()
        wb.worksheets[0].append(["姓名", "爱好"])
        out = io.BytesIO()
        wb.save(out)
        data = out.getvalue()
    assert says in _send(officer, data)
    assert _count(village) == 0


def test_another_officers_import_is_not_shown(village: Village, officer: FlaskClient) -> None:
    sent = officer.post(
        "/import",
        data={"kind": "person", "csrf_token": form_token(officer, "/import"),
              "file": (io.BytesIO(_filled(officer, _rows(1))), "c.xlsx")},
        content_type="multipart/form-data",
    )  # fmt: skip
    reviewer = village.app.test_client()
    sign_in(reviewer, "township_reviewer")
    assert reviewer.get(sent.headers["Location"]).status_code == 403  # no write right at all


def test_the_cli_writes_the_same_template(tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    result = CliRunner().invoke(cli, ["node", "template", "birth", "--out", str(out)])
    assert result.exit_code == 0, result.output
    headings = [c.value for c in load_workbook(out).worksheets[0][1]]
    assert "母亲＊" in headings and "婴儿性别＊" in headings
