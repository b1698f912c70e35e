# SPDX-License-Identifier: Apache-2.0
"""The administrator's guides (deploy/ADMIN_GUIDE.*.md) describe commands that exist:
every `renkou …` line of their shell blocks names a real command, with options it has,
and the two languages walk through the same commands."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from deploy.cli import cli

DEPLOY = Path(__file__).parents[2] / "deploy"
GUIDES = ["ADMIN_GUIDE.en.md", "ADMIN_GUIDE.zh.md"]


def _commands(name: str) -> list[list[str]]:
    """The `renkou` command lines of the guide's ```sh blocks, as argument lists."""
    text = (DEPLOY / name).read_text(encoding="utf-8")
    out = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            words = shlex.split(line, comments=True)
            if "renkou" in words:
                out.append(words[words.index("renkou") + 1 :])
    return out


@pytest.mark.parametrize("name", GUIDES)
def test_every_command_of_the_guide_exists_with_its_options(name: str) -> None:
    commands = _commands(name)
    assert len(commands) >= 12
    for words in commands:
        command: click.Command = cli
        path = []
        while isinstance(command, click.Group) and words and not words[0].startswith("-"):
            sub = command.get_command(click.Context(command), words[0])  # county: lazy
            assert sub is not None, f"{name}: no command `renkou {' '.join(path + words[:1])}`"
            command, path, words = sub, [*path, words[0]], words[1:]
        known = {opt for p in command.params for opt in getattr(p, "opts", [])}
        for word in words:
            if word.startswith("--"):
                assert word in known, f"{name}: `renkou {' '.join(path)}` has no {word}"


def test_both_languages_walk_through_the_same_commands() -> None:
    en, zh = ([" ".join(w[:2]) for w in _commands(name)] for name in GUIDES)
    assert en == zh
