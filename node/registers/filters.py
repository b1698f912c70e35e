# SPDX-License-Identifier: Apache-2.0
"""What some registers leave out, and how the public notice masks a name.

* the public notice of benefit applicants (公示, 篇3 第12条) names people to the whole
  village for scrutiny: a masked name (张*华), the programme and the notice period, and
  no ID number, no health data (a special-support family's disability or loss is not
  printed: only the programme is), no record id;
* the floating women register lists the women on information cards (育龄妇女);
* the annual register of births to floating women (篇10 第23条) lists the births whose
  mother had floated in from elsewhere and lived here on the day of the birth.
"""

from __future__ import annotations

from typing import Any

from node.store.lookup import RecordLookup


def mask_name(name: Any) -> str:
    """张华 -> 张*, 张秀华 -> 张*华, 欧阳秀华 -> 欧**华: the first and the last character
    stay (a neighbour recognises the person, a stranger learns little), one star for
    each character hidden."""
    if not isinstance(name, str) or not name:
        return ""
    if len(name) <= 2:
        return name[0] + "*" * (len(name) - 1)
    return name[0] + "*" * (len(name) - 2) + name[-1]


def passed_village_review(lookup: RecordLookup, data: dict[str, Any]) -> bool:
    """An application is publicly noticed once the village review passed it."""
    del lookup
    return data.get("village_result") == "passed" and data.get("notice_from") is not None


def woman_on_card(lookup: RecordLookup, data: dict[str, Any]) -> bool:
    card = lookup.get("person", data.get("person_ref"))
    return card is not None and card.get("card_type") == "woman"


def floating_mother(lookup: RecordLookup, data: dict[str, Any]) -> bool:
    """The mother's latest floating record up to the birth says she floated in."""
    mother, born = data.get("mother_ref"), data.get("birth_date")
    if not isinstance(mother, str) or not isinstance(born, str):
        return False
    events = [
        f for _rid, f in lookup.naming("floating", "person_ref", mother)
        if isinstance(f.get("event_date"), str) and f["event_date"] <= born
    ]  # fmt: skip
    if not events:
        return False
    latest = max(events, key=lambda f: str(f["event_date"]))
    return latest.get("event") == "flow_in"
