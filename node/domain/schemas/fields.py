# SPDX-License-Identifier: Apache-2.0
"""marshmallow fields of the record schemas, each failing with a catalogue :class:`Message`.

marshmallow formats string messages and hands any other object through untouched, so the
fields raise :class:`~node.domain.messages.Message` objects (code + Chinese + English) and
``base.problems_from_errors`` turns them into FieldProblems without parsing any text.

Field values stay JSON types: dates are validated and kept as 'YYYY-MM-DD' strings, counts
are ints, and nothing is a float, so a record goes into the change log as it came out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from typing import Any

from marshmallow import ValidationError, fields, missing

from node.domain import divisions
from node.domain.messages import Bilingual, Message, message
from node.domain.resident_id import parse_resident_id
from node.domain.text import first_refused, normalise_newlines
from node.errors import ValidationError as NodeValidationError

_TODAY: ContextVar[date] = ContextVar("renkou_validation_today")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
# The record-id grammar of protocol/ops.py, so a ref can name any record that can exist.
_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")
EARLIEST_DATE = date(1900, 1, 1)


@contextmanager
def as_of(today: date) -> Iterator[None]:
    """Validate inside this block as of ``today``.

    marshmallow 4 has no schema context, and nested schemas cannot see their parent's
    attributes, so the date travels in a context variable that ``validate_record`` sets.
    """
    token = _TODAY.set(today)
    try:
        yield
    finally:
        _TODAY.reset(token)


def validation_today() -> date:
    """The date set by :func:`as_of`.

    Raises:
        RuntimeError: a schema was loaded outside ``as_of`` (use ``validate_record``).
    """
    try:
        return _TODAY.get()
    except LookupError:
        raise RuntimeError("load record schemas via validate_record() or inside as_of()") from None


def fail(code: str, **params: object) -> ValidationError:
    """A marshmallow error carrying one catalogue message (a list, as marshmallow expects)."""
    return ValidationError([message(code, **params)])


def problems_to_marshmallow(err: NodeValidationError) -> ValidationError:
    """Pass a node validator's problems through marshmallow with their wording intact."""
    return ValidationError([Message(p.code, p.zh, p.en) for p in err.problems])


