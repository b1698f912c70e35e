# SPDX-License-Identifier: Apache-2.0
"""What the merge made of each entry, as told back to the node that wrote it."""

from __future__ import annotations

from county_aggregator.merge import apply_entries
from county_aggregator.outcomes import outcome_notice, outcomes
from county_aggregator.store import init_merged
from tests.county_aggregator.conftest import merge
from tests.county_aggregator.scenario import COUNTY, Villages, bad_entries
from tests.county_aggregator.test_rules import H, R, two_cards


def test_a_clean_write_is_simply_applied(villages: Villages) -> None:
    entry = villages.write(H, "person", "P1", {"name": "王芳", "phone": "13900000000"})
    db = merge(villages)
    assert outcomes(db, str(entry.log), 1, entry.seq) == []
    body = outcome_notice(db, COUNTY, str(entry.log), 1, entry.seq, 0).to_json()
    assert body["applied"] == entry.seq and body["listed"] == [] and body["more"] == 0


def test_a_value_outranked_by_the_authority_is_superseded(villages: Villages) -> None:
    """R wrote '?' as her hukou address; H, her hukou village, has the authority."""
    two_cards(villages)
    db = merge(villages)
    log = f"village:{R}#1"
    found = outcomes(db, log, 1, 10)
    assert [(o.outcome, o.code, o.field, o.record) for o in found] == [
        ("superseded", "authority", "hukou_address", "P7")
    ]
    assert len(found[0].conflict) == 64  # the queue item, for the officer to look up
    # And the other way round: R, where she lives, has the authority on her residence.
    theirs = outcomes(db, f"village:{H}#1", 1, 10)
    assert [(o.outcome, o.field) for o in theirs] == [("superseded", "residence_address")]


def test_the_losing_side_of_a_concurrent_edit_hears_of_the_conflict(villages: Villages) -> None:
    two_cards(villages, hukou_knows=False)
    a = villages.write(H, "person", "P1", {"phone": "13700000000"})
    b = villages.write(R, "person", "P7", {"phone": "13600000000"})  # later clock: wins
    db = merge(villages)
    lost = [o for o in outcomes(db, str(a.log), a.seq, a.seq) if o.field == "phone"]
    assert [(o.outcome, o.seq) for o in lost] == [("conflict", a.seq)]
    assert len(lost[0].conflict) == 64
    assert not [o for o in outcomes(db, str(b.log), b.seq, b.seq) if o.field == "phone"]


def test_rejected_entries_are_named_with_their_code() -> None:
    from sqlite_utils import Database

    db = init_merged(Database(memory=True))
    entries = bad_entries()
    apply_entries(db, entries, county=COUNTY)
    log = str(entries[0].log)
    found = outcomes(db, log, 1, len(entries))
    assert [o.seq for o in found] == [1, 2, 3, 4]
    assert all(o.outcome == "rejected" and o.code for o in found)
    body = outcome_notice(db, COUNTY, log, 1, 4, 0).to_json()
    assert body["applied"] == 0 and len(body["listed"]) == 4
    assert "value" not in str(body)  # names fields and reasons, never values


def test_a_reference_is_not_superseded_by_its_merged_key(villages: Villages) -> None:
    """A spouse_ref names a local record; the merge stores the referenced record's key
    instead. That is a translation, not another place's value winning."""
    villages.write(H, "person", "P1", {"name": "王芳"})
    villages.write(H, "person", "P2", {"name": "李强"})
    entry = villages.write(H, "person", "P1", {"spouse_ref": "P2"})
    db = merge(villages)
    assert outcomes(db, str(entry.log), 1, entry.seq) == []
