# SPDX-License-Identifier: Apache-2.0
"""Characters that must never enter a record, and escaping text for a terminal.

A name with a zero-width space in it looks like another name and is not equal to it (one
woman becomes two in every lookup); a right-to-left override turns "张三 2026" into a
different-looking line on paper; an ANSI escape or a newline written raw to a terminal
can rewrite what an officer sees. So text fields refuse, with a field message:

* C0 and C1 control characters (NUL, ESC, CR, DEL, U+0080-U+009F ...), except the line
  feed in the few long free-text fields that are written as paragraphs;
* format characters (Unicode category Cf: zero-width spaces and joiners, the byte-order
  mark, bidi embeddings, overrides and isolates, soft hyphen);
* line and paragraph separators (U+2028, U+2029) and lone surrogates.

Private-use and not-yet-assigned code points stay allowed: rare characters in names
(生僻字) are still typed through private-use fonts or newer Unicode blocks on some PCs.

:func:`terminal_safe` is the other side: anything printed to a terminal goes through it,
so a stored value that predates these checks (or came from another node) cannot drive
the terminal either.
"""

from __future__ import annotations

import unicodedata

from node.domain.messages import problem
from node.errors import ValidationError

_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
NODE_NAME_LENGTH = 40
_LINE_FEED = "\n"


def is_refused(ch: str, *, multiline: bool = False) -> bool:
    """Whether ``ch`` may not appear in a text field (a line feed only where multiline)."""
    if ch == _LINE_FEED:
        return not multiline
    return unicodedata.category(ch) in _REFUSED_CATEGORIES


def first_refused(text: str, *, multiline: bool = False) -> int | None:
    """The 1-based position of the first refused character of ``text``, or None.

    A position, never the character itself: the message may be logged, and an escape
    echoed into a log would do there what it was refused for here.
    """
    for i, ch in enumerate(text, start=1):
        if is_refused(ch, multiline=multiline):
            return i
    return None


def check_node_name(name: object, *, field: str = "name") -> None:
    """A node's name is printed in every register's title: text like any field's.

    Raises:
        ValidationError: blank, longer than 40 characters, or holding a refused character.
    """
    text = name.strip() if isinstance(name, str) else ""
    position = first_refused(text)
    if not text:
        raise ValidationError([problem(field, "text_empty")])
    if position is not None:
        raise ValidationError([problem(field, "text_control_char", position=position)])
    if len(text) > NODE_NAME_LENGTH:
        raise ValidationError([problem(field, "text_too_long", max=NODE_NAME_LENGTH)])


def normalise_newlines(text: str) -> str:
    """CR LF and lone CR as typed on Windows become LF before the characters are checked."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def terminal_safe(value: object) -> str:
    """``value`` as text with every control, format and separator character escaped.

    ``\\n`` stays visible as the two characters backslash and n, so one record is one
    line on the terminal whatever it holds.
    """
    text = str(value)
    if not any(is_refused(ch) for ch in text):
        return text
    return "".join(_escape(ch) if is_refused(ch) else ch for ch in text)


def escape_refused(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with refused characters escaped, line feeds kept (for export cells).

    A spreadsheet cell may hold paragraphs, but never a control character: openpyxl
    refuses to write one at all, and a terminal that ``cat``s a CSV would obey it.
    """
    if not any(is_refused(ch, multiline=keep_newlines) for ch in text):
        return text
    return "".join(_escape(ch) if is_refused(ch, multiline=keep_newlines) else ch for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
