# SPDX-License-Identifier: Apache-2.0
"""The merge rules of each published ruleset version: who is authoritative for what.

design.md: "Field groups have an authority ... declared in a versioned ruleset. Rules of a
published ruleset version never change; a change is a new version." This module is that
one table. The county seeds it into the merged database (``authority_rules``) so that
anyone reading the merged store can see which rule ranked a version, and an entry whose
header names a ruleset missing here is rejected, never merged under guessed rules.

Authority rules of a field group:

``hukou``
    the node whose own card names itself as the hukou (registered) place;
``residence``
    the node whose own card names itself as the place of residence;
``origin``
    the node that recorded it (services and events: the place that gave the service).

A version from an authoritative node ranks :data:`AUTHORITATIVE`, any other version
:data:`ADVISORY`: it is kept and shown, and it can never override an authoritative value.
The kinds and fields are written out rather than read from node's schemas, so that a
change of the node's forms cannot silently change a published ruleset (a test keeps the
two in step for the current version).
"""

from __future__ import annotations

from dataclasses import dataclass

AUTHORITATIVE = 2
ADVISORY = 1


@dataclass(frozen=True, slots=True)
class FieldGroup:
    """Fields of one record kind that share an authority rule."""

    name: str
    kind: str
    fields: tuple[str, ...]
    rule: str


_SERVICE_KINDS: dict[str, tuple[str, ...]] = {
    "marriage": (
        "woman_ref",
        "husband_name",
        "husband_id_number",
        "marriage_date",
        "first_marriage",
        "registered_at",
    ),
    "pregnancy": (
        "woman_ref",
        "registered_date",
        "last_menstrual_date",
        "expected_date",
        "care_place",
    ),
    "birth": (
        "mother_ref",
        "child_name",
        "child_sex",
        "birth_date",
        "birth_order",
        "birth_place",
        "weight_g",
        "child_id_number",
    ),
    "birth_registration": (
        "mother_ref",
        "father_name",
        "father_id_number",
        "child_order",
        "registered_date",
        "village_opinion_date",
        "forwarded_date",
        "certificate_no",
    ),
    "death": ("person_ref", "death_date", "place"),
    "move": ("person_ref", "direction", "move_date", "from_code", "to_code", "address", "reason"),
    "contraceptive_procedure": (
        "person_ref",
        "method",
        "chosen_date",
        "procedure_date",
        "provider",
        "informed_consent",
    ),
    "health_check": (
        "person_ref",
        "check_type",
        "scheduled_date",
        "done_date",
        "place",
        "requires_return_to_hukou",
        "result_summary",
    ),
    "follow_up": ("person_ref", "procedure_ref", "visit_date", "method_in_use", "notes"),
    "supply_receipt": ("item", "quantity", "received_date", "source"),
    "supply_handout": ("person_ref", "item", "quantity", "handout_date"),
    "benefit": ("person_ref", "programme", "change", "effective_date", "checked_in_person_date"),
    "complaint": (
        "received_date",
        "channel",
        "subject",
        "content",
        "reporter",
        "handled_date",
        "answered_date",
        "status",
    ),
    "only_child_certificate": (
        "parent_ref",
        "child_name",
        "child_birth_date",
        "certificate_no",
        "issued_date",
    ),
}

RULESET_1: tuple[FieldGroup, ...] = (
    FieldGroup(
        "identity",
        "person",
        ("card_type", "id_number", "name", "sex", "birth_date", "ethnicity"),
        "hukou",
    ),
    FieldGroup("hukou", "person", ("hukou_code", "hukou_address"), "hukou"),
    # The hukou place reviews and answers for marital data (篇10 第24条).
    FieldGroup(
        "marriage", "person", ("marital_status", "first_marriage_date", "spouse_ref"), "hukou"
    ),
    FieldGroup(
        "residence", "person", ("residence_code", "residence_address", "phone"), "residence"
    ),
    FieldGroup(
        "floating", "person", ("floating_status", "floating_since", "floating_place"), "residence"
    ),
    *(FieldGroup("services", kind, fields, "origin") for kind, fields in _SERVICE_KINDS.items()),
)

