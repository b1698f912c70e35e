# SPDX-License-Identifier: Apache-2.0
"""Options and error reporting shared by the ``renkou`` subcommands.

Used by the node's groups (node/cli) and the county's (county_aggregator/cli.py); it
imports neither, so either can use it without the other.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from node.errors import NodeError, ValidationError, protocol_message
from protocol import ProtocolError

F = TypeVar("F", bound=Callable[..., Any])

DAY = click.DateTime(["%Y-%m-%d", "%Y年%m月%d日"])
"""A date option: ISO (2026-03-05) or the Chinese written form (2026年3月5日)."""


def data_dir_option(func: F) -> F:
    """``--data-dir``: from the option, else RENKOU_DATA_DIR, else ./data."""
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="RENKOU_DATA_DIR",
        default=Path("data"),
        show_default=True,
        show_envvar=True,
        help="Directory holding the node's database and keys.",
    )(func)


def reports_errors(func: F) -> F:
    """Turn NodeError into a bilingual message on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ValidationError as exc:
            click.echo(f"错误 / error [{exc.code}]:", err=True)
            for p in exc.problems:
                click.echo(f"  {p.field}: {p.zh} / {p.en} [{p.code}]", err=True)
            raise SystemExit(1) from None
        except NodeError as exc:
            click.echo(f"错误 / error [{exc.code}]: {exc.zh} / {exc.en}", err=True)
            raise SystemExit(1) from None
        except ProtocolError as exc:
            zh, en = protocol_message(exc)
            click.echo(f"错误 / error [{exc.code}]: {zh} / {en}", err=True)
            raise SystemExit(1) from None

    return cast(F, wrapper)
