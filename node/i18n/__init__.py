# SPDX-License-Identifier: Apache-2.0
"""The gettext catalogues every sentence a person reads comes from (pages and CLI).

Message ids are English; ``zh/LC_MESSAGES/messages.po`` holds the Simplified Chinese,
the default language of every officer-facing text. The compiled ``messages.mo`` is
committed beside it (tests/node/pages/test_catalogue.py checks it matches the .po and
that every message of the code and templates is translated), so a clean clone runs
without a build step. To add or change a message::

    pybabel extract -F node/i18n/babel.cfg -k _l --no-location -o /tmp/messages.pot node
    pybabel update -i /tmp/messages.pot -d node/i18n --no-fuzzy-matching
    (translate the new entries in zh/LC_MESSAGES/messages.po)
    pybabel compile -d node/i18n
"""

from __future__ import annotations

import functools
import gettext as _gettext
import os
from pathlib import Path

LOCALE_DIR = Path(__file__).parent
DEFAULT_LOCALE = "zh_CN"
LOCALES = ("zh_CN", "en")


@functools.cache
def translations(locale: str = DEFAULT_LOCALE) -> _gettext.NullTranslations:
    """The catalogue of ``locale`` (English is the message ids themselves).

    The standard library reads the compiled .mo (``zh_CN`` falls back to ``zh/``), not
    babel.support, whose import (dates, time zones) would cost every command's start;
    the pages read the same file through Flask-Babel.
    """
    if locale == "en":
        return _gettext.NullTranslations()
    return _gettext.translation("messages", str(LOCALE_DIR), languages=[locale])


def cli_locale(environ: dict[str, str] | None = None) -> str:
    """The terminal's language: English when LANGUAGE, LC_ALL, LC_MESSAGES or LANG says
    English (``LANG=en_US.UTF-8``), Chinese otherwise (a Chinese Windows PC sets none)."""
    env = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value and value not in ("C", "POSIX", "C.UTF-8"):
            return "en" if value.lower().startswith("en") else DEFAULT_LOCALE
    return DEFAULT_LOCALE


_cli_locale: list[str] = []


def set_cli_locale(locale: str | None) -> None:
    """Fix the CLI's language for this process (``--lang``); None: from the environment."""
    _cli_locale[:] = [locale] if locale else []


def cli_language() -> str:
    """The CLI's language now: ``--lang`` when given, else the terminal's."""
    return _cli_locale[0] if _cli_locale else cli_locale()


def gettext(message: str, **params: object) -> str:
    """``message`` in the CLI's language, with ``%(name)s`` parameters filled in."""
    text = translations(cli_language()).gettext(message)
    return text % params if params else text