class RecordField(fields.Field[Any]):
    """Base of every record field: the shared messages, and no formatting of them."""

    default_error_messages: dict[str, Any] = {
        "required": message("required"),
        "null": message("null"),
        "validator_failed": message("invalid"),
    }

    def __init__(self, *, label: str, required: bool = True, **kwargs: Any) -> None:
        # An optional field loads as None when absent (marshmallow then allows null for
        # it), so every cleaned record has every key and a stable shape.
        if not required:
            kwargs.setdefault("load_default", None)
        # The Chinese name of the field lives with the field (forms, registers and the
        # change report read it from here); a field without one is a programming mistake.
        if not label:
            raise ValueError("every record field needs its Chinese label")
        metadata = {**kwargs.pop("metadata", {}), "label": label}
        super().__init__(required=required, metadata=metadata, **kwargs)

    def deserialize(
        self,
        value: Any,
        attr: str | None = None,
        data: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        # Web forms send "" for every input left empty; for an optional field that means
        # "not given", not "invalid".
        if not self.required and isinstance(value, str) and not value.strip():
            value = missing
        return super().deserialize(value, attr, data, **kwargs)


class Text(RecordField):
    """Free text, trimmed; blank text is missing text.

    Control and invisible format characters are refused (node.domain.text): a name with
    a zero-width space is another name, and an escape sequence printed later would drive
    the officer's terminal. ``multiline`` fields (a complaint's content, notes) keep
    their line breaks, written as LF whatever the PC typed.
    """

    def __init__(self, *, max_length: int, multiline: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_length = max_length
        self.multiline = multiline

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise fail("not_text")
        text = normalise_newlines(value).strip() if self.multiline else value.strip()
        if not text:
            raise fail("text_empty")
        position = first_refused(text, multiline=self.multiline)
        if position is not None:
            raise fail("text_control_char", position=position)
        if len(text) > self.max_length:
            raise fail("text_too_long", max=self.max_length)
        return text


class Choice(RecordField):
    """One of a fixed set of codes; the codes are stored, their Chinese labels shown.

    ``choices`` maps each code to its label (node/domain/codes.py); the label set goes
    into the field's metadata as ``choices`` (what the pages read), and the refusal
    lists the labels a person can pick from, with the codes only in the English text.
    """

    def __init__(self, choices: Mapping[str, str], **kwargs: Any) -> None:
        metadata = {**kwargs.pop("metadata", {}), "choices": dict(choices)}
        super().__init__(metadata=metadata, **kwargs)
        self.choices = tuple(choices)
        self.labels = dict(choices)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or value not in self.choices:
            labels = "、".join(self.labels.values())
            raise fail("not_one_of", choices=Bilingual(labels, ", ".join(self.choices)))
        return value


class Int(RecordField):
    """A whole number in a range; digit strings from web forms are accepted, floats never."""

    def __init__(self, *, lo: int, hi: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lo, self.hi = lo, hi

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10:
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail("not_integer")
        if not self.lo <= value <= self.hi:
            raise fail("out_of_range", lo=self.lo, hi=self.hi)
        return value


class Bool(RecordField):
    """Exactly true or false: consent is never inferred from "yes", 1 or "on"."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise fail("not_boolean")
        return value


class IsoDate(RecordField):
    """A real calendar date written YYYY-MM-DD, kept as that string.

    ``future`` allows dates after today, for the few dates that are plans (a scheduled
    check, an expected delivery, the month a benefit change takes effect).
    """

    def __init__(self, *, future: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.future = future

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or not _ISO_DATE.match(value):
            raise fail("date_format")
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise fail("invalid_date") from None
        if day < EARLIEST_DATE:
            raise fail("date_too_early")
        if not self.future and day > validation_today():
            raise fail("date_in_future")
        return value


class Digits(RecordField):
    """A string of digits, such as a phone number (kept as text: leading zeros matter)."""

    def __init__(self, *, lo: int, hi: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lo, self.hi = lo, hi

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or not value.isascii() or not value.isdigit():
            raise fail("not_digits")
        if not self.lo <= len(value) <= self.hi:
            raise fail("digits_length", lo=self.lo, hi=self.hi)
        return value


class Ref(RecordField):
    """The id of another record (the store checks that it exists and is of the right kind)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or not _REF.match(value):
            raise fail("ref_invalid")
        return value


class IdNumber(RecordField):
    """A GB 11643 resident ID number, stored normalised (upper-case X)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        try:
            parsed = parse_resident_id(value, today=validation_today())
        except NodeValidationError as err:
            raise problems_to_marshmallow(err) from None
        return parsed.number


class PlaceCode(RecordField):
    """A division code of one of ``lengths`` levels, anywhere in China.

    Only counties are checked against the list: these fields name places in other
    counties too, whose new townships and villages no local registry knows.
    """

    def __init__(self, *, lengths: tuple[int, ...] = (6, 9, 12), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lengths = lengths

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        try:
            divisions.check_place_code(value, field=attr or "code", lengths=self.lengths)
        except NodeValidationError as err:
            raise problems_to_marshmallow(err) from None
        return str(value)


class NestedRecord(fields.Nested):
    """A nested object with catalogue messages for its own failures."""

    def __init__(self, nested: Any, *, label: str, **kwargs: Any) -> None:
        metadata = {**kwargs.pop("metadata", {}), "label": label}
        super().__init__(nested, metadata=metadata, **kwargs)

    default_error_messages: dict[str, Any] = {
        "required": message("required"),
        "null": message("null"),
        "validator_failed": message("invalid"),
        "type": message("not_object"),
    }
