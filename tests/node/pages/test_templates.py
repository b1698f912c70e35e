# SPDX-License-Identifier: Apache-2.0
"""The pages keep to their Content-Security-Policy and to what an old browser runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import node.pages

PAGES = Path(node.pages.__file__).parent
TEMPLATES = sorted((PAGES / "templates").glob("*.html"))
SCRIPTS = sorted((PAGES / "static").glob("*.js"))


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_no_inline_style_script_or_remote_asset(path: Path) -> None:
    """CSP allows 'self' only: an inline style or script would silently not apply, and a
    village is offline, so nothing may come from another host."""
    text = path.read_text(encoding="utf-8")
    assert 'style="' not in text
    assert not re.search(r"<script(?![^>]*\bsrc=)", text)
    assert not re.search(r"\bon[a-z]+=", text)  # no inline event handlers
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", text)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_scripts_are_es5_for_an_old_firefox(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for modern in ("=>", "const ", "let ", "async ", "await ", "?.", "??", "`"):
        assert modern not in text, f"{path.name} uses {modern!r}"
