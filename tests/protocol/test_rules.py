# SPDX-License-Identifier: Apache-2.0
"""Quarantine rules and the errors they raise (protocol/rules.py, SPEC.md §7, §11)."""

from __future__ import annotations

import dataclasses

import pytest

from protocol.clock import HybridClock
from protocol.errors import ErrorCode, ForkError, QuarantineError, UnsupportedError
from protocol.rules import check_clock, check_rulesets
from protocol.testing import NOW
from tests.protocol.helpers import DAY_MS, SealedBatch


def test_error_docs_and_quarantine_code(sealed_batch: SealedBatch) -> None:
    """UnsupportedError documents versions, suites and op types;
    ForkError points to protocol.frontier.ForkProof; QuarantineError defaults to the
    neutral "quarantined" and the raisers name clock_drift / unknown_ruleset."""
    assert "op type" in (UnsupportedError.__doc__ or "")
    assert "protocol.frontier.ForkProof" in (ForkError.__doc__ or "")
    assert ErrorCode.QUARANTINED == QuarantineError("x").code == "quarantined"
    future = dataclasses.replace(sealed_batch.header, hlc_max=(NOW + 2 * DAY_MS) << 16)
    with pytest.raises(QuarantineError) as exc:
        check_clock(future, NOW)
    assert ErrorCode.CLOCK_DRIFT == exc.value.code
    with pytest.raises(QuarantineError) as exc:
        check_rulesets(sealed_batch.entries, {2})
    assert ErrorCode.UNKNOWN_RULESET == exc.value.code
    with pytest.raises(QuarantineError) as exc:
        HybridClock(lambda: NOW).observe((NOW + 2 * DAY_MS) << 16)
    assert ErrorCode.CLOCK_DRIFT == exc.value.code
