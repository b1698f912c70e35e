# SPDX-License-Identifier: Apache-2.0
"""A village PC's database copied back by hand from an older copy, and the officer.

Not `renkou node restore`: someone copies an older node.db over the PC's (a USB stick,
a disk image), and the node does not know. It writes on in the log the lost copy had
already continued: the township holds that log further, so what the copy writes forks
it (or is behind it), and sync refuses with ``fork`` or ``behind_parent``, telling the
officer to run ``renkou node new-epoch``. The simulated officer reads the status after
every round and does so (node/store/carry.py, as node/cli/backups.py runs it); the
entries the copy wrote past the last one the parent acknowledged are written again in
the new epoch, with new record ids.

Invariant H1 (tests/sim/invariants.py) then holds the product to it: every entry the
copy wrote after the copy is at the county in its log, or was written again by the
officer's new-epoch, and no merged record holds entries of two people (P1). Without
the refusal the officer never learns of the fork and H1 names the lost entries
(tests/sim/test_invariants_fire.py).

A restore after such a copy can open an epoch number again that a lost copy had
already written (nothing left on the PC knew of it: seed 1669); sync refuses it the
same way, so the officer follows it as a hand copy (:func:`restore_reopened`).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from node.store.acks import PeerAcks
from node.store.apply import log_heads
from node.store.carry import start_epoch_carrying
from node.store.database import DB_NAME
from node.store.holdings import Holdings
from node.store.restores import Restores
from node.sync import returned
from node.sync.epochs import known_epoch
from protocol import Retire, Upsert, decode_envelope, decode_payload, open_envelope

if TYPE_CHECKING:
    from tests.sim.world import SimNode, World

REFUSALS = ("fork", "behind_parent")
"""Refusals whose status line tells the officer to run ``renkou node new-epoch``."""


def copy_back(world: World, node: SimNode) -> None:
    """Put an older backup of ``node``'s database in place, as a person would by hand."""
    if node.busy or node.store is None:
        return
    at, src = world.rng.choice(world.backups[node.code])
    store = node.store
    node.forget_store(world.moment())
    store.close()
    node.store = None
    for name in (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm"):
        (node.data_dir / name).unlink(missing_ok=True)
    shutil.copyfile(src / DB_NAME, node.data_dir / DB_NAME)
    world._start(node)
    assert node.store is not None
    world.ledger.restored(node.store)
    log, head = str(node.store.changelog.log), node.store.changelog.head_seq
    before = {(seq, w.hash) for seq, held in world.ledger.logs.get(log, {}).items() for w in held}
    world.copied[node.code] = (log, head, before)
    world.restores.append(node.code)
    world.copies.append((node.code, log, head, before, len(world.restores)))
    forget_relay_acks(world, node, src)
    world.records[node.code] = [
        (rid, str(data.get("id_number")))
        for rid, data in node.store.records("person")
        if data.get("id_number")
    ]
    world.events["copy_back"] += 1
    from tests.sim.world import START_MS  # world.py imports this module

    world.note(f"copy back {node.code} by hand from its copy of t+{(at - START_MS) // 1000}s")


def forget_relay_acks(world: World, node: SimNode, src: Path) -> None:
    """The township's acknowledgements as the copy put back from backup ``src`` knows
    them (A1 judges the store): those the thrown-away store received went with it, and
    those the backup held come back, received when the sim saw them before the backup
    was taken. Not a filter of the marks the sim holds now: an earlier put-back of an
    older copy emptied them, and a later put-back of a copy that holds the ack must bring
    its date back (seed 2516: the alert of a copy put back four days after its ack is
    right). Of every log of the node, not only the current one: a restore may open an
    epoch number again that the lost store had written and the township had
    acknowledged (seed 1669)."""
    assert node.store is not None
    saved = world.backup_marks.get(src, {})
    for log in {log for code, log in world.relay_acked if code == node.code} | set(saved):
        kept = node.store.db.execute(
            "SELECT MAX(seq) FROM peer_acks WHERE log = ? AND peer NOT LIKE 'county:%'", [log]
        ).fetchone()[0]
        world.relay_acked[(node.code, log)] = [m for m in saved.get(log, []) if m[0] <= (kept or 0)]


def restore_reopened(world: World, node: SimNode, logs_before: set[str]) -> None:
    """After ``renkou node restore`` of ``node``: if the epoch it opened is one a lost
    copy of this PC had already opened and written, the restore could not know it (the
    PC's database had been copied back by hand from before that epoch, and had not
    synced since: node/store/backup.py _epoch_of finds it neither in the replaced
    database nor in what the parent last reported). The township holds the other history
    of that log, so sync refuses (``behind_parent`` or ``fork``) and tells the officer
    to run ``renkou node new-epoch``, as after a hand copy: the officer reads the status
    from now on, and H1 judges what this PC writes in the reopened log."""
    store = node.store
    assert store is not None
    log = str(store.changelog.log)
    if log not in logs_before:
        return
    before = {(seq, w.hash) for seq, held in world.ledger.logs[log].items() for w in held}
    before -= {(e.seq, e.hash) for e in store.entries()}  # the restore's own first entry
    world.copied[node.code] = (log, 0, before)
    world.copies.append((node.code, log, 0, before, len(world.restores)))
    world.events["restore_reopened_epoch"] += 1
    world.note(f"restore of {node.code} opened {log} again: a lost copy had written it")


def officer_reads_status(world: World, node: SimNode) -> None:
    """After a round of a PC copied back by hand: if sync refused its log with a code
    that tells the officer to run ``renkou node new-epoch``, the officer runs it."""
    store = node.store
    assert store is not None
    log = str(store.changelog.log)
    if world.copied[node.code][0] != log:
        del world.copied[node.code]  # a new epoch began anyway (nothing written on the copy)
        return
    codes = {r.code for r in PeerAcks(store.db).rejections() if r.log == log}
    if not codes & set(REFUSALS):
        return
    reason = "fork" if "fork" in codes else "restore"
    old = list(store.entries())
    done = start_epoch_carrying(store, reason, known_epoch(store))
    world.carried |= {e.hash for e in old if e.seq > done.kept}
    world.records[node.code] = [
        (done.renamed.get(rid, rid), idn) for rid, idn in world.records[node.code]
    ]
    whose = dict(world.records[node.code])
    for entry in store.entries(2):  # the entries written again, in the new epoch
        for op in decode_payload(entry.payload) if entry.payload else []:
            if isinstance(op, Upsert) and "id_number" in op.fields:
                world._meant(entry, str(op.fields["id_number"][0]))
            elif isinstance(op, Upsert | Retire) and op.id in whose:
                world._meant(entry, whose[op.id])
    del world.copied[node.code]
    world.events["new_epoch_by_officer"] += 1
    world.note(
        f"officer of {node.code}: renkou node new-epoch --reason {reason} --yes "
        f"({done.abandoned} changes written again in {done.entry.log})"
    )


def returned_copies(node: SimNode) -> tuple[dict[bytes, bytes], dict[int, int]]:
    """The copies of its own batches a village keeps, handed back (``message id: raw``),
    and the head of each of its epochs (to find what a round wrote)."""
    store = node.store
    if store is None or node.kind != "village":
        return {}, {}
    holdings = Holdings(store.db)
    copies = {
        mid: raw
        for log in returned.own_logs(holdings, store.node)
        for mid, _first, _last, raw in holdings.returned_copies(log)
    }
    return copies, (log_heads(store.db) if copies else {})


def note_written_again(
    world: World, node: SimNode, before: tuple[dict[bytes, bytes], dict[int, int]]
) -> None:
    """After a round: the copies handed back that it wrote again in its current epoch,
    because they could never go up in their closed log (node/sync/push.py
    ``_carry_stranded``, seed 3261). Their entries count as written again (H1's
    ``world.carried``), and the entries the round wrote are about whom theirs were (P1)."""
    copies, heads = before
    store = node.store
    if not copies or store is None:
        return
    left, _ = returned_copies(node)
    spans = [(e.carried_log, e.carried_first, e.carried_last)
             for e in Restores(store.db).events() if e.carried]  # fmt: skip
    kem = store.identity.kem
    carried = False
    for mid, raw in copies.items():
        env = decode_envelope(raw)
        h = env.header
        if mid in left or not any(
            log == str(h.log) and first <= h.first_seq and h.last_seq <= last
            for log, first, last in spans
        ):
            continue
        world.carried |= {e.hash for e in open_envelope(env, {kem.public_key.key_id: kem})}
        world.events["returned_written_again"] += 1
        world.note(f"{node.code} wrote again {h.log} {h.first_seq}..{h.last_seq}, handed back")
        carried = True
    if carried:
        _about_whom(world, node, heads)


def _about_whom(world: World, node: SimNode, heads: dict[int, int]) -> None:
    """The person each entry the round wrote (past ``heads``, each epoch's head before
    it) is about, as the officer meant the entry it was written again from (P1)."""
    store = node.store
    assert store is not None
    whose = dict(world.records[node.code])
    for epoch in sorted(log_heads(store.db)):
        for entry in store.changelog.entries(heads.get(epoch, 0) + 1, epoch=epoch):
            for op in decode_payload(entry.payload) if entry.payload else []:
                if isinstance(op, Upsert) and "id_number" in op.fields:
                    idn = str(op.fields["id_number"][0])
                    whose.setdefault(op.id, idn)
                    world._meant(entry, idn)
                elif isinstance(op, Upsert | Retire) and op.id in whose:
                    world._meant(entry, whose[op.id])
    world.records[node.code] = list(whose.items())
