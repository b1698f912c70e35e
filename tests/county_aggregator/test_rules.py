# SPDX-License-Identifier: Apache-2.0
"""Identity resolution and the conflict rules, one test each (resolve.py numbers them)."""

from __future__ import annotations

import hashlib
import json

from county_aggregator.ruleset import ADVISORY, AUTHORITATIVE
from protocol import Upsert
from tests.county_aggregator.conftest import conflicts, merge, record
from tests.county_aggregator.scenario import Villages, card, id_number

H, R, R2 = "440104001002", "440104002001", "440104002005"
BIRTH = "1990-03-04"
IDN = id_number(BIRTH, 7)
KEY = f"idn:{IDN}"


def two_cards(v: Villages, *, hukou_knows: bool = True) -> None:
    """A floating woman: her hukou village H and the village R where she lives keep cards."""
    v.write(
        H,
        "person",
        "P1",
        card(IDN, "王芳", BIRTH, H, R if hukou_knows else H, hukou_address="上村1号"),
    )
    v.write(
        R,
        "person",
        "P7",
        card(
            IDN,
            "王芳",
            BIRTH,
            H,
            R,
            hukou_address="?",
            residence_address="下村9号",
            phone="13800000001",
            floating_status="flowed_in",
        ),
    )


def test_floating_woman_is_one_person_with_fields_by_authority(villages: Villages) -> None:
    """design.md: a woman on the cards of her hukou village and of the village where she
    lives is one person; both are right about different things."""
    two_cards(villages)
    villages.write(H, "person", "P1", {"phone": "13900000000"})  # later, but not its field
    db = merge(villages)
    person = record(db, "person", KEY)
    assert [H, R] == person["origins"]
    assert "上村1号" == person["data"]["hukou_address"]  # the hukou place's
    assert "下村9号" == person["data"]["residence_address"]  # the residence place's
    assert "13800000001" == person["data"]["phone"]
    assert "flowed_in" == person["data"]["floating_status"]
    assert R == person["village"]  # she lives in one of our villages
    assert 1 == db.execute("SELECT count(*) FROM merged_records").fetchone()[0]


def test_person_living_outside_the_county_is_listed_at_her_hukou_village(
    villages: Villages,
) -> None:
    villages.write(H, "person", "P1", card(IDN, "王芳", BIRTH, H, "440305001001"))
    assert H == record(merge(villages), "person", KEY)["village"]


def test_versions_view_keeps_every_version_with_its_authority(villages: Villages) -> None:
    two_cards(villages)
    db = merge(villages)
    rows = db.execute(
        "SELECT origin, authority, value FROM versions WHERE key = ? AND field = 'hukou_address'"
        " ORDER BY origin",
        [KEY],
    ).fetchall()
    assert [(H, AUTHORITATIVE, "上村1号"), (R, ADVISORY, "?")] == rows


def test_versions_view_spells_bases_as_entry_ids(villages: Villages) -> None:
    first = villages.write(H, "person", "P1", card(IDN, "王芳", BIRTH, H, H))
    villages.write(H, "person", "P1", {"phone": "13700000000"})
    second = villages.write(H, "person", "P1", {"phone": "13600000000"})
    seen = f"{second.log}/{second.seq}"
    other = villages.raw(R, [Upsert("person", "P7", {"phone": ("1", seen)})])
    rows = (
        merge(villages)
        .execute("SELECT log, seq, base FROM versions WHERE field = 'phone' ORDER BY hlc")
        .fetchall()
    )
    log = str(first.log)
    assert [
        (log, first.seq + 1, None),
        (log, second.seq, f"{log}/{first.seq + 1}"),
        (str(other.log), other.seq, f"{log}/{second.seq}"),
    ] == rows


