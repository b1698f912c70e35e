# SPDX-License-Identifier: Apache-2.0
"""The ``renkou`` command in the officer's language: help and output from the catalogue.

Chinese by default; English with ``--lang en`` or an English locale (``LANG=en_US.UTF-8``).
The help of every command and option is written in English in the code (the message id)
and shown through the same gettext catalogue as the pages, so a sentence exists once.
:class:`LocalizedGroup` picks the language before click parses anything (so ``--help``
of any subcommand comes out in it) and puts each help text of the tree through the
catalogue; :func:`help_messages` lists them for the catalogue and its test.

click's own words (Usage:, Options, Error: ..., Missing option ...) come from the same
catalogue (:func:`localize_click`, :data:`CLICK_MESSAGES`).

Tables printed to a terminal are padded by display width (:func:`table`), so a column
of Chinese names lines up under its heading (a CJK character takes two cells).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator, Sequence
from typing import Any

import click
from wcwidth import wcswidth

from node.i18n import cli_language, gettext, set_cli_locale, translations

LANGS = ("zh", "en")
_ORIGINAL = "_renkou_english"


def lang_option(func: Any) -> Any:
    """``--lang zh|en`` on the root command (read before parsing by LocalizedGroup)."""
    return click.option(
        "--lang",
        type=click.Choice(LANGS),
        default=None,
        expose_value=False,
        is_eager=True,
        help="Language of help and messages (default: Chinese; English with LANG=en_US.UTF-8).",
    )(func)


def _lang_from(argv: Sequence[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            return _locale(argv[i + 1])
        if arg.startswith("--lang="):
            return _locale(arg.split("=", 1)[1])
    return None


def _locale(lang: str) -> str | None:
    return {"en": "en", "zh": "zh_CN"}.get(lang)


class LocalizedGroup(click.Group):
    """The root group: choose the language, then show the whole tree in it.

    A subgroup may be named by where it lives (:meth:`add_lazy`) and imported only when
    a command line reaches it: ``renkou node status`` on a village PC need not load the
    county's reports and their spreadsheet writer (issue 13: cold start <= 1.5 s).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, str] = {}

    def add_lazy(self, name: str, target: str) -> None:
        """Register subcommand ``name`` as ``"package.module:attribute"``."""
        self.lazy[name] = target

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            self.load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def load(self, name: str) -> click.Command:
        """Import the lazy subcommand ``name``, join it to the tree in the language
        chosen for this run, and return it."""
        module, _, attribute = self.lazy[name].partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        localize(command)
        self.add_command(command, name)
        return command

    def load_all(self) -> None:
        """Every lazy subcommand imported (for whatever walks the whole tree)."""
        for name in self.lazy:
            if name not in self.commands:
                self.load(name)

    def main(self, args: Sequence[str] | None = None, *pos: Any, **kwargs: Any) -> Any:
        import sys

        argv = list(sys.argv[1:] if args is None else args)
        set_cli_locale(_lang_from(argv))
        localize_click()
        localize(self)
        return super().main(argv, *pos, **kwargs)


CLICK_MODULES = (
    "click.core",
    "click.decorators",
    "click.exceptions",
    "click.formatting",
    "click.parser",
    "click.termui",
    "click.types",
    "click.utils",
)

CLICK_MESSAGES = (
    "Usage:",
    "Options",
    "Commands",
    "Show this message and exit.",
    "Error: {message}",
    "Try '{command} {option}' for help.",
    "No such command {name!r}.",
    "No such option {name!r}.",
    "Missing command.",
    "Missing argument",
    "Missing option",
    "Missing parameter",
    "Missing {param_type}",
    "Missing parameter: {param_name}",
    "Invalid value for {param_hint}: {message}",
    "Invalid value: {message}",
    "Aborted!",
    "default: {default}",
    "env var: {var}",
    "required",
    "Repeat for confirmation",
    "Error: The two entered values do not match.",
    "{value!r} is not a valid {number_type}.",
    "{value} is not in the range {range}.",
    "{value!r} is not {choice}.",
    "{value!r} is not one of {choices}.",
    "{value!r} does not match the format {format}.",
    "{value!r} does not match the formats {formats}.",
    "Got unexpected extra argument ({args})",
    "Got unexpected extra arguments ({args})",
    "Option {name!r} requires an argument.",
    "Option {name!r} does not take a value.",
    "Did you mean {possibility}?",
    "(Did you mean one of: {possibilities}?)",
    "{name} {filename!r} does not exist.",
    "{name} {filename!r} is a directory.",
    "{name} {filename!r} is a file.",
    "Could not open file {filename!r}: {message}",
)
"""click's messages an officer meets (help headings, usage errors), translated in the
catalogue with click's own ``{placeholders}`` kept; tests/node/pages/test_catalogue.py
checks each is still one of click's."""


