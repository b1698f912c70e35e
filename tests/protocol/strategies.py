# SPDX-License-Identifier: Apache-2.0
"""Shared hypothesis strategies for the protocol tests (attrs tests/strategies.py style)."""

from __future__ import annotations

import unicodedata

from hypothesis import strategies as st

from protocol import Retire, Upsert, encode_payload
from protocol.canonical import MAX_DEPTH, MAX_SAFE_INT

safe_ints = st.integers(min_value=-MAX_SAFE_INT, max_value=MAX_SAFE_INT)
nfc_text = st.text(max_size=20).map(lambda s: unicodedata.normalize("NFC", s))
keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=8)
scalars = st.none() | st.booleans() | safe_ints | nfc_text


def json_values(max_depth: int = MAX_DEPTH) -> st.SearchStrategy[object]:
    """Values of the canonical profile, nested at most ``max_depth`` containers deep."""
    strategy: st.SearchStrategy[object] = scalars
    for _ in range(max_depth):
        inner = strategy
        strategy = scalars | st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3)
    return strategy


def mutations(seed: bytes) -> st.SearchStrategy[bytes]:
    """``seed`` with one to three byte flips, insertions, deletions or a truncation."""

    @st.composite
    def _mutate(draw: st.DrawFn) -> bytes:
        data = bytearray(seed)
        for _ in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
            at = draw(st.integers(0, max(len(data) - 1, 0)))
            if kind == "flip" and data:
                data[at] ^= draw(st.integers(1, 255))
            elif kind == "set" and data:
                data[at] = draw(st.integers(0, 255))
            elif kind == "insert":
                data[at:at] = draw(st.binary(min_size=1, max_size=4))
            elif kind == "delete" and data:
                del data[at : at + draw(st.integers(1, 4))]
            elif kind == "truncate":
                del data[at:]
        return bytes(data)

    return _mutate()


# Payloads of the common shape (upserts and retires of scalar fields), the ones the fast
# decoders vouch for: the fast path's tests compare them with the strict decoder.
field_names = st.sampled_from(["name", "phone", "birth_date", "x_1", "mother_ref"])
field_values = scalars | st.sampled_from(["王芳", "é", "\x1f", "\u0301"])
bases = st.sampled_from([0, 1, 17, "village:440104001002#1/3", "village:440104001002#2/12"])
upserts = st.builds(
    Upsert,
    st.sampled_from(["person", "birth", "follow_up"]),
    st.sampled_from(["P1", "B-2", "x.y"]),
    st.dictionaries(field_names, st.tuples(field_values, bases), min_size=1, max_size=5),
)
retires = st.builds(
    Retire, st.just("person"), st.just("P1"), st.sampled_from(["moved", "retention"]), bases
)
payloads = st.lists(upserts | retires, min_size=1, max_size=4).map(encode_payload)
