# SPDX-License-Identifier: Apache-2.0
"""The package's public surface is exactly its sorted ``__all__`` (httpx style)."""

from __future__ import annotations

import node.registers
from node.domain import records
from node.registers.labels import SEALED_FIELDS


def test_all_is_sorted_and_importable() -> None:
    exported = node.registers.__all__
    assert sorted(exported, key=lambda n: (not n.isupper(), n)) == exported
    for name in exported:
        assert getattr(node.registers, name) is not None


def test_nothing_public_is_left_out() -> None:
    public = {
        name
        for name, value in vars(node.registers).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("node.")
    }
    assert public <= set(node.registers.__all__)


def test_sealed_fields_agree_with_the_domain_module() -> None:
    """A field sealed by the record layer must be sealed on paper too (篇4 第18条)."""
    domain = {kind: frozenset(names) for kind, names in records.SEALED_FIELDS.items()}
    assert domain == SEALED_FIELDS
