# SPDX-License-Identifier: Apache-2.0
"""Options the county's commands share, in one place: the main county CLI and the
floating-population exchange's commands both audit who reads people's data and why,
and the exchange group is loaded from the main CLI, so the option cannot live in either."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def reader_options(purpose: str) -> Callable[[F], F]:
    """``--actor`` and ``--purpose``: who reads people's data at the county, and why.

    What a command shows of people (ID numbers, names, field values) is audited in the
    county node's audit trail like a village's card reads (issue 13, fact 9)."""

    def decorate(func: F) -> F:
        func = click.option(
            "--purpose",
            default=purpose,
            show_default=True,
            help="Why the data is looked at (kept in the audit trail).",
        )(func)
        return click.option(
            "--actor",
            default=getpass.getuser,
            show_default="the login name",
            help="Who looks (kept in the audit trail).",
        )(func)

    return decorate
