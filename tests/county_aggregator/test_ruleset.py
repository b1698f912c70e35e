# SPDX-License-Identifier: Apache-2.0
"""Ruleset 1 covers exactly the node's record kinds and fields, each in one group."""

from __future__ import annotations

from sqlite_utils import Database

from county_aggregator.ruleset import RULES, RULESET_1, authority_rules_rows
from county_aggregator.store import init_merged
from node.domain.records import RECORD_KINDS


def test_ruleset_1_matches_the_node_schemas() -> None:
    """A field the node writes but no ruleset names would make its entries rejected."""
    declared = {kind: set(schema._declared_fields) for kind, schema in RECORD_KINDS.items()}
    assert declared == {kind: set(fields) for kind, fields in RULES[1].kinds.items()}


def test_each_field_is_in_one_group() -> None:
    pairs = [(g.kind, f) for g in RULESET_1 for f in g.fields]
    assert len(pairs) == len(set(pairs))
    assert {g.rule for g in RULESET_1} == {"hukou", "residence", "origin"}


def test_merged_database_carries_the_authority_table() -> None:
    db = init_merged(Database(memory=True))
    rows = db.execute("SELECT * FROM authority_rules ORDER BY 1, 2, 3").fetchall()
    assert authority_rules_rows() == rows
    assert ("person", "hukou") == db.execute(
        "SELECT kind, rule FROM authority_rules WHERE field = 'id_number'"
    ).fetchone()
