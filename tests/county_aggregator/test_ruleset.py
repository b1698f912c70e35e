# SPDX-License-Identifier: Apache-2.0
"""The current ruleset covers exactly the node's record kinds and fields, each in one group;
a published ruleset never changes (a change is a new version)."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlite_utils import Database

from county_aggregator.ruleset import RULES, RULESETS, UNIFORM_RANKS, authority_rules_rows
from county_aggregator.store import init_merged
from node.domain.records import KNOWN_RULESETS, RECORD_KINDS, RULESET


def test_current_ruleset_matches_the_node_schemas() -> None:
    """A field the node writes but no ruleset names would make its entries rejected."""
    declared = {kind: set(schema._declared_fields) for kind, schema in RECORD_KINDS.items()}
    assert declared == {kind: set(fields) for kind, fields in RULES[RULESET].kinds.items()}
    assert set(RULESETS) == set(KNOWN_RULESETS)


def test_published_ruleset_1_never_changes() -> None:
    """design.md: rules of a published ruleset version never change. Ruleset 1 as it was
    published (its digest), whatever the node's schemas became since."""
    rows = [r for r in authority_rules_rows() if r[0] == 1]
    digest = hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()
    assert len(rows) == 98
    assert digest == RULESET_1_DIGEST


RULESET_1_DIGEST = "5d685a6b3d2f087cb3e83108a47c1cc05b8d9fadddbd9c7bfd1e10be4c658cf5"


@pytest.mark.parametrize("version", sorted(RULESETS))
def test_each_field_is_in_one_group(version: int) -> None:
    pairs = [(g.kind, f) for g in RULESETS[version] for f in g.fields]
    assert len(pairs) == len(set(pairs))
    assert {g.rule for g in RULESETS[version]} == {"hukou", "residence", "origin"}


def test_every_field_keeps_its_rule_across_versions() -> None:
    """So one log's versions of a record all rank alike (the merge's fast path holds)."""
    assert UNIFORM_RANKS


def test_merged_database_carries_the_authority_table() -> None:
    db = init_merged(Database(memory=True))
    rows = db.execute("SELECT * FROM authority_rules ORDER BY 1, 2, 3").fetchall()
    assert authority_rules_rows() == rows
    assert ("person", "hukou") == db.execute(
        "SELECT kind, rule FROM authority_rules WHERE field = 'id_number'"
    ).fetchone()
