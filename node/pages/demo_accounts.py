# SPDX-License-Identifier: Apache-2.0
"""Sign-ins for the demo county (``make demo``): one account per role on every village.

For a new user clicking through a village in a minute, never for a real node: the
password is printed on the terminal. It is hashed once (Argon2id costs a tenth of a
second) and the same hash is given to every demo account.
"""

from __future__ import annotations

import functools

from node.pages.accounts import Role, hash_password
from node.store.accounts import OperatorStore
from node.store.store import NodeStore

DEMO_PASSWORD = "renkou-demo"
DEMO_ACCOUNTS: dict[Role, str] = {
    Role.VILLAGE_OFFICER: "officer",
    Role.TOWNSHIP_REVIEWER: "reviewer",
    Role.COUNTY_STATISTICIAN: "statistician",
    Role.COUNTY_ADMIN: "admin",
    Role.AUDITOR: "auditor",
}
ROLE_ZH = {
    Role.VILLAGE_OFFICER: "村计生专干",
    Role.TOWNSHIP_REVIEWER: "乡镇审核员",
    Role.COUNTY_STATISTICIAN: "县统计员",
    Role.COUNTY_ADMIN: "县管理员",
    Role.AUDITOR: "审计员",
}


@functools.cache
def _demo_hash() -> str:
    return hash_password(DEMO_PASSWORD)


def add_demo_accounts(store: NodeStore, now_ms: int) -> None:
    accounts = OperatorStore(store.db)
    for role, name in DEMO_ACCOUNTS.items():
        accounts.add(name, role.value, _demo_hash(), now_ms)


def sign_in_line() -> str:
    """The accounts, as printed beside each village's address."""
    return " · ".join(f"{name} ({ROLE_ZH[role]})" for role, name in DEMO_ACCOUNTS.items())
