# SPDX-License-Identifier: Apache-2.0
"""The county's stored JSON is the same text with orjson as with the canonical encoder.

Every merged row, conflict and content hash is spelled by ``local.dumps``; if orjson
spelled one value differently, a county with orjson and one without would hash the
same logs differently, and the merge would no longer be a pure function of the logs.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from county_aggregator.local import dumps, orjson
from protocol.fast_payload import canonical_text
from tests.protocol.strategies import json_values

anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


def test_orjson_is_the_encoder_here() -> None:
    assert orjson is not None


@settings(max_examples=300, deadline=None)
@given(json_values(max_depth=5))
def test_profile_values_are_spelled_alike(value: object) -> None:
    assert dumps(value) == canonical_text(value)


@settings(max_examples=300, deadline=None)
@given(anything)
def test_any_text_and_integer_is_spelled_alike(value: object) -> None:
    """Non-NFC text, lone surrogates, integers past 64 bits, non-ASCII keys: orjson
    either spells them alike or refuses them and the canonical encoder spells them."""
    assert dumps(value) == canonical_text(value)


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1, "\ud800", {"é": 1, "e": 2}, "\x00\x7f"])
def test_edges_are_spelled_alike(value: object) -> None:
    assert dumps(value) == canonical_text(value)
