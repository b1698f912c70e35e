# SPDX-License-Identifier: Apache-2.0
"""``renkou node user …``: the accounts that may sign in to this node's pages.

Accounts belong to one node and never leave it. A password is read from the terminal
(twice, hidden) or, for scripts, from standard input with ``--password-stdin``; it is
stored only as an Argon2id hash.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from node.cli_options import data_dir_option, reports_errors
from node.i18n import gettext as _

ROLES = (
    "village_officer",
    "township_reviewer",
    "county_statistician",
    "county_admin",
    "auditor",
)


@click.group()
def user() -> None:
    """Accounts for the node's pages: add, list, disable, reset."""


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt(_("Password"), hide_input=True, confirmation_prompt=True))


def _operators(data_dir: Path):
    from node.store.accounts import OperatorStore
    from node.store.store import NodeStore

    store = NodeStore.open(data_dir)
    return store, OperatorStore(store.db)


def _now() -> int:
    import time

    return time.time_ns() // 1_000_000


@user.command("add")
@click.option("--name", required=True, help="Account name (the officer's name or a login).")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the account may do.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@data_dir_option
@reports_errors
def add(name: str, role: str, password_stdin: bool, data_dir: Path) -> None:
    """Add an account that may sign in to this node's pages.

    Example:

    \b
        renkou node user add --name 王芳 --role village_officer
        echo 'a long password' | renkou node user add --name 李明 --role auditor --password-stdin
    """
    from node.pages.accounts import add_operator, check_name

    check_name(name)
    password = _password(password_stdin)
    store, ops = _operators(data_dir)
    try:
        add_operator(ops, name, role, password, _now())
    finally:
        store.close()
    click.echo(_("Account %(name)s added (%(role)s).", name=name, role=role))


@user.command("list")
@data_dir_option
@reports_errors
def list_users(data_dir: Path) -> None:
    """List the accounts, their roles and whether they are disabled or locked.

    Example:

    \b
        renkou node user list
    """
    store, ops = _operators(data_dir)
    try:
        accounts = ops.all()
    finally:
        store.close()
    from node.i18n.cli import table

    now = _now()
    rows: list[list[object]] = [[_("Account"), _("Role"), "", _("State")]]
    for a in accounts:
        state = (
            _("disabled") if a.disabled else _("locked") if a.locked_until > now else _("active")
        )
        rows.append([a.name, a.role, _role_name(a.role), state])
    for line in table(rows):
        click.echo(line)
    click.echo(_("%(count)s account(s)", count=len(accounts)))


@user.command("disable")
@click.option("--name", required=True)
@click.option("--enable", is_flag=True, help="Enable the account again instead.")
@data_dir_option
@reports_errors
def disable(name: str, enable: bool, data_dir: Path) -> None:
    """Disable an account (its sessions end at once), or enable it again.

    Example:

    \b
        renkou node user disable --name 王芳
    """
    store, ops = _operators(data_dir)
    try:
        found = ops.set_disabled(name, not enable)
    finally:
        store.close()
    _unknown_or(
        found,
        _("Account %(name)s enabled.", name=name)
        if enable
        else _("Account %(name)s disabled; its sessions have ended.", name=name),
    )


@user.command("reset")
@click.option("--name", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@data_dir_option
@reports_errors
def reset(name: str, password_stdin: bool, data_dir: Path) -> None:
    """Set a new password: unlocks the account and ends its sessions.

    Example:

    \b
        renkou node user reset --name 王芳
    """
    from node.pages.accounts import hash_password

    hashed = hash_password(_password(password_stdin))
    store, ops = _operators(data_dir)
    try:
        found = ops.set_password(name, hashed, _now())
    finally:
        store.close()
    _unknown_or(found, _("Password of %(name)s reset; the account is unlocked.", name=name))


def _role_name(role: str) -> str:
    names = {
        "village_officer": _("village officer"),
        "township_reviewer": _("township reviewer"),
        "county_statistician": _("county statistician"),
        "county_admin": _("county administrator"),
        "auditor": _("auditor"),
    }
    return names.get(role, role)


def _unknown_or(found: bool, done: str) -> None:
    if not found:
        click.echo(_("No such account."), err=True)
        raise SystemExit(1)
    click.echo(done)