def _click_gettext(message: str) -> str:
    return translations(cli_language()).gettext(message)


def _click_ngettext(singular: str, plural: str, n: int) -> str:
    # Chinese has one form; each English form is its own message id.
    return _click_gettext(singular if n == 1 else plural)


def localize_click() -> None:
    """Give click's own words the catalogue's language.

    click reads them through ``gettext.gettext``/``ngettext`` bound into each of its
    modules at import (``from gettext import gettext as _``), with the domain and the
    process locale of the standard library, which knows nothing of ``--lang`` or of our
    catalogue; so those two names of each module are pointed at ours. A message our
    catalogue lacks comes out in English, as before.
    """
    for name in CLICK_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "_"):
            module._ = _click_gettext  # type: ignore[attr-defined]  # click's gettext alias
        if hasattr(module, "ngettext"):
            module.ngettext = _click_ngettext  # type: ignore[attr-defined]  # click's alias


def _commands(group: click.Command) -> Iterator[click.Command]:
    yield group
    if isinstance(group, click.Group):
        for sub in group.commands.values():
            yield from _commands(sub)


def localize(root: click.Command) -> None:
    """Put every help text under ``root`` through the catalogue (the English kept aside,
    so the language can change between two runs in one process, as in tests)."""
    for command in _commands(root):
        english = getattr(command, _ORIGINAL, None)
        if english is None:
            english = (
                _clean(command.help),
                _clean(command.short_help),
                [_clean(_help(p)) for p in command.params],
            )
            setattr(command, _ORIGINAL, english)
        help_text, short, params = english
        command.help = gettext(help_text) if help_text else help_text
        command.short_help = gettext(short) if short else short
        for param, text in zip(command.params, params, strict=True):
            if text and isinstance(param, click.Option):
                param.help = gettext(text)


def _help(param: click.Parameter) -> str | None:
    return param.help if isinstance(param, click.Option) else None


def _clean(text: str | None) -> str | None:
    """A docstring without its indentation: the message id, as translators see it."""
    return inspect.cleandoc(text) if text else text


def help_messages(root: click.Command, skip: frozenset[str] = frozenset()) -> set[str]:
    """Every help text of the tree (groups named in ``skip`` left out), in English."""
    if isinstance(root, LocalizedGroup):
        root.load_all()
    found: set[str] = set()

    def walk(command: click.Command) -> None:
        english = getattr(command, _ORIGINAL, None)
        texts = (
            [english[0], english[1], *english[2]]
            if english
            else [_clean(command.help), _clean(command.short_help)]
            + [_clean(_help(p)) for p in command.params]
        )
        found.update(t for t in texts if t)
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                if name not in skip:
                    walk(sub)

    walk(root)
    return found


def table(rows: Sequence[Sequence[object]], gap: int = 2) -> list[str]:
    """Rows as lines whose columns line up on a terminal, Chinese included."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [
        max((wcswidth(r[i]) for r in cells if i < len(r)), default=0)
        for i in range(max(map(len, cells), default=0))
    ]
    out = []
    for row in cells:
        padded = [c + " " * (widths[i] - wcswidth(c)) for i, c in enumerate(row[:-1])]
        out.append((" " * gap).join([*padded, row[-1]] if row else []).rstrip())
    return out
