# SPDX-License-Identifier: Apache-2.0
"""Entry payloads: the ops of one local transaction (protocol/ops.py)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import canonical
from protocol.entries import MAX_PAYLOAD
from protocol.errors import (
    ErrorCode,
    MalformedError,
    ProtocolError,
    TooLargeError,
    UnsupportedError,
)
from protocol.ops import (
    EPOCH_REASONS,
    MAX_FIELDS,
    MAX_OPS,
    EpochStart,
    Note,
    Op,
    Retire,
    Upsert,
    check_base,
    decode_payload,
    encode_payload,
)
from tests.protocol.strategies import json_values, nfc_text

kinds = st.from_regex(r"[a-z][a-z0-9_]{0,31}", fullmatch=True)
record_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}", fullmatch=True)
field_names = st.from_regex(r"[a-z][a-z0-9_]{0,47}", fullmatch=True)
log_ids = st.builds(
    "{}#{}".format,
    st.sampled_from(["village:440104001002", "township:440104001", "county:440104"]),
    st.integers(1, 2**32 - 1),
)
bases = st.integers(0, 2**53 - 1) | st.builds("{}/{}".format, log_ids, st.integers(1, 2**53 - 1))
values = json_values(4)

upserts = st.builds(
    Upsert,
    kinds,
    record_ids,
    st.dictionaries(field_names, st.tuples(values, bases), min_size=1, max_size=5),
)
retires = st.builds(Retire, kinds, record_ids, nfc_text.filter(lambda s: 1 <= len(s) <= 64), bases)
epochs = st.builds(
    EpochStart,
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**53 - 1),
    st.sampled_from(sorted(EPOCH_REASONS)),
)
notes = st.builds(
    Note, kinds, st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), values, max_size=4)
)
ops_lists = st.lists(upserts | retires | epochs | notes, min_size=1, max_size=5)


@given(ops_lists)
@settings(max_examples=200, deadline=None)
def test_payload_round_trip(ops: list[Op]) -> None:
    """Entry payloads: the ops of exactly one local transaction, in canonical JSON."""
    data = encode_payload(ops)
    assert ops == decode_payload(data)
    assert data == canonical.encode(canonical.decode(data))


def test_payload_exact_bytes() -> None:
    """Each upserted field travels with the base version the writer saw."""
    ops: list[Op] = [Upsert("person", "p1", {"name": ("张三", 0)})]
    expected = (
        '{"ops":[{"fields":{"name":["张三",0]},"id":"p1","kind":"person","op":"upsert"}],"v":1}'
    )
    assert expected.encode() == encode_payload(ops)


@pytest.mark.parametrize(
    "base",
    [
        0, 7, 2**53 - 1, "village:440104001002#1/5", "county:440104#3/12", "township:440104001#2/1",
        f"village:440104001002#1/{2**53 - 1}", f"village:440104001002#{2**32 - 1}/1",
    ],
)  # fmt: skip
def test_good_bases(base: int | str) -> None:
    """A version is 0, a positive seq of the same log, or "<log id>/<seq>"."""
    assert base == check_base(base)


def _upsert(**changes: Any) -> dict[str, Any]:
    op = {"op": "upsert", "kind": "person", "id": "p1", "fields": {"name": ["x", 0]}}
    op.update(changes)
    return op


def _payload(*ops: Any, **top: Any) -> bytes:
    body: dict[str, Any] = {"v": 1, "ops": list(ops)}
    body.update(top)
    return canonical.encode(body)


RETIRE = {"op": "retire", "kind": "person", "id": "p1", "reason": "retention", "base": 7}
EPOCH = {"op": "epoch", "prev_epoch": 1, "prev_seq": 120, "reason": "restore"}
NOTE = {"op": "note", "topic": "advisory", "body": {}}
LOG = "village:440104001002#1"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        # Unknown ops are kept, never half-understood.
        pytest.param(_payload({"op": "merge", "kind": "person"}), UnsupportedError,
                     id="unknown-op"),
        pytest.param(_payload(NOTE, {"op": "delete"}), UnsupportedError, id="unknown-second-op"),
        # The envelope of the ops.
        pytest.param(_payload(NOTE, v=2), UnsupportedError, id="v-2"),
        pytest.param(canonical.encode({"ops": [NOTE]}), MalformedError, id="no-v"),
        pytest.param(_payload(NOTE, extra=1), MalformedError, id="extra-top-key"),
        pytest.param(_payload(), MalformedError, id="no-ops"),
        pytest.param(canonical.encode({"v": 1, "ops": NOTE}), MalformedError, id="ops-not-list"),
        pytest.param(canonical.encode([NOTE]), MalformedError, id="not-an-object"),
        pytest.param(_payload(*[NOTE] * (MAX_OPS + 1)), MalformedError, id="too-many-ops"),
        pytest.param(_payload("upsert"), MalformedError, id="op-not-object"),
        # Missing and extra keys.
        pytest.param(_payload({k: v for k, v in _upsert().items() if k != "id"}), MalformedError,
                     id="upsert-missing-id"),
        pytest.param(_payload({k: v for k, v in _upsert().items() if k != "fields"}),
                     MalformedError, id="upsert-missing-fields"),
        pytest.param(_payload(_upsert(extra=1)), MalformedError, id="upsert-extra-key"),
        pytest.param(_payload({k: v for k, v in RETIRE.items() if k != "base"}), MalformedError,
                     id="retire-missing-base"),
        pytest.param(_payload({k: v for k, v in EPOCH.items() if k != "reason"}), MalformedError,
                     id="epoch-missing-reason"),
        pytest.param(_payload({"op": "note", "topic": "x"}), MalformedError,
                     id="note-missing-body"),
        # Names.
        pytest.param(_payload(_upsert(kind="Person")), MalformedError, id="kind-upper-case"),
        pytest.param(_payload(_upsert(kind="")), MalformedError, id="kind-empty"),
        pytest.param(_payload(_upsert(kind="1person")), MalformedError, id="kind-digit-first"),
        pytest.param(_payload(_upsert(kind="k" * 33)), MalformedError, id="kind-too-long"),
        pytest.param(_payload(_upsert(kind=5)), MalformedError, id="kind-not-string"),
        pytest.param(_payload(_upsert(id="")), MalformedError, id="id-empty"),
        pytest.param(_payload(_upsert(id="-p1")), MalformedError, id="id-dash-first"),
        pytest.param(_payload(_upsert(id="p 1")), MalformedError, id="id-space"),
        pytest.param(_payload(_upsert(id="p" * 65)), MalformedError, id="id-too-long"),
        pytest.param(_payload(_upsert(id="p1\n")), MalformedError, id="id-trailing-newline"),
        pytest.param(_payload(_upsert(fields={"1name": ["x", 0]})), MalformedError,
                     id="field-digit-first"),
        pytest.param(_payload(_upsert(fields={"_name": ["x", 0]})), MalformedError,
                     id="field-underscore-first"),
        pytest.param(_payload(_upsert(fields={"n" * 49: ["x", 0]})), MalformedError,
                     id="field-too-long"),
        pytest.param(_payload(_upsert(fields={})), MalformedError, id="no-fields"),
        pytest.param(_payload(_upsert(fields={f"f{i}": ["x", 0] for i in range(MAX_FIELDS + 1)})),
                     MalformedError, id="too-many-fields"),
        pytest.param(_payload(_upsert(fields={"name": "x"})), MalformedError, id="field-not-pair"),
        pytest.param(_payload(_upsert(fields={"name": ["x", 0, 1]})), MalformedError,
                     id="field-triple"),
        # Base versions.
        pytest.param(_payload(_upsert(fields={"name": ["x", -1]})), MalformedError, id="base-neg"),
        pytest.param(_payload(_upsert(fields={"name": ["x", True]})), MalformedError,
                     id="base-bool"),
        pytest.param(_payload(_upsert(fields={"name": ["x", None]})), MalformedError,
                     id="base-null"),
        pytest.param(_payload(_upsert(fields={"name": ["x", "7"]})), MalformedError,
                     id="base-digit-string"),
        pytest.param(_payload(_upsert(fields={"name": ["x", f"{LOG}/0"]})), MalformedError,
                     id="base-seq-0"),
        pytest.param(_payload(_upsert(fields={"name": ["x", f"{LOG}/07"]})), MalformedError,
                     id="base-seq-leading-zero"),
        pytest.param(_payload(_upsert(fields={"name": ["x", f"{LOG}/"]})), MalformedError,
                     id="base-seq-empty"),
        pytest.param(_payload(_upsert(fields={"name": ["x", f"{LOG}/1" + "0" * 16]})),
                     MalformedError, id="base-seq-17-digits"),
        pytest.param(_payload(_upsert(fields={"name": ["x", f"{LOG}/{2**53}"]})),
                     MalformedError, id="base-seq-2**53"),
        pytest.param(_payload(_upsert(fields={"name": ["x", f"{LOG}/9999999999999999"]})),
                     MalformedError, id="base-seq-16-nines"),
        pytest.param(_payload(_upsert(fields={"name": ["x", "/5"]})), MalformedError,
                     id="base-no-log"),
        pytest.param(_payload(_upsert(fields={"name": ["x", "village:440104001002/5"]})),
                     MalformedError, id="base-no-epoch"),
        pytest.param(_payload(_upsert(fields={"name": ["x", "village:440104001002#0/5"]})),
                     MalformedError, id="base-epoch-0"),
        pytest.param(_payload(_upsert(fields={"name": ["x", "village:440104#1/5"]})),
                     MalformedError, id="base-role-length"),
        pytest.param(_payload({**RETIRE, "base": -3}), MalformedError, id="retire-bad-base"),
        # Other fields.
        pytest.param(_payload({**RETIRE, "reason": ""}), MalformedError, id="retire-no-reason"),
        pytest.param(_payload({**RETIRE, "reason": "r" * 65}), MalformedError,
                     id="retire-long-reason"),
        pytest.param(_payload({**EPOCH, "reason": "reboot"}), MalformedError, id="epoch-reason"),
        pytest.param(_payload({**EPOCH, "prev_epoch": -1}), MalformedError, id="epoch-negative"),
        pytest.param(_payload({**EPOCH, "prev_epoch": 2**32}), MalformedError,
                     id="epoch-above-bound"),
        pytest.param(_payload({**EPOCH, "prev_seq": -1}), MalformedError, id="epoch-seq-negative"),
        pytest.param(_payload({**EPOCH, "prev_seq": "3"}), MalformedError, id="epoch-seq-string"),
        pytest.param(_payload({**EPOCH, "prev_seq": False}), MalformedError, id="epoch-seq-bool"),
        pytest.param(_payload({**NOTE, "body": []}), MalformedError, id="note-body-list"),
        pytest.param(_payload({**NOTE, "topic": "Advisory"}), MalformedError, id="note-topic"),
        # Bytes.
        pytest.param(_payload(NOTE).replace(b",", b", ", 1), MalformedError, id="non-canonical"),
        pytest.param(b"\x00" * (MAX_PAYLOAD + 1), TooLargeError, id="over-64k"),
    ],
)  # fmt: skip
def test_bad_payloads(data: bytes, error: type[ProtocolError]) -> None:
    """Strictly decode a payload (canonical bytes, known op types, bounded sizes)."""
    with pytest.raises(error) as info:
        decode_payload(data)
    assert type(info.value) is error
    if error is UnsupportedError:
        assert ErrorCode.UNSUPPORTED == info.value.code


def test_largest_payload_is_accepted() -> None:
    """A payload holds 1..MAX_OPS ops and at most MAX_PAYLOAD bytes."""
    data = _payload(*[NOTE] * MAX_OPS)
    assert len(data) <= MAX_PAYLOAD
    assert MAX_OPS == len(decode_payload(data))


def test_encode_payload_programmer_errors() -> None:
    """encode_payload: a payload holds 1..MAX_OPS ops (ValueError otherwise)."""
    with pytest.raises(ValueError):
        encode_payload([])
    with pytest.raises(ValueError):
        encode_payload([Note("x", {})] * (MAX_OPS + 1))
    with pytest.raises(ValueError):
        encode_payload([Note("x", {"blob": "x" * MAX_PAYLOAD})])


def test_version_true_is_not_version_1() -> None:
    """payload must be {'v': 1, 'ops': [...]}."""
    with pytest.raises(MalformedError):
        decode_payload(_payload(NOTE, v=True))


def test_superscript_epoch_in_base_is_malformed() -> None:
    """decode_payload raises only TooLargeError, MalformedError or UnsupportedError."""
    with pytest.raises(MalformedError):
        decode_payload(_payload(_upsert(fields={"name": ["x", "village:440104001002#\u00b2/5"]})))


@pytest.mark.parametrize(
    "seq", ["\u00b2", "\u0661", "\uff11"], ids=["superscript", "arabic-indic", "full-width"]
)
def test_non_ascii_seq_in_base_is_malformed(seq: str) -> None:
    """A base version is 0, a seq of the same log, or "<log id>/<seq>" (ASCII digits)."""
    with pytest.raises(MalformedError):
        check_base(f"{LOG}/{seq}")


def test_epoch_op_bounds() -> None:
    """SPEC.md §10.2: prev_epoch is 0..2**32-1 (the epoch bound of §3.4) and prev_seq
    0..2**53-1 (every seq); the largest of each decodes."""
    top = _payload({**EPOCH, "prev_epoch": 2**32 - 1, "prev_seq": 2**53 - 1})
    assert [EpochStart(2**32 - 1, 2**53 - 1, "restore")] == decode_payload(top)
    with pytest.raises(ValueError):
        encode_payload([EpochStart(2**32, 1, "restore")])


def test_base_seq_bound() -> None:
    """SPEC.md §10.3: the seq of a "<log id>/<seq>" base is at most 2**53-1, as every seq."""
    assert f"{LOG}/{2**53 - 1}" == check_base(f"{LOG}/{2**53 - 1}")
    with pytest.raises(MalformedError):
        check_base(f"{LOG}/{2**53}")
    with pytest.raises(ValueError):
        encode_payload([Retire("person", "p1", "retention", f"{LOG}/{2**53}")])


def test_op_type_and_encoder_validation() -> None:
    """a missing or non-string "op" is MalformedError (only a well-formed
    unknown op type is UnsupportedError); encode_payload never emits what decode refuses."""
    for op in ({"kind": "person"}, {"op": 5}, {"op": None}, {"op": ""}, {"op": "Delete!"}):
        with pytest.raises(MalformedError):
            decode_payload(canonical.encode({"v": 1, "ops": [op]}))
    with pytest.raises(UnsupportedError):
        decode_payload(canonical.encode({"v": 1, "ops": [{"op": "delete"}]}))
    for bad in [
        Upsert("Person", "p1", {"name": ("x", 0)}),
        Upsert("person", "p 1", {"name": ("x", 0)}),
        Upsert("person", "p1", {}),
        Upsert("person", "p1", {"name": ("x", -1)}),
        Retire("person", "p1", "retention", "village:440104001002#01/5"),
        EpochStart(1, 2, "reboot"),
    ]:
        with pytest.raises(ValueError):
            encode_payload([bad])
    with pytest.raises(TypeError):
        encode_payload(["not an op"])  # type: ignore[list-item]
