# SPDX-License-Identifier: Apache-2.0
"""One head per household (户主, node/households.py): a second head, or a head leaving a
household of others without a new one, is refused naming the household and its head;
changing the head is one edit of two cards (``renkou node change-head``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from deploy.cli import cli
from node.domain.resident_id import make_resident_id
from node.editing import close_record as close_card
from node.editing import correct_record
from node.errors import ValidationError
from node.households import change_head
from node.recording import add_record, close_record, update_record
from node.store.store import NodeStore
from protocol import NodeId
from tests.node.domain.examples import MOTHER_BIRTH, woman_card

TODAY = date(2026, 11, 28)
HOME, OTHER = "上南村1组1号", "上南村2组5号"


def card(name: str, n: int, relation: str, address: str = HOME) -> dict[str, object]:
    return woman_card(
        spouse_ref=None,
        name=name,
        id_number=make_resident_id("440104", MOTHER_BIRTH, 20 + 2 * n, "F"),
        hukou_address=address,
        household_relation=relation,
    )


def household(store: NodeStore) -> tuple[str, str, str]:
    """王芳 heads the household at HOME; 李娟 (her daughter-in-law) and 赵敏 live with her."""
    head = add_record(store, "person", card("王芳", 1, "head"), today=TODAY)
    wife = add_record(store, "person", card("李娟", 2, "child_in_law"), today=TODAY)
    other = add_record(store, "person", card("赵敏", 3, "other"), today=TODAY)
    return head, wife, other


def refused(call: Callable[[], object], code: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        call()
    assert [p.code for p in caught.value.problems] == [code], caught.value.problems
    return caught.value


def relation(store: NodeStore, rid: str) -> tuple[object, object]:
    held = store.record("person", rid)
    assert held is not None
    return held["hukou_address"], held["household_relation"]


def test_a_second_head_is_refused_naming_the_household_and_its_head(store: NodeStore) -> None:
    head, wife, _other = household(store)
    head_before = store.changelog.head_seq
    no = refused(lambda: add_record(store, "person", card("陈静", 4, "head"), today=TODAY),
                 "household.second_head")  # fmt: skip
    (problem,) = no.problems
    assert problem.field == "household_relation"
    assert HOME in problem.zh and "王芳" in problem.zh and head in problem.zh
    assert HOME in problem.en and "王芳" in problem.en and "change-head" in problem.en
    for edit in (correct_record, update_record):
        refused(lambda e=edit: e(store, "person", wife, {"household_relation": "head"},
                                 today=TODAY), "household.second_head")  # fmt: skip
    assert store.changelog.head_seq == head_before  # nothing written
    # A head of her own new household is no second head; nor is a head at another address.
    add_record(store, "person", card("陈静", 4, "head", OTHER), today=TODAY)
    assert relation(store, wife) == (HOME, "child_in_law")


def test_the_head_cannot_leave_a_household_of_others_headless(store: NodeStore) -> None:
    head, _wife, _other = household(store)
    moved = refused(lambda: correct_record(store, "person", head, {"hukou_address": OTHER},
                                           today=TODAY), "household.head_leaves")  # fmt: skip
    assert moved.problems[0].field == "hukou_address"
    assert "王芳" in moved.problems[0].zh and HOME in moved.problems[0].zh
    assert "2 other member(s)" in moved.problems[0].en
    demoted = refused(lambda: update_record(store, "person", head, {"household_relation": "other"},
                                            today=TODAY), "household.head_leaves")  # fmt: skip
    assert demoted.problems[0].field == "household_relation"
    cleared = refused(lambda: correct_record(store, "person", head, {"household_relation": None},
                                             today=TODAY), "household.head_leaves")  # fmt: skip
    assert cleared.problems[0].field == "household_relation"
    refused(lambda: close_card(store, "person", head, "moved_away"), "household.head_leaves")
    refused(lambda: close_record(store, "person", head, "entered_in_error", today=TODAY),
            "household.head_leaves")  # fmt: skip
    assert relation(store, head) == (HOME, "head") and not store.record("person", head).get(
        "_retired"
    )


def test_a_head_alone_may_move_and_members_come_and_go(store: NodeStore) -> None:
    head, wife, other = household(store)
    correct_record(store, "person", other, {"hukou_address": OTHER}, today=TODAY)  # a member
    close_card(store, "person", wife, "moved_away")
    assert relation(store, other) == (OTHER, "other")
    # With nobody left beside her, the head may move: no household is left headless.
    correct_record(store, "person", head, {"hukou_address": "上南村3组8号"}, today=TODAY)
    assert relation(store, head) == ("上南村3组8号", "head")


def test_changing_the_head_is_one_edit_of_two_cards(store: NodeStore) -> None:
    head, wife, _other = household(store)
    seq = store.changelog.head_seq
    done = change_head(store, wife, former_relation="parent_in_law", today=TODAY)
    assert done.entry.seq == seq + 1 and store.changelog.head_seq == seq + 1  # one entry
    assert set(done.record_ids) == {wife, head}
    assert relation(store, wife) == (HOME, "head")
    assert relation(store, head) == (HOME, "parent_in_law")
    # The former head may now move away; the household keeps its (new) head.
    correct_record(store, "person", head, {"hukou_address": OTHER}, today=TODAY)
    refused(lambda: change_head(store, wife, former_relation="head", today=TODAY),
            "household.already_head")  # fmt: skip


def test_a_head_joins_another_household_as_its_head_in_one_edit(store: NodeStore) -> None:
    head, _wife, _other = household(store)
    alone = add_record(store, "person", card("陈静", 4, "head", OTHER), today=TODAY)
    refused(lambda: change_head(store, alone, former_relation="", address=HOME, today=TODAY),
            "household.former_relation")  # fmt: skip
    change_head(store, alone, former_relation="spouse", address=HOME, today=TODAY)
    assert relation(store, alone) == (HOME, "head")
    assert relation(store, head) == (HOME, "spouse")
    # Heading a household elsewhere would leave this one without a head: refused.
    refused(lambda: change_head(store, alone, former_relation="spouse", address=OTHER,
                                today=TODAY), "household.head_leaves")  # fmt: skip


def test_older_data_with_two_heads_does_not_block_other_corrections(store: NodeStore) -> None:
    head, wife, _other = household(store)
    # As an older node wrote it, before the rule: a second head at the same address.
    store.write([store.upsert_op("person", wife, {"household_relation": "head"})])
    correct_record(store, "person", wife, {"phone": "13912345678"}, today=TODAY)
    correct_record(store, "person", wife, {"household_relation": "child_in_law"}, today=TODAY)
    assert relation(store, head) == (HOME, "head")


def test_the_cli_refuses_in_both_languages_and_changes_the_head(tmp_path: Path) -> None:
    store = NodeStore.init(tmp_path / "v", NodeId.for_code("440104001002"), "测试村")
    try:
        head, wife, _other = household(store)
    finally:
        store.close()
    where = str(tmp_path / "v")
    runner = CliRunner()
    second = ["node", "edit", wife, "--set", "household_relation=head", "--data-dir", where]
    zh = runner.invoke(cli, second, env={"LANG": "zh_CN.UTF-8"})
    assert zh.exit_code != 0 and "已有户主 王芳" in zh.output and HOME in zh.output, zh.output
    en = runner.invoke(cli, ["--lang", "en", *second])
    assert "already has a head, 王芳" in en.output, en.output
    command = ["node", "change-head", wife, "--former-relation", "parent_in_law"]
    changed = runner.invoke(cli, ["--lang", "en", *command, "--data-dir", where])
    assert changed.exit_code == 0, changed.output
    assert "李娟" in changed.output and HOME in changed.output
    reopened = NodeStore.open(Path(where))
    try:
        assert relation(reopened, wife) == (HOME, "head")
        assert relation(reopened, head) == (HOME, "parent_in_law")
    finally:
        reopened.close()
