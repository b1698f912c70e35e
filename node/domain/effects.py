# SPDX-License-Identifier: Apache-2.0
"""What an event does to the card it is about, written in the same entry as the event.

Pure: given the new record and the card it names, this says which card fields change,
whether the card closes, and which records come with it; the recording path turns that
into ops of one log entry, so the event and its consequence are never apart.

* a marriage or a marital change sets the marital status (with the first-marriage date);
* a hukou move out (迁出) closes the card here, reason ``moved_away``, after pointing its
  hukou (and, if she lived here, its residence) at the new place, so the closed card no
  longer claims authority over her at the county; a move in makes it a hukou card here
  and ends a floating-in registration;
* a floating record (流出/流入/返回/离开) sets the card's floating fields, and a floating-in
  woman leaving closes the registration card here, reason ``left``;
* a card entered as floating gets its floating record, so floating is always an event
  with a date and a place, which is what the tables count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CLOSED_MOVED_AWAY = "moved_away"
CLOSED_LEFT = "left"
CLOSING_REASONS = frozenset({CLOSED_MOVED_AWAY, CLOSED_LEFT})
"""Retire reasons that close a card here without saying anything of the person
elsewhere: another village may keep (or open) her card, and the county keeps her."""

_NOT_FLOATING: dict[str, Any] = {
    "floating_status": "resident",
    "floating_since": None,
    "floating_place": None,
}
_FLOATING_STATUS = {"flow_out": "flowed_out", "flow_in": "flowed_in"}
_EVENT_OF_STATUS = {v: k for k, v in _FLOATING_STATUS.items()}


@dataclass(frozen=True, slots=True)
class CardChange:
    """Set ``fields`` on the person card ``record_id``."""

    record_id: str
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CardClose:
    """Close (retire) the person card ``record_id`` for ``reason``."""

    record_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class NewRecord:
    """Write a further record of ``kind`` (it gets its own id)."""

    kind: str
    fields: dict[str, Any]


Effect = CardChange | CardClose | NewRecord


def effects(
    kind: str, record_id: str, data: dict[str, Any], card: dict[str, Any] | None, node_code: str
) -> list[Effect]:
    """The effects of a new record.

    Args:
        kind: the new record's kind.
        record_id: its id (a card's own floating record names it).
        data: the validated record.
        card: the person card the record is about (None for cards and office records).
        node_code: this node's division code (a hukou move is judged against it).
    """
    card = card or {}
    if kind == "person":
        return _new_card(record_id, data)
    if kind == "marriage":
        status = "married" if data.get("first_marriage") else "remarried"
        fields: dict[str, Any] = {"marital_status": status}
        if data.get("first_marriage") and not card.get("first_marriage_date"):
            fields["first_marriage_date"] = data["marriage_date"]
        return [CardChange(data["woman_ref"], fields)]
    if kind == "marital_change":
        return [CardChange(data["person_ref"], {"marital_status": data["marital_status"]})]
    if kind == "move":
        return _hukou_move(data, card, node_code)
    if kind == "floating":
        return _floating(data)
    return []


def _new_card(record_id: str, data: dict[str, Any]) -> list[Effect]:
    event = _EVENT_OF_STATUS.get(str(data.get("floating_status")))
    if event is None:
        return []
    return [
        NewRecord(
            "floating",
            {
                "person_ref": record_id,
                "event": event,
                "event_date": data["floating_since"],
                "place_code": data["floating_place"],
                "address": None,
                "reason": None,
            },
        )
    ]


def _hukou_move(data: dict[str, Any], card: dict[str, Any], node_code: str) -> list[Effect]:
    who, to = data["person_ref"], data["to_code"]
    village = len(to) == 12
    if data["direction"] == "out":
        fields: dict[str, Any] = {}
        if village:
            fields["hukou_code"] = to
            if str(card.get("residence_code", "")).startswith(node_code):
                fields["residence_code"] = to
        out: list[Effect] = [CardChange(who, fields)] if fields else []
        return [*out, CardClose(who, CLOSED_MOVED_AWAY)]
    fields = {"hukou_code": to} if village else {}
    if card.get("floating_status") == "flowed_in":
        fields.update(_NOT_FLOATING)
    return [CardChange(who, fields)] if fields else []


def _floating(data: dict[str, Any]) -> list[Effect]:
    who, event = data["person_ref"], data["event"]
    if event in _FLOATING_STATUS:
        fields = {
            "floating_status": _FLOATING_STATUS[event],
            "floating_since": data["event_date"],
            "floating_place": data["place_code"],
        }
        return [CardChange(who, fields)]
    if event == "return":
        return [CardChange(who, dict(_NOT_FLOATING))]
    return [CardClose(who, CLOSED_LEFT)]
