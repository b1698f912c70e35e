# SPDX-License-Identifier: Apache-2.0
"""Who belongs to which population on a day: the derived facts the tables share.

Every table says which population it counts (domain.md section 4), never a silent mix:

* the **hukou population** (户籍人口): people whose registered residence is here. A hukou
  move (``move``) starts or ends it on its date; floating out (流出) does not end it, her
  hukou is still here. A person whose first record here is a floating-in registration
  from another county (流入, ``floating``) is not part of it unless her hukou moves in.
* the **residents** of the temporary-resident (暂住) tables: the hukou population plus
  floating-in people who have lived here more than six months (篇10).
* **floating population** (流动人口): people who crossed a county line, aged 18-49
  (篇10 第3条). A floating event counts for it when its other place lies outside the
  county (``out_of_county``); moving between two villages of one county is not floating
  population, however it was recorded.

Everything is read from dated records, never from today's card: a woman who floated in
last month was not here at the period's start whatever her card says now, and Table 3
takes the marital status as at the period's end from marriages and marital changes.
"""

from __future__ import annotations

from county_aggregator.reports.rules import (
    END,
    START,
    AgeAt,
    AllOf,
    AnyOf,
    Derived,
    Earliest,
    Latest,
    Source,
    Where,
    absent,
    eq,
    is_in,
    months_before,
    ne,
    out_of_county,
    present,
)
from node.domain.codes import MARRIED
from node.domain.effects import CLOSING_REASONS

_DEATH = Source("death", "person_ref", "death_date")
_MOVE_IN = Source(
    "move", "person_ref", "move_date", value="direction", where=(eq("direction", "in"),)
)
_MOVE_OUT = Source(
    "move", "person_ref", "move_date", value="direction", where=(eq("direction", "out"),)
)
_CAME_IN = Source(
    "floating",
    "person_ref",
    "event_date",
    where=(eq("event", "flow_in"), out_of_county("place_code")),
)
_WENT_OUT = Source(
    "floating",
    "person_ref",
    "event_date",
    where=(eq("event", "flow_out"), out_of_county("place_code")),
)
_FLOAT_CROSS = Source(
    "floating",
    "person_ref",
    "event_date",
    value="event",
    where=(is_in("event", ("flow_in", "flow_out")), out_of_county("place_code")),
)
_FLOAT_ENDS = Source(
    "floating",
    "person_ref",
    "event_date",
    value="event",
    where=(is_in("event", ("return", "leave")),),
)
# A hukou move in ends a floating-in registration: from that day she is hukou population.
_SETTLED = Source(
    "move",
    "person_ref",
    "move_date",
    value="direction",
    mapping={"in": "hukou_in"},
    where=(eq("direction", "in"),),
)
_MARITAL = (
    Source(
        "marriage",
        "woman_ref",
        "marriage_date",
        value="first_marriage",
        mapping={True: "married", False: "remarried"},
    ),
    Source("marital_change", "person_ref", "change_date", value="marital_status"),
)

FACTS: dict[str, Derived] = {
    "died_before_start": Latest((_DEATH,), upto="before_start"),
    "died_by_end": Latest((_DEATH,), upto="end"),
    # A hukou move in wins a tie on the day (an intra-county move writes both).
    "move_before_start": Latest((_MOVE_IN, _MOVE_OUT), upto="before_start"),
    "move_by_end": Latest((_MOVE_IN, _MOVE_OUT), upto="end"),
    "first_move": Earliest((_MOVE_OUT, _MOVE_IN), upto="any"),
    "came_in": Earliest((_CAME_IN,), upto="any"),
    "float_at_start": Latest((_SETTLED, _FLOAT_ENDS, _FLOAT_CROSS), upto="before_start"),
    "float_by_end": Latest((_SETTLED, _FLOAT_ENDS, _FLOAT_CROSS), upto="end"),
    "float_in_since_start": Latest((_CAME_IN,), upto="before_start"),
    "float_in_since_end": Latest((_CAME_IN,), upto="end"),
    "float_out_since_end": Latest((_WENT_OUT,), upto="end"),
    "marital_at_end": Latest(_MARITAL, upto="end"),
    "marital_after_end": Earliest(_MARITAL, upto="after_end"),
    "age_at_end": AgeAt("end"),
}
"""The facts of every population table (a table feeds only those its tests read)."""

KEPT = (AnyOf((absent("@retired"), is_in("@retired", tuple(sorted(CLOSING_REASONS))))),)
"""Cards counted: live ones, and those closed because she moved or left (she was here
before); never a card withdrawn as entered in error or a duplicate."""

HUKOU_PERSON = (AnyOf((absent("$came_in"), eq("$move_by_end", "in"))),)
"""Not a floating-in registrant from another county, or one whose hukou moved in since."""

HUKOU_AT_START = (
    Where("birth_date", "lt", START),
    absent("$died_before_start"),
    ne("$move_before_start", "out"),
    AnyOf((present("$move_before_start"), ne("$first_move", "in"))),
    AnyOf((eq("$move_before_start", "in"), absent("$came_in"))),
)
HUKOU_AT_END = (
    Where("birth_date", "le", END),
    absent("$died_by_end"),
    ne("$move_by_end", "out"),
    AnyOf((present("$move_by_end"), ne("$first_move", "in"))),
    AnyOf((eq("$move_by_end", "in"), absent("$came_in"))),
)

SIX_MONTHS = 6
FLOATER_AT_START = (
    Where("birth_date", "lt", START),
    absent("$died_before_start"),
    eq("$float_at_start", "flow_in"),
    Where("$float_in_since_start", "lt", months_before(START, SIX_MONTHS)),
)
"""Floated in from another county and here more than six months when the period began."""
FLOATER_AT_END = (
    Where("birth_date", "le", END),
    absent("$died_by_end"),
    eq("$float_by_end", "flow_in"),
    Where("$float_in_since_end", "lt", months_before(END, SIX_MONTHS)),
)

RESIDENT_AT_END = (AnyOf((AllOf(HUKOU_AT_END), AllOf(FLOATER_AT_END))),)
RESIDENT_PERSON = (
    AnyOf(
        (
            absent("$came_in"),
            eq("$move_by_end", "in"),
            Where("$float_in_since_end", "lt", months_before(END, SIX_MONTHS)),
        )
    ),
)
"""Whose events a temporary-resident table counts: the hukou population's, and those of
floating-in people here more than six months by the period's end."""

_ENDED_A_MARRIAGE = ("divorced", "widowed")
MARRIED_AT_END = (
    AnyOf((is_in("$marital_at_end", tuple(sorted(MARRIED))), absent("$marital_at_end"))),
    AnyOf(
        (
            present("$marital_at_end"),
            is_in("$marital_after_end", _ENDED_A_MARRIAGE),
            AllOf(
                (
                    absent("$marital_after_end"),
                    is_in("marital_status", tuple(sorted(MARRIED))),
                    AnyOf((absent("first_marriage_date"), Where("first_marriage_date", "le", END))),
                )
            ),
        )
    ),
)
"""Married at the period's end, from dated records, not today's card: by the last
marriage or marital change up to then; else by the first one after it (a divorce after
the end means married at the end, a marriage after it means not); else, for a card
entered married before the records began, by its status and first-marriage date."""
