# SPDX-License-Identifier: Apache-2.0
"""What the township's monthly review may keep of a village's change: least access.

The review checks that each village's month of changes is complete and plausible (a
birth without a pregnancy, an order that does not follow, a death of someone unknown)
and sends queries back naming the record (篇4 第44条). So for each demographic kind the
rules name (the kinds of the village's change report, node/registers/changes.py) it keeps
the record's id, the person it is about, and only the fields that say what happened and
when: the event, its date, and the coded facts the county's tables count (sex, order,
method, marital status, division codes). It never keeps:

* any other kind: complaints and tip-offs (their content is for the first-contact
  officer, 篇4 第18条), health checks and their results, benefits, supplies, reports;
* a sealed field (SPEC.md §10.6), whatever the kind;
* identifiers and contact details of anyone (ID numbers, the husband's and the father's
  names and ID numbers, phone numbers), addresses, free text (notes, reasons, places),
  and health details beyond the event (last menstrual date, birth weight, the provider):
  a query back to the village names the record id, and the village holds the card.

A change that touches none of these fields is still kept, as a change of the record
with no values (the count of changes is part of the check).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from node.domain.records import SEALED_FIELDS, SUBJECT_REFS

REVIEW_FIELDS: Mapping[str, frozenset[str]] = {
    "person": frozenset(
        {
            "name",
            "sex",
            "birth_date",
            "card_type",
            "marital_status",
            "hukou_code",
            "residence_code",
            "floating_status",
        }
    ),
    "marriage": frozenset({"woman_ref", "marriage_date", "first_marriage"}),
    "marital_change": frozenset({"person_ref", "marital_status", "change_date"}),
    "pregnancy": frozenset({"woman_ref", "registered_date", "expected_date"}),
    "birth": frozenset({"mother_ref", "child_sex", "birth_date", "birth_order"}),
    "birth_registration": frozenset({"mother_ref", "child_order", "registered_date"}),
    "contraceptive_procedure": frozenset({"person_ref", "method", "procedure_date"}),
    "follow_up": frozenset({"person_ref", "visit_date", "method_in_use"}),
    "death": frozenset({"person_ref", "death_date"}),
    "move": frozenset({"person_ref", "direction", "move_date", "from_code", "to_code"}),
    "floating": frozenset({"person_ref", "event", "event_date", "place_code"}),
}
"""The fields the review keeps, by record kind; a kind not listed is never kept."""


def reviewed(kind: str) -> bool:
    """Is a change of a record of ``kind`` part of the monthly review?"""
    return kind in REVIEW_FIELDS


def kept_fields(kind: str) -> frozenset[str]:
    """The fields of a change of ``kind`` the review keeps: the listed ones, never a
    sealed one; none for a kind not listed."""
    return REVIEW_FIELDS.get(kind, frozenset()) - frozenset(SEALED_FIELDS.get(kind, ()))


def review_fields(
    kind: str, fields: Mapping[str, Any], keep: frozenset[str] | None = None
) -> dict[str, Any]:
    """The part of a change's new values (``fields``, by field name) the review keeps:
    ``keep``, the :func:`kept_fields` of ``kind`` (asked once per kind by a caller
    reading many changes: a catch-up brings tens of thousands)."""
    keep = kept_fields(kind) if keep is None else keep
    return {name: value for name, value in fields.items() if name in keep}


def subject_of(kind: str, record_id: str, fields: Mapping[str, Any]) -> str | None:
    """The id of the person a change is about: the card itself, or its first subject
    reference (the woman, the mother, the person)."""
    if kind == "person":
        return record_id
    found = next((fields[r] for r in SUBJECT_REFS if isinstance(fields.get(r), str)), None)
    return found if isinstance(found, str) else None