def test_concurrent_equal_authority_is_queued_with_deterministic_winner(villages: Villages) -> None:
    """9.8 rule 2: equal authority, neither based on the other: later clock wins, queued."""
    two_cards(villages, hukou_knows=False)  # both cards claim the residence
    a = villages.write(H, "person", "P1", {"phone": "13700000000"})
    b = villages.write(R, "person", "P7", {"phone": "13600000000"})
    db = merge(villages)
    assert "13600000000" == record(db, "person", KEY)["data"]["phone"]
    items = [c for c in conflicts(db) if c["field"] == "phone"]
    ids = sorted(f"{e.log}/{e.seq}" for e in (a, b))
    expected_id = hashlib.sha256(" ".join(ids).encode()).hexdigest()
    assert any(c["id"] == expected_id and c["rule"] == "concurrent" for c in items)
    item = next(c for c in items if c["id"] == expected_id)
    assert (ids[0], ids[1]) == (item["a_entry"], item["b_entry"])
    winner = "a" if ids[0] == f"{b.log}/{b.seq}" else "b"
    assert winner == item["winner"]


def test_clock_tie_is_broken_by_origin_node(villages: Villages) -> None:
    """Order is authority, then clock, then origin node id: never arrival order."""
    two_cards(villages, hukou_knows=False)
    villages.write(R, "person", "P7", {"phone": "13600000000"}, tick=5000)
    villages.write(H, "person", "P1", {"phone": "13700000000"}, tick=0)  # same ms, same hlc
    db = merge(villages)
    assert "13600000000" == record(db, "person", KEY)["data"]["phone"]  # R > H as codes


def test_write_based_on_the_other_version_is_not_a_conflict(villages: Villages) -> None:
    """A write whose base names the version it overrides (here in another log) saw it."""
    two_cards(villages, hukou_knows=False)
    seen = villages.write(H, "person", "P1", {"phone": "13700000000"})
    base = f"{seen.log}/{seen.seq}"
    based = villages.raw(R, [Upsert("person", "P7", {"phone": ("13500000000", base)})])
    db = merge(villages)
    assert "13500000000" == record(db, "person", KEY)["data"]["phone"]
    pairs = {(c["a_entry"], c["b_entry"]) for c in conflicts(db) if c["field"] == "phone"}
    assert pairs  # H's own write had not seen R's first phone: that pair is queued
    assert tuple(sorted((base, f"{based.log}/{based.seq}"))) not in pairs


def test_equal_values_are_not_a_conflict(villages: Villages) -> None:
    two_cards(villages, hukou_knows=False)
    villages.write(H, "person", "P1", {"marital_status": "divorced"})
    villages.write(R, "person", "P7", {"marital_status": "divorced"})
    assert not [c for c in conflicts(merge(villages)) if c["field"] == "marital_status"]


def test_later_value_from_a_place_without_authority_is_queued(villages: Villages) -> None:
    """The residence place wrote a different name after the hukou place: the authority's
    value stays, and the item asks the hukou place to review (篇10 第24条)."""
    two_cards(villages)
    villages.write(R, "person", "P7", {"name": "汪芳"})
    db = merge(villages)
    assert "王芳" == record(db, "person", KEY)["data"]["name"]
    (item,) = [c for c in conflicts(db) if c["field"] == "name"]
    assert "authority" == item["rule"]


def test_earlier_value_without_authority_is_simply_superseded(villages: Villages) -> None:
    villages.write(R, "person", "P7", card(IDN, "汪芳", BIRTH, H, R))
    villages.write(H, "person", "P1", card(IDN, "王芳", BIRTH, H, R))
    db = merge(villages)
    assert "王芳" == record(db, "person", KEY)["data"]["name"]
    assert not [c for c in conflicts(db) if c["field"] == "name"]


