# SPDX-License-Identifier: Apache-2.0
"""The package's public surface is exactly its sorted ``__all__`` (httpx style)."""

from __future__ import annotations

import node.deadlines


def test_all_is_sorted_and_importable():
    exported = node.deadlines.__all__
    assert sorted(exported, key=lambda n: (not n.isupper(), n)) == exported
    for name in exported:
        assert getattr(node.deadlines, name) is not None


def test_nothing_public_is_left_out():
    public = {
        name
        for name, value in vars(node.deadlines).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("node.")
    }
    assert public <= set(node.deadlines.__all__)
