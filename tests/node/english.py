# SPDX-License-Identifier: Apache-2.0
"""Finding English sentences left in what a command prints in Chinese (issue 15 item 10).

Codes, node names, logs, paths, addresses and field names are printed as they are; each
is one token with a digit, a colon, a dot, a slash or an underscore in it, or a single
word between Chinese ones. A run of three or more plain English words in a row is a
sentence (or the remains of one) that did not go through the catalogue.
"""

from __future__ import annotations

import re

_CHINESE = re.compile(r"[\u3000-\u303f\uff00-\uffef\u4e00-\u9fff]+")
_WORD = re.compile(r"[(\"'`]?[A-Za-z]+[)\"'`]?[,.;:!?]?")


def english_runs(text: str, at_least: int = 3) -> list[str]:
    """Each run of ``at_least`` or more plain English words in ``text``, line by line
    (Chinese between two words ends a run, as does any token that is not a word)."""
    found = []
    for line in text.splitlines():
        run: list[str] = []
        for token in [*_CHINESE.sub(" 中 ", line).split(), "中"]:
            if _WORD.fullmatch(token):
                run.append(token)
                continue
            if len(run) >= at_least:
                found.append(" ".join(run))
            run = []
    return found
