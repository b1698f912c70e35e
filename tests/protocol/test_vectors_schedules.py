# SPDX-License-Identifier: Apache-2.0
"""schedules.json holds (SPEC.md §8.6, §8.7, §13): the set digest, the bundle and the
state answer offering a set, byte for byte; every invalid bundle gives its code."""

from __future__ import annotations

from typing import Any

import pytest

from protocol.certs import decode_certificate
from protocol.errors import ProtocolError
from protocol.schedules import decode_schedule_bundle, schedule_set_digest
from protocol.signed import decode_signed
from protocol.sync_state import decode_state
from protocol.vectors import schedules
from tests.protocol.helpers import vectors

SCHEDULES = vectors("schedules.json")


def test_the_generator_still_writes_these_bytes() -> None:
    """§13: everything here is CLASSIC, so wholly deterministic."""
    fresh = schedules.schedule_vectors()
    assert {**fresh, "provenance": SCHEDULES["provenance"]} == SCHEDULES


def test_digest_bundle_and_state() -> None:
    """§8.6: the digest names the set whatever its order; the bundle carries it; a
    state answer offers it under ``schedules``; the schedules verify with the root."""
    raws = [bytes.fromhex(h) for h in SCHEDULES["schedules"]]
    root = decode_certificate(bytes.fromhex(SCHEDULES["root_certificate"]))
    for raw in raws:
        decode_signed(raw, expect_type="holiday_schedule").verify(root.verify_key)
    assert SCHEDULES["set_digest"] == schedule_set_digest(raws)
    assert SCHEDULES["set_digest"] == schedule_set_digest(raws[::-1])
    assert SCHEDULES["set_digest"] != schedule_set_digest(raws[:1])
    assert SCHEDULES["empty_set_digest"] == ""
    assert raws == decode_schedule_bundle(bytes.fromhex(SCHEDULES["bundle"]))
    assert [] == decode_schedule_bundle(bytes.fromhex(SCHEDULES["empty_bundle"]))
    state = decode_state(SCHEDULES["state_offering"].encode())
    assert SCHEDULES["set_digest"] == state.schedules


@pytest.mark.parametrize("case", SCHEDULES["invalid_bundles"], ids=lambda c: c["name"])
def test_invalid_bundle(case: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_schedule_bundle(bytes.fromhex(case["bytes"]))
    assert case["expect"] == str(info.value.code)


@pytest.mark.parametrize(
    "digest", ['""', '"ABCDEF0123456789abcdef0123456789"', "1", '"00"', "null"]
)
def test_a_state_offering_a_bad_digest_is_malformed(digest: str) -> None:
    """§8.6: ``schedules`` is present only with a digest of 32 lower-case hex digits."""
    good = SCHEDULES["state_offering"]
    bad = good.replace(f'"{SCHEDULES["set_digest"]}"', digest)
    assert bad != good and decode_state(good.encode()).schedules
    with pytest.raises(ProtocolError) as info:
        decode_state(bad.encode())
    assert "malformed" == str(info.value.code)
