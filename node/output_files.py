# SPDX-License-Identifier: Apache-2.0
"""Files the ``renkou`` commands write for a person: registers, reports, templates.

A register holds people's cards, so the file is the user's alone (0600), however the
PC's umask is set. ``--out`` used to overwrite whatever it named (issue 13, fact 10),
the node's own node.db or keys/node.key included: now an existing file is replaced
only with ``--force``, and never a file inside the node's data directory (the database,
its journal, the keys), with or without it.

The file is written whole or not at all: to a new private file beside the target,
synced, then renamed over it. A new target is created with O_EXCL, so a file (or a
symbolic link) that appears in the meantime is not written through.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

from node.errors import FieldProblem, ValidationError

F = TypeVar("F", bound=Callable[..., Any])
PRIVATE = 0o600


def force_option(func: F) -> F:
    """``--force``: replace an existing output file (never one in the data dir)."""
    return click.option(
        "--force",
        is_flag=True,
        help="Replace the output file if it exists (never a file of the node's data).",
    )(func)


def _refuse(code: str, zh: str, en: str) -> ValidationError:
    return ValidationError([FieldProblem("out", code, zh, en)])


def _exists(target: Path) -> ValidationError:
    return _refuse(
        "out_exists",
        f"输出文件 {target} 已存在；如要替换，请加 --force",
        f"{target} exists; add --force to replace it",
    )


def _guards(where: Path, guarded: Path) -> bool:
    """Does ``guarded`` (a directory, or a database file with its journals) hold ``where``?"""
    held = guarded.expanduser().resolve()
    if held.is_dir():
        return where == held or held in where.parents
    journals = {held.name + suffix for suffix in ("", "-wal", "-shm", "-journal")}
    return where.parent == held.parent and where.name in journals


def check_target(target: Path, *, force: bool, protected: Iterable[Path] = ()) -> Path:
    """The resolved path of ``target`` if it may be written.

    ``protected``: directories (the data dir: nothing inside may be written) and files
    (the merged database, with its journals) the output must never replace.

    Raises:
        ValidationError: inside a protected directory or a protected file
            (``out_protected``), a directory (``out_is_directory``), or an existing
            file without ``force`` (``out_exists``).
    """
    where = target.expanduser().resolve()
    if any(_guards(where, guarded) for guarded in protected):
        raise _refuse(
            "out_protected",
            f"输出文件 {target} 位于本节点的数据目录或数据库中，不能写入；请另选位置",
            f"{target} is inside the node's data (its directory or database); "
            "choose another place for the output file",
        )
    if where.is_dir():
        raise _refuse(
            "out_is_directory", f"{target} 是一个目录，请给出文件名", f"{target} is a directory"
        )
    if where.exists() and not force:
        raise _exists(target)
    return where


def write_output(target: Path, data: bytes, *, force: bool, protected: Iterable[Path] = ()) -> Path:
    """Write ``data`` to ``target``, private to the user (0600), whole or not at all.

    A new file is created with O_EXCL (a file or link that appears after the check is
    not written through); ``force`` writes a private file beside it and renames it over
    the old one, so a failed write leaves the old file as it was.

    Raises:
        ValidationError: as :func:`check_target`.
    """
    where = check_target(target, force=force, protected=protected)
    written = where.with_name(f".{where.name}.{os.getpid()}.part") if force else where
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(written, flags, PRIVATE)
    except FileExistsError:
        raise _exists(target) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if force:
            os.replace(written, where)
    except BaseException:
        written.unlink(missing_ok=True)
        raise
    return where