def test_same_birth_recorded_by_two_places_is_one_event(villages: Villages) -> None:
    """design.md: the same event recorded twice is merged into one, differences queued."""
    two_cards(villages)
    birth = {"child_sex": "M", "birth_date": "2024-05-06", "birth_order": 2}
    villages.write(R, "birth", "B9", {"mother_ref": "P7", **birth, "birth_place": "县医院"})
    villages.write(H, "birth", "B5", {"mother_ref": "P1", **birth, "birth_place": "镇卫生院"})
    twin = {**birth, "birth_order": 3, "birth_place": "县医院"}
    villages.write(R, "birth", "B10", {"mother_ref": "P7", **twin})
    db = merge(villages)
    one = record(db, "birth", f"{H}/B5")  # the smallest of the two origin keys
    assert [H, R] == one["origins"]
    assert KEY == one["data"]["mother_ref"]  # refs name the merged person
    assert "镇卫生院" == one["data"]["birth_place"]  # written later
    (item,) = [c for c in conflicts(db) if c["kind"] == "birth"]
    assert ("same_event", "birth_place") == (item["rule"], item["field"])
    assert record(db, "birth", f"{R}/B10")["data"]["birth_order"] == 3  # the twin stays apart
    assert 2 == db.execute("SELECT count(*) FROM merged_records WHERE kind = 'birth'").fetchone()[0]


def test_retire_and_concurrent_update_stay_in_the_queue(villages: Villages) -> None:
    """9.8 / design.md: a retire and a later update from another place: the update stays
    visible in the queue, and the person stays live while one card is."""
    two_cards(villages)
    r = villages.retire(H, "person", "P1", "moved")
    u = villages.write(R, "person", "P7", {"phone": "13600000000"})
    db = merge(villages)
    assert record(db, "person", KEY)["retired"] is None
    (item,) = [c for c in conflicts(db) if c["rule"] == "retire"]
    sides = {
        item["a_entry"]: json.loads(item["a_value"]),
        item["b_entry"]: json.loads(item["b_value"]),
    }
    assert {"retire": "moved"} == sides[f"{r.log}/{r.seq}"]
    assert {"update": {"phone": "13600000000"}} == sides[f"{u.log}/{u.seq}"]


def test_record_retired_when_every_card_is(villages: Villages) -> None:
    two_cards(villages)
    villages.retire(H, "person", "P1", "moved")
    villages.retire(R, "person", "P7", "aged_out")
    assert "aged_out" == record(merge(villages), "person", KEY)["retired"]


def test_retention_erases_the_fields_it_covers(villages: Villages) -> None:
    villages.write(H, "person", "P1", card(IDN, "王芳", BIRTH, H, H))
    villages.retire(H, "person", "P1", "retention")
    db = merge(villages)
    assert {"data": {}, "origins": [H], "village": H, "retired": "retention"} == record(
        db, "person", f"{H}/P1"
    )
    assert 0 == db.execute("SELECT count(*) FROM versions").fetchone()[0]


def test_services_keep_their_origin_key_and_point_at_the_merged_person(
    villages: Villages,
) -> None:
    two_cards(villages)
    villages.write(R2, "person", "P3", card(id_number("1991-01-01", 3), "李", "1991-01-01", R2, R2))
    villages.write(
        R,
        "follow_up",
        "F1",
        {"person_ref": "P7", "visit_date": "2025-01-02", "method_in_use": "iud"},
    )
    db = merge(villages)
    visit = record(db, "follow_up", f"{R}/F1")
    assert (KEY, R) == (visit["data"]["person_ref"], visit["village"])


def test_id_number_correction_moves_the_card_and_its_references(villages: Villages) -> None:
    villages.write(H, "person", "P1", card(IDN, "王芳", BIRTH, H, H))
    villages.write(
        H,
        "follow_up",
        "F1",
        {"person_ref": "P1", "visit_date": "2025-01-02", "method_in_use": "iud"},
    )
    fixed = id_number(BIRTH, 9)
    villages.write(H, "person", "P1", {"id_number": fixed})
    db = merge(villages)
    assert db.execute("SELECT 1 FROM merged_records WHERE key = ?", [KEY]).fetchone() is None
    assert f"idn:{fixed}" == record(db, "follow_up", f"{H}/F1")["data"]["person_ref"]
