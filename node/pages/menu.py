# SPDX-License-Identifier: Apache-2.0
"""The main menu: each page an operator opens from the header, the right it needs and the
nodes that show it.

One list for the header's links (base.html) and for what ``renkou demo`` prints beside
each node (node/pages/demo_accounts.py), so the demo names every page a new user can
open, on every node, and no page the header does not offer.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.pages.accounts import Right, may
from protocol import Role as NodeRole

ALL_NODES = frozenset(NodeRole)


def _l(message: str) -> str:
    """Marks a label for the catalogue (``pybabel extract -k _l``); it is translated
    where it is shown, by the page's gettext or the terminal's."""
    return message


@dataclass(frozen=True, slots=True)
class MenuItem:
    """A page of the header: its view, its address (checked against the view's route by
    tests/node/pages/test_menu.py), its label's message id, and who sees it where."""

    endpoint: str
    path: str
    label: str
    right: Right | None = None
    nodes: frozenset[NodeRole] = ALL_NODES

    def shown(self, role: str, node: NodeRole) -> bool:
        """Does the header offer this page to an operator of ``role`` on a ``node``?"""
        return node in self.nodes and (self.right is None or may(role, self.right))


MENU: tuple[MenuItem, ...] = (
    MenuItem("home.home", "/home", _l("Home")),
    MenuItem("due.index", "/due", _l("What is due"), Right.DUE),
    MenuItem("people.search", "/people", _l("Find a person"), Right.READ_CARDS),
    MenuItem("records.choose", "/records/new", _l("Record"), Right.WRITE_RECORDS),
    MenuItem("imports.start", "/import", _l("Bulk entry"), Right.WRITE_RECORDS),
    MenuItem("registers.index", "/registers", _l("Registers"), Right.REGISTERS),
    # A township reviews its villages' changes (node/pages/review.py); a village has
    # no villages, and the county reviews through its merge.
    MenuItem(
        "review.index",
        "/review",
        _l("Villages' changes"),
        Right.REGISTERS,
        frozenset({NodeRole.TOWNSHIP}),
    ),
    MenuItem("sync_status.status", "/sync-status", _l("Sync status"), Right.SYNC_STATUS),
)


def menu_for(role: str, node: NodeRole) -> list[MenuItem]:
    """The header's pages for an operator of ``role`` on a ``node``, in order."""
    return [item for item in MENU if item.shown(role, node)]
