# SPDX-License-Identifier: Apache-2.0
"""The print view of a register, an xlsx import with one bad row, the sync status page."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook

from tests.browser.conftest import Site, screenshot
from tests.node.pages.helpers import VILLAGE


def test_print_view_of_a_register(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    site.sign_in(page)
    page.click("header >> text=登记册")
    page.fill("#month", "2025-12")
    page.click("text=查看该月")
    screenshot(page, "07-registers")
    page.click("#registers tr:has-text('健康检查') >> text=打印预览")
    page.wait_for_selector("table#register")
    title = page.inner_text("h1")
    assert "上南村" in title and "2025年12月" in title
    assert page.is_visible("text=填报人") and not page.is_visible("header.top")
    screenshot(page, "08-register-print-view")
    page.emulate_media(media="print")
    assert not page.is_visible("#print-now")  # the button is not printed
    page.emulate_media(media="screen")


def test_xlsx_import_with_one_bad_row(page, site: Site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.bench.bench_store import _cards

    site.sign_in(page)
    page.click("header >> text=批量录入")
    with page.expect_download() as download:
        page.click("text=人员信息卡")
    template = tmp_path / "template.xlsx"
    download.value.save_as(str(template))
    wb = load_workbook(template)
    sheet = wb.worksheets[0]
    guide = {r[0]: r[1] for r in wb.worksheets[1].iter_rows(min_row=2, values_only=True)}
    columns = [guide[c.value] for c in sheet[1]]
    for n, card in enumerate(_cards(3)):
        row = {**card, "sex": "女", "card_type": "育龄妇女", "marital_status": "已婚",
               "hukou_code": VILLAGE, "residence_code": VILLAGE, "name": f"导入{n}"}  # fmt: skip
        if n == 1:
            row["id_number"] = "4413221990"  # too short
        sheet.append([row.get(c) for c in columns])
    filled = tmp_path / "filled.xlsx"
    wb.save(filled)
    page.select_option("#kind", "person")
    page.set_input_files("#file", str(filled))
    page.click("text=检查并登记")
    page.wait_for_selector("#import-result")
    assert "没有登记任何记录" in page.inner_text("#import-result")
    problems = page.inner_text("#problems")
    assert "3" in problems and "身份证号码" in problems and "18位" in problems
    screenshot(page, "09-import-one-bad-row")
    assert io  # the template was really an .xlsx (load_workbook read it)


def test_sync_status(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    site.sign_in(page)
    page.click("header >> text=同步状态")
    assert "尚未确认" in page.inner_text("#sync-facts")
    page.click("text=立即同步")
    assert "尚未设置上级地址" in page.inner_text("main")
    screenshot(page, "10-sync-status")
