# SPDX-License-Identifier: Apache-2.0
"""The enrolment vectors hold (SPEC.md §8.8): a code and its derived values, a request
and the answer to it, and one-fault messages with the code a reader reports."""

from __future__ import annotations

from typing import Any

import pytest

from protocol.enrolment import (
    code_key,
    decode_answer,
    decode_request,
    format_code,
    invite_id,
    normalise_code,
)
from protocol.errors import ProtocolError
from protocol.vectors import enrolment
from tests.protocol.helpers import vectors

ENROLMENT = vectors("enrolment.json")


def test_the_code_and_what_it_derives() -> None:
    code = ENROLMENT["code"]
    assert normalise_code(code["typed"]) == code["normalised"]
    assert format_code(code["typed"]) == "K7QF-3XD2-9MPA"
    assert invite_id(code["typed"]) == code["invite"]
    assert code_key(code["normalised"]).hex() == code["key"]


def test_the_request_and_its_answer() -> None:
    request = bytes.fromhex(ENROLMENT["request"])
    decoded = decode_request(request)
    decoded.check_mac(bytes.fromhex(ENROLMENT["code"]["key"]))
    assert (str(decoded.node), decoded.invite) == (
        "village:440104001002",
        ENROLMENT["code"]["invite"],
    )
    answer = decode_answer(bytes.fromhex(ENROLMENT["answer"]), "K7QF3XD29MPA", request)
    assert answer.node.verify_key.raw == decoded.verify_key.raw
    assert answer.issuing is not None and answer.issuing.serial == 2
    assert str(answer.parent.node) == "township:440104001"


def _code(run: Any) -> str:
    try:
        run()
    except ProtocolError as exc:
        return str(exc.code)
    return "ok"


@pytest.mark.parametrize("case", ENROLMENT["invalid"], ids=lambda c: c["name"])
def test_one_fault(case: dict[str, Any]) -> None:
    raw = bytes.fromhex(case["bytes"])
    key = bytes.fromhex(ENROLMENT["code"]["key"])
    if case["reader"] == "county":
        assert case["expect"] == _code(lambda: decode_request(raw).check_mac(key))
    else:
        request = bytes.fromhex(ENROLMENT["request"])
        assert case["expect"] == _code(lambda: decode_answer(raw, "K7QF3XD29MPA", request))


def test_the_bytes_are_pinned() -> None:
    """§13: everything is CLASSIC, so the generator still writes exactly these bytes."""
    fresh = enrolment.enrolment_vectors()
    assert {k: v for k, v in ENROLMENT.items() if k != "provenance"} == fresh


@pytest.mark.parametrize("typed", ["K7QF-3XD2-9MP", "K7QF-3XD2-9MPAA", "K7QF-3XD2-9MPU", ""])
def test_a_typed_code_that_is_no_code(typed: str) -> None:
    with pytest.raises(ProtocolError):
        normalise_code(typed)
