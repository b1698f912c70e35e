# SPDX-License-Identifier: Apache-2.0
"""Operator accounts: roles and what each may do, passwords, lockout, sign-in.

Used by the pages (sign-in) and by ``renkou node user …``, so both apply one policy.
Passwords are hashed with Argon2id (OWASP's minimum parameters, see ``_hasher``); an
account locks for ``LOCK_MINUTES`` after ``LOCK_AFTER`` wrong
passwords in a row, and a sign-in attempt for an unknown name costs the same hash as
one for a known name, so neither the timing nor the answer tells which names exist.

Least access (PIPL, domain.md section 5): only the roles that keep or review cards may
open one; the county's statistician, administrator and the auditor work with figures,
sync state and the audit trail, never with a person's card.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from node.errors import FieldProblem, NodeError, ValidationError
from node.store.accounts import Operator, OperatorStore

LOCK_AFTER = 5
LOCK_MINUTES = 15
MIN_PASSWORD = 8
MAX_PASSWORD = 256
MAX_NAME = 40

# Argon2id with OWASP's minimum parameters (19 MiB, 2 passes, 1 lane): argon2-cffi's
# default (64 MiB, 4 lanes) lifted a village node's peak memory past its 120 MB budget
# at every sign-in. Each hash names its parameters, so older hashes still verify.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the name is unknown (made once, when first needed)."""
    return _hasher.hash("renkou: a password no account has")


class Role(StrEnum):
    VILLAGE_OFFICER = "village_officer"
    TOWNSHIP_REVIEWER = "township_reviewer"
    COUNTY_STATISTICIAN = "county_statistician"
    COUNTY_ADMIN = "county_admin"
    AUDITOR = "auditor"


class Right(StrEnum):
    """What a page may let a role do; each view names the right it needs."""

    READ_CARDS = "read_cards"  # search people, open a card
    WRITE_RECORDS = "write_records"  # record, correct, close, households, import
    DUE = "due"  # see what is due
    CLOSE_ITEMS = "close_items"  # record that a due item was done
    REGISTERS = "registers"  # registers and the monthly change report (personal data)
    SYNC_STATUS = "sync_status"
    SYNC_RUN = "sync_run"
    AUDIT = "audit"  # read the audit trail


RIGHTS: dict[Role, frozenset[Right]] = {
    Role.VILLAGE_OFFICER: frozenset(Right),
    Role.TOWNSHIP_REVIEWER: frozenset(
        {Right.READ_CARDS, Right.DUE, Right.REGISTERS, Right.SYNC_STATUS}
    ),
    Role.COUNTY_STATISTICIAN: frozenset({Right.SYNC_STATUS}),
    Role.COUNTY_ADMIN: frozenset({Right.SYNC_STATUS, Right.SYNC_RUN, Right.AUDIT}),
    Role.AUDITOR: frozenset({Right.AUDIT, Right.SYNC_STATUS}),
}


def may(role: str, right: Right) -> bool:
    """True if ``role`` has ``right`` (an unknown role has none)."""
    try:
        return right in RIGHTS[Role(role)]
    except ValueError:
        return False


class SignInRefused(NodeError):
    """Wrong name or password, a locked or a disabled account: one answer for all but
    the lockout, which the officer must know about to wait or ask for a reset."""

    status = 401


@dataclass(frozen=True, slots=True)
class SignedIn:
    name: str
    role: str


def check_name(name: str) -> str:
    """An account name: 1-40 printable characters, NFC, no spaces at either end.

    Raises:
        ValidationError: empty, too long or with control characters.
    """
    clean = unicodedata.normalize("NFC", name.strip()) if isinstance(name, str) else ""
    if not clean or len(clean) > MAX_NAME or any(not c.isprintable() for c in clean):
        raise ValidationError(
            [
                FieldProblem(
                    "name",
                    "account.name",
                    f"账号名称应为1到{MAX_NAME}个可打印字符",
                    f"An account name has 1 to {MAX_NAME} printable characters.",
                )
            ]
        )
    return clean


def check_password(password: str) -> str:
    """Raises ValidationError unless ``password`` has MIN_PASSWORD..MAX_PASSWORD characters."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValidationError(
            [
                FieldProblem(
                    "password",
                    "account.password_length",
                    f"密码至少{MIN_PASSWORD}个字符",
                    f"A password has at least {MIN_PASSWORD} characters.",
                )
            ]
        )
    return password


def check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise ValidationError(
            [
                FieldProblem(
                    "role",
                    "account.role",
                    f"角色应为以下之一：{roles}",
                    f"The role must be one of: {roles}.",
                )
            ]
        ) from None


def hash_password(password: str) -> str:
    return _hasher.hash(check_password(password))


def add_operator(store: OperatorStore, name: str, role: str, password: str, now_ms: int) -> None:
    """Create an account.

    Raises:
        ValidationError: a bad name, role or password, or the name is taken.
    """
    name, checked = check_name(name), check_role(role)
    if not store.add(name, checked.value, hash_password(password), now_ms):
        raise ValidationError(
            [FieldProblem("name", "account.exists", "该账号已存在", "That account exists already.")]
        )


def sign_in(store: OperatorStore, name: str, password: str, now_ms: int) -> SignedIn:
    """Check a name and password; count failures and lock after LOCK_AFTER of them.

    Raises:
        SignInRefused: ``locked`` while the account is locked (even with the right
            password), else ``bad_credentials`` for a wrong name, a wrong password or a
            disabled account.
    """
    found = store.get(name) if isinstance(name, str) and len(name) <= MAX_NAME else None
    if found is not None and found.locked_until > now_ms:
        _hasher.hash("spend the same time as a check")  # no timing hint either
        minutes = -(-(found.locked_until - now_ms) // 60_000)
        raise SignInRefused(
            f"密码连续输错{LOCK_AFTER}次，账号已锁定，请{minutes}分钟后再试或请管理员重置密码",
            f"too many wrong passwords; the account is locked for {minutes} more minute(s)",
            code="locked",
        )
    if not _verify(found, password):
        if found is not None:
            store.record_failure(found.name, LOCK_AFTER, now_ms + LOCK_MINUTES * 60_000)
        raise SignInRefused(
            "账号或密码不正确", "wrong account name or password", code="bad_credentials"
        )
    assert found is not None
    store.record_success(found.name)
    return SignedIn(found.name, found.role)


def _verify(found: Operator | None, password: str) -> bool:
    if not isinstance(password, str) or len(password) > MAX_PASSWORD:
        return False
    try:
        _hasher.verify(found.password_hash if found else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return found is not None and not found.disabled
