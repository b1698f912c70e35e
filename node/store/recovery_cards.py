# SPDX-License-Identifier: Apache-2.0
"""The current cards of a node, made from its logs as this node received them.

At the county node, which opens every batch of its villages and keeps their entries
(``received_entries``, node/store/holdings.py), a village's cards are what the
village's own store makes of the same entries: the same function (node/store/apply.py)
applied to the same entries in the same order, epoch by epoch. So a recovered PC holds
exactly the cards its lost predecessor held, as far as the county got them, and the
lost period of a restored PC comes back (SPEC.md §8.10). Every version is written as
the entry that made it (``"<log>/<seq>"``, a base of another log, §10.3): the PC
writes on in a new epoch.
"""

from __future__ import annotations

import json

from sqlite_utils import Database

from node.store.apply import apply_entry
from node.store.holdings import Holdings
from node.store.schema import migrations
from protocol import Head, LogId, NodeId, Suite
from protocol.entries import rebuilt_entry
from protocol.recovery import Card

PAGE = 5000
ZERO = bytes(32)


def held_heads(db: Database, node: NodeId) -> dict[LogId, Head]:
    """Each log of ``node`` this database holds, at its head."""
    return {log: head for log, head in Holdings(db).frontier().items() if log.node == node}


def node_cards(db: Database, node: NodeId, heads: dict[LogId, Head], suite: Suite) -> list[Card]:
    """The cards the entries of ``heads`` (through each head) make, in key order."""
    holdings = Holdings(db)
    scratch = Database(memory=True)
    migrations.apply(scratch)
    with scratch.atomic():
        for log in sorted(heads, key=lambda lg: lg.epoch):
            _replay(holdings, scratch, log, heads[log].seq, suite)
            _name_versions(scratch, str(log))
    rows = scratch.execute(
        "SELECT kind, id, data, versions, retired, created_seq, updated_seq, updated_hlc"
        " FROM records ORDER BY kind, id"
    ).fetchall()
    scratch.close()
    return [
        Card(kind, rid, json.loads(data), json.loads(versions), retired, created, updated, hlc)
        for kind, rid, data, versions, retired, created, updated, hlc in rows
    ]


def _replay(holdings: Holdings, scratch: Database, log: LogId, last: int, suite: Suite) -> None:
    after = 0
    while after < last:
        rows = holdings.received_rows(str(log), after, PAGE)
        if not rows:
            return
        for _log, seq, hlc, ruleset, flags, payload, digest in rows:
            if seq > last:
                return
            if payload is not None:
                entry = rebuilt_entry(suite, log, seq, ZERO, hlc, ruleset, digest,
                                      len(payload), bytes(payload), flags)  # fmt: skip
                apply_entry(scratch, entry)
            after = seq


def _name_versions(scratch: Database, log: str) -> None:
    """Versions still counted in seqs were written by ``log``: name it."""
    changed = []
    for kind, rid, versions in scratch.execute("SELECT kind, id, versions FROM records"):
        held = json.loads(versions)
        named = {k: f"{log}/{v}" if type(v) is int else v for k, v in held.items()}
        if named != held:
            changed.append((json.dumps(named, ensure_ascii=False, sort_keys=True,
                                       separators=(",", ":")), kind, rid))  # fmt: skip
    scratch.conn.executemany("UPDATE records SET versions = ? WHERE kind = ? AND id = ?", changed)
