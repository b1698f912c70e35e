# SPDX-License-Identifier: Apache-2.0
"""Sign-ins for the demo county (``make demo``): demo accounts on every node, and the
pages each of them opens there.

Every role on a village (the township's and the county's staff visit its PC); on a
township its reviewer, the county administrator and the auditor; on the county node the
county's three roles. For a new user clicking through the county in a minute, never for
a real node: the password is printed on the terminal. It is hashed once (Argon2id costs
a tenth of a second) and the same hash is given to every demo account.
"""

from __future__ import annotations

import functools

from node.pages.accounts import Role, hash_password
from node.pages.menu import MENU
from node.store.accounts import OperatorStore
from node.store.store import NodeStore
from protocol import Role as NodeRole

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


DEMO_ROLES: dict[NodeRole, tuple[Role, ...]] = {
    NodeRole.VILLAGE: tuple(DEMO_ACCOUNTS),
    NodeRole.TOWNSHIP: (Role.TOWNSHIP_REVIEWER, Role.COUNTY_ADMIN, Role.AUDITOR),
    NodeRole.COUNTY: (Role.COUNTY_STATISTICIAN, Role.COUNTY_ADMIN, Role.AUDITOR),
}
"""Who has a demo account on each kind of node."""


@functools.cache
def _demo_hash() -> str:
    return hash_password(DEMO_PASSWORD)


def add_demo_accounts(store: NodeStore, now_ms: int) -> None:
    """The demo accounts of ``store``'s kind of node (:data:`DEMO_ROLES`)."""
    accounts = OperatorStore(store.db)
    for role in DEMO_ROLES[store.node.role]:
        accounts.add(DEMO_ACCOUNTS[role], role.value, _demo_hash(), now_ms)


def sign_in_line(node: NodeRole = NodeRole.VILLAGE) -> str:
    """The accounts of a kind of node, as printed above its nodes' addresses."""
    return " · ".join(f"{DEMO_ACCOUNTS[role]} ({ROLE_ZH[role]})" for role in DEMO_ROLES[node])


def demo_pages(node: NodeRole) -> list[tuple[str, str, list[str]]]:
    """The pages of the header (node/pages/menu.py) a demo account opens on a kind of
    node: each page's label (a message id), its address and the accounts that open it."""
    pages = []
    for item in MENU:
        who = [DEMO_ACCOUNTS[r] for r in DEMO_ROLES[node] if item.shown(r.value, node)]
        if who:
            pages.append((item.label, item.path, who))
    return pages
