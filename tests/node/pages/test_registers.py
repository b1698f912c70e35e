# SPDX-License-Identifier: Apache-2.0
"""Registers and the monthly change report: on screen, print view, .xlsx, all audited."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from node.store.store import NodeStore
from tests.node.pages.helpers import Village, make_village, sign_in

MONTH = "2025-12"


@pytest.fixture(scope="module")
def village(tmp_path_factory: pytest.TempPathFactory) -> Village:
    return make_village(tmp_path_factory.mktemp("registers"), residents=300)


@pytest.fixture
def officer(village: Village) -> FlaskClient:
    client = village.app.test_client()
    sign_in(client)
    return client


def _last_audit(village: Village) -> tuple[str, str, str, str, str]:
    store = NodeStore.open(village.data_dir)
    try:
        return store.db.execute(
            "SELECT actor, action, kind, record_id, purpose FROM audit ORDER BY rowid DESC"
        ).fetchone()
    finally:
        store.close()


def test_the_list_offers_every_register_and_the_report(officer: FlaskClient) -> None:
    from node.registers import REGISTERS

    html = officer.get(f"/registers?month={MONTH}").get_data(as_text=True)
    for definition in REGISTERS.values():
        assert definition.title in html
    assert "月变更报告单（2025年12月）" in html


def test_a_register_on_screen_is_audited(village: Village, officer: FlaskClient) -> None:
    page = officer.get(f"/registers/health_checks?month={MONTH}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "上南村" in html and "2025年12月" in html and 'id="register"' in html
    assert _last_audit(village) == (
        "王芳",
        "print_register",
        "health_checks",
        MONTH,
        "shown on a page",
    )


def test_the_print_view_has_the_official_heading_and_signatures(
    village: Village, officer: FlaskClient
) -> None:
    html = officer.get(f"/registers/monthly_change_report/print?month={MONTH}").get_data(
        as_text=True
    )
    assert 'class="print-view"' in html and "填报人" in html and "审核人" in html
    assert "月变更报告单" in html
    assert _last_audit(village)[1:] == (
        "print_report", "monthly_change_report", MONTH, "print view",
    )  # fmt: skip


def test_the_xlsx_download_is_the_register_and_is_audited(
    village: Village, officer: FlaskClient
) -> None:
    response = officer.get(f"/registers/births/xlsx?month={MONTH}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    assert "出生" in str(sheet.cell(1, 1).value)
    assert _last_audit(village)[1:] == ("print_register", "births", MONTH, "export xlsx")


@pytest.mark.parametrize(
    ("path", "status"),
    [("/registers/nope?month=2025-12", 404), ("/registers/births?month=2025-13", 400),
     ("/registers/births?month=12/2025", 400), ("/registers/births?month=２０２５-１２", 400),
     ("/registers/births?month=2025年12月", 200), ("/registers/births?month=2025年13月", 400)],
)  # fmt: skip
def test_bad_register_or_month(officer: FlaskClient, path: str, status: int) -> None:
    assert officer.get(path).status_code == status


@pytest.mark.parametrize("role", ["county_statistician", "auditor", "county_admin"])
def test_roles_without_the_right_see_no_register(village: Village, role: str) -> None:
    client = village.app.test_client()
    sign_in(client, role)
    assert client.get(f"/registers/births?month={MONTH}").status_code == 403
    assert client.get(f"/registers/births/xlsx?month={MONTH}").status_code == 403