# Ruleset 2 (issue 16): hukou moves and floating are separate kinds; a birth registration
# is a pure service (no village opinion step; the floating woman's chain at the residence
# place); benefits get their workflow and amounts; complaints and tip-offs are told apart;
# contraception status, marital changes, check report slips and reports sent are recorded.
# Every field group of version 1 keeps its rule: a kind's fields only grow or go.
_SERVICE_KINDS_2: dict[str, tuple[str, ...]] = {
    **_SERVICE_KINDS,
    "birth_registration": (
        "mother_ref",
        "father_name",
        "father_id_number",
        "child_order",
        "registered_date",
        "hukou_checked_date",
        "forwarded_date",
        "township_registered_date",
        "hukou_notified_date",
        "certificate_no",
    ),
    "benefit": (
        "person_ref",
        "programme",
        "change",
        "effective_date",
        "checked_in_person_date",
        "annual_amount",
        "application_ref",
    ),
    "complaint": (
        "category",
        "received_date",
        "channel",
        "subject",
        "content",
        "reporter",
        "first_contact_officer",
        "handled_date",
        "answered_date",
        "status",
    ),
    "marital_change": ("person_ref", "marital_status", "change_date"),
    "floating": ("person_ref", "event", "event_date", "place_code", "address", "reason"),
    "check_report_slip": (
        "person_ref",
        "slip_no",
        "check_date",
        "check_place",
        "method_in_use",
        "check_result",
        "issued_date",
        "issuer",
    ),
    "benefit_application": (
        "person_ref",
        "programme",
        "applied_date",
        "village_reviewed_date",
        "village_result",
        "notice_from",
        "notice_until",
        "township_reviewed_date",
        "township_result",
        "certificate_no",
        "certificate_date",
        "annual_amount",
    ),
    "benefit_check": ("person_ref", "programme", "checked_date", "result", "checker"),
    "report_submission": ("report", "period", "sent_date", "sent_to"),
}

RULESET_2: tuple[FieldGroup, ...] = (
    *(g for g in RULESET_1 if g.kind == "person"),
    *(FieldGroup("services", kind, fields, "origin") for kind, fields in _SERVICE_KINDS_2.items()),
)

# Ruleset 3 (issue 15): a card says its person's relationship to the head of the
# household (户主); the household is a hukou fact, so the hukou place is its authority.
RULESET_3: tuple[FieldGroup, ...] = (
    *RULESET_2,
    FieldGroup("household", "person", ("household_relation",), "hukou"),
)

RULESETS: dict[int, tuple[FieldGroup, ...]] = {1: RULESET_1, 2: RULESET_2, 3: RULESET_3}
"""Every published ruleset by version number; entries naming another are rejected."""

ERASING_REASONS = frozenset({"retention"})
"""Retire reasons that erase the record's earlier field values (controlled deletion)."""

CLOSING_REASONS = frozenset({"moved_away", "left"})
"""Retire reasons that close one village's card only (a hukou moved away, a floating-in
woman gone): they say nothing of the person elsewhere, so another place's later update
of her is no conflict with them (ruleset 2, node/domain/effects.py)."""

REF_KINDS: dict[str, str] = {
    "procedure_ref": "contraceptive_procedure",
    "application_ref": "benefit_application",
}
"""The kind a ``*_ref`` field points at; every other ``*_ref`` names a person card."""

SAME_EVENT: dict[str, tuple[str, tuple[str, ...]]] = {
    "birth": ("mother_ref", ("birth_date", "child_sex", "birth_order")),
}
"""Events recorded by two places that are one event: the mother (as a merged person)
plus these fields equal. Twins differ by ``birth_order``."""


@dataclass(frozen=True, slots=True)
class Rules:
    """One ruleset, indexed for the merge: ``(kind, field) -> rule``."""

    version: int
    rule_of: dict[tuple[str, str], str]
    kinds: dict[str, frozenset[str]]

    def rank(self, kind: str, field: str, is_hukou: bool, is_residence: bool) -> int:
        """The authority rank of a version of ``field`` from a card with these claims."""
        rule = self.rule_of[(kind, field)]
        if rule == "hukou":
            return AUTHORITATIVE if is_hukou else ADVISORY
        if rule == "residence":
            return AUTHORITATIVE if is_residence else ADVISORY
        return AUTHORITATIVE


def _index(version: int, groups: tuple[FieldGroup, ...]) -> Rules:
    rule_of: dict[tuple[str, str], str] = {}
    kinds: dict[str, set[str]] = {}
    for group in groups:
        for name in group.fields:
            rule_of[(group.kind, name)] = group.rule
            kinds.setdefault(group.kind, set()).add(name)
    return Rules(version, rule_of, {k: frozenset(v) for k, v in kinds.items()})


RULES: dict[int, Rules] = {v: _index(v, groups) for v, groups in RULESETS.items()}


def _uniform_ranks() -> bool:
    """Whether every field has the same rule in every ruleset that names it: then the
    versions one log wrote of one record all rank alike, whatever ruleset each named, and
    the merge may take the fast path for a record written by one log alone."""
    seen: dict[tuple[str, str], str] = {}
    for rules in RULES.values():
        for pair, rule in rules.rule_of.items():
            if seen.setdefault(pair, rule) != rule:
                return False
    return True


UNIFORM_RANKS = _uniform_ranks()

REF_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    kind: tuple(sorted((f, REF_KINDS.get(f, "person")) for f in fields if f.endswith("_ref")))
    for rules in RULES.values()
    for kind, fields in rules.kinds.items()
}
"""``kind -> ((ref field, kind it points at), ...)`` over the published rulesets."""


def authority_rules_rows() -> list[tuple[int, str, str, str, str]]:
    """``(ruleset, kind, field, group, rule)`` rows for the ``authority_rules`` table."""
    return sorted(
        (version, g.kind, name, g.name, g.rule)
        for version, groups in RULESETS.items()
        for g in groups
        for name in g.fields
    )
