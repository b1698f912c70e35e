# SPDX-License-Identifier: Apache-2.0
"""A village PC dies with its data dir; a replacement PC recovers the village from upstream.

The administrator enrols a new PC for the same village (keys of its own, a new
certificate), as tests/node/sync/test_recover_upstream.py does, and its officer runs
``renkou node recover`` (node/sync/recover.py ``ask`` and ``collect``, as
node/cli/recover.py runs them with ``--wait 0``) each time the scheduler would sync the
village, until the county's snapshot has come down through the township and been
taken (SPEC.md §8.10). Sometimes the officer types cards on the new PC first: the
product writes them again in the new epoch under new ids (node/sync/recovered.py).

The bookkeeping, as for a restore: what the dead PC wrote and nobody acknowledged died
with it (``ledger.died`` from seq 1 of each of its logs: the new PC holds none of its
entries, only cards); what its township or the county had acknowledged to it must still
reach the county (``node.lost_acked``, F2 and F3). The invariants it adds:

  R1 the cards a recovery put on the PC are those the village's logs (as their PCs
     wrote them, from the ledger, not from the county's store) make through the heads
     the snapshot names: every card, same fields, same retirement;
  H1 (tests/sim/hand_copy.py) every entry the officer typed on the new PC before the
     recovery is at the county, or was written again in the new epoch (the same
     changes, under new ids);
and P1 judges the writes after it: the officer's edits of a recovered card are about
the person the card shows.
"""

from __future__ import annotations

import json
import shutil
import traceback
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from node.identity import load_certificate
from node.store.recovery import RecoveryEvent
from node.store.store import NodeStore
from node.sync.client import SyncFailed
from node.sync.recover import ask, collect, taken
from protocol import LogId, Retire, Upsert, decode_payload
from tests.sim.transport import SimCrash

if TYPE_CHECKING:
    from tests.sim.world import SimNode, World

DAY = 24 * 3_600_000

TYPES_FIRST_SHARE = 0.4
"""Of the replacements, those whose officer types cards before recovering."""


@dataclass
class Replacing:
    """A replacement PC whose officer has not yet got the village's cards back."""

    log: str  # the new PC's first log (the dead PC's epoch 1)
    install: bytes  # its install entry's hash (dropped at the recovery; typed by nobody)
    before: set[tuple[int, bytes]]  # (seq, hash) the ledger held of that log before it
    asked: bool = False


@dataclass
class Recovered:
    """What one recovery put on the PC, and what the village's logs say it should be."""

    code: str
    event: RecoveryEvent
    cards: dict[tuple[str, str], tuple[dict[str, Any], bool]]  # as taken
    want: dict[tuple[str, str], tuple[dict[str, Any], bool]]  # from the ledger


def eligible(world: World) -> list[SimNode]:
    """Villages a replacement can be made for: alive, not stolen, not mid-round, not
    already being replaced, and some of whose entries the county holds (else the county
    answers ``recovery.nothing_held`` and there is nothing to recover)."""
    held = {LogId.parse(log).node.code for log, _seq in world.db("440104").execute(
        "SELECT log, seq FROM frontier")}  # fmt: skip
    return [
        v
        for v in world.of_kind("village")
        if not v.busy
        and v.store is not None
        and v.code not in world.revoked
        and v.code not in world.replacing
        and v.code in held
    ]


def replace(world: World, node: SimNode, typed: int | None = None) -> None:
    """The PC of ``node`` dies with its data dir; a new one is enrolled for the village,
    and sometimes its officer types cards at once (``typed`` changes: 0 none, None as
    the seed draws it)."""
    assert node.store is not None and node.parent is not None
    node.forget_store(world.moment())  # what was acknowledged to the dead PC binds (F2)
    old_cert = load_certificate(node.data_dir, "node.cert")
    if old_cert is not None:
        world.old_certs.add(old_cert.raw)  # the township and county keep it (F6)
    node.store.close()
    node.store = None
    shutil.rmtree(node.data_dir)
    # Everything the dead PC wrote died with it, but what someone acknowledged.
    for log in world.ledger.of_node(node.code):
        world.ledger.died[log] = 1
    world.backups.pop(node.code, None)  # its backups are sealed under the dead PC's key
    world.copied.pop(node.code, None)
    for key in [k for k in world.relay_acked if k[0] == node.code]:
        world.relay_acked[key] = []  # the new PC holds no acknowledgement
    town = world.nodes[node.parent]
    # A new PC comes a day later at the earliest: its install entry is never the dead
    # PC's (simulated time often stands still, and the same node, name and clock would
    # write the very same entry).
    world.time.advance(DAY)
    store = NodeStore.init(node.data_dir, node.node_id, f"村{node.code}", node.suite,
                           clock=node.clock)  # fmt: skip
    world.ledger.created(node.code, store)
    install = next(store.entries())
    store.close()
    cert = world.admin.certify(node.data_dir, world.time.now)
    town_cert = load_certificate(town.data_dir, "node.cert")
    assert town_cert is not None
    world.admin.enrol(node.data_dir, cert, town_cert, world.county_cert)
    world._start(node)
    node.reuses_ids = False  # the new PC runs the current release
    log = str(install.log)
    before = {(seq, w.hash) for seq, held in world.ledger.logs[log].items() for w in held}
    world.replacing[node.code] = Replacing(log, install.hash, before)
    world.records[node.code] = []
    world.restores.append(node.code)
    # H1 judges what the officer types on the new PC in its first log (another history
    # of the dead PC's): at the county, or written again by the recovery.
    world.copies.append((node.code, log, 0, before, len(world.restores)))
    world.events["replace_pc"] += 1
    world.note(f"replace {node.code}: the PC died with its data dir; a new PC is enrolled")
    if typed is None and world.rng.random() < TYPES_FIRST_SHARE:
        world.events["replace_pc_typed_first"] += 1
        world.write(node)
    elif typed:
        world.events["replace_pc_typed_first"] += 1
        world.write(node, typed)


def officer_recovers(world: World, node: SimNode) -> None:
    """``renkou node recover --code <village> --wait 0`` on the replacement PC: ask (the
    request waiting is sent again, the same bytes), then read the outbox once."""
    state = world.replacing[node.code]
    store = node.store
    assert store is not None and node.client is not None
    if not world.params.reuse_clients:
        node.client = world._client(node)
    client = node.client
    node.busy, refused = True, ""
    try:
        ask(client)
        state.asked = True
        event = collect(client)
        outcome = "cards not come yet" if event is None else f"took {event.records} cards"
    except SyncFailed as exc:
        event, outcome = None, f"failed {exc.code or exc.status or 'unreachable'}"
        refused = exc.code
    except SimCrash as exc:
        if exc.node != node.code:
            raise
        event, outcome = None, f"crashed ({'after' if exc.after else 'before'} a request)"
    except Exception as exc:  # noqa: BLE001 - anything else escaping the command is a bug
        event, outcome = None, f"UNEXPECTED {type(exc).__name__}: {exc}"
        world.unexpected.append(
            f"step {world.step_no} recover {node.code}: {traceback.format_exc()}"
        )
    finally:
        node.busy = False
    kept = [n for n in client.report.notes if n.startswith("kept our cards")]
    world.note(f"officer of {node.code}: renkou node recover: {outcome} {kept}".rstrip(" []"))
    if refused == "recovery.nothing_held":
        # The county holds nothing of the village (put back from an older backup, say):
        # the command says there is nothing to recover and to sync; the officer does, at
        # the village's next turn, and what the new PC holds goes up as any log does.
        world.replacing.pop(node.code)
        world.events["replace_pc_nothing_held"] += 1
        return
    if kept and event is None:
        # The PC holds entries the county does not (written after a restore of the new
        # PC): the command says to sync first and ask again; the officer does.
        world.replacing.pop(node.code)
        try:
            world.sync(node)
        finally:
            world.replacing[node.code] = state
        return
    if outcome.startswith("crashed"):
        world._restart(node)
        event = taken(node.store) if node.store is not None else None
    if event is not None:
        recovered(world, node, event)


def recovered(world: World, node: SimNode, event: RecoveryEvent) -> None:
    """Bookkeeping once a snapshot was taken: R1's two sides, the officer's typed entries
    written again (H1), and whom the PC's cards are about from now on (P1)."""
    store = node.store
    assert store is not None
    state = world.replacing.pop(node.code)
    cards = {
        (str(k), str(i)): (json.loads(d), r is not None)
        for k, i, d, r in store.db.execute("SELECT kind, id, data, retired FROM recovered_records")
    }
    world.recoveries.append(Recovered(node.code, event, cards, _cards_from_ledger(world, event)))
    # What the officer typed on the new PC before (even while the command ran: an
    # interleaved write), from the ledger: the changes written again count as carried.
    mine = [
        w
        for seq, held in sorted(world.ledger.logs[state.log].items())
        for w in held
        if (seq, w.hash) not in state.before and w.hash != state.install
    ]
    again = [e for e in store.entries() if e.payload is not None][1:]  # past the epoch start
    left = Counter(_change(e.payload) for e in again)
    for w in mine:
        if left[_change(w.payload)] > 0:
            left[_change(w.payload)] -= 1
            world.carried.add(w.hash)
    world.records[node.code] = [
        (rid, str(data["id_number"]))
        for rid, data in store.records("person")
        if data.get("id_number")
    ]
    whose = dict(world.records[node.code])
    for entry in again:
        for op in decode_payload(entry.payload) if entry.payload else []:
            if isinstance(op, Upsert) and "id_number" in op.fields:
                world._meant(entry, str(op.fields["id_number"][0]))
            elif isinstance(op, Upsert | Retire) and op.id in whose:
                world._meant(entry, whose[op.id])
    world.events["recovered"] += 1
    world.note(
        f"{node.code} recovered {event.records} cards in epoch {event.epoch} "
        f"(through {event.heads}; {event.rewritten} typed entries written again)"
    )


def _change(payload: bytes | None) -> tuple[Any, ...]:
    """What an entry changes, its record ids and bases aside (written again under new
    ids, onto other bases)."""
    out: list[Any] = []
    for op in decode_payload(payload) if payload else []:
        if isinstance(op, Upsert):
            fields = sorted((k, json.dumps(v[0], sort_keys=True)) for k, v in op.fields.items())
            out.append(("upsert", op.kind, tuple(fields)))
        elif isinstance(op, Retire):
            out.append(("retire", op.kind, op.reason))
    return tuple(out)


def _cards_from_ledger(
    world: World, event: RecoveryEvent
) -> dict[tuple[str, str], tuple[dict[str, Any], bool]]:
    """The cards the village's logs make through ``event``'s heads, epoch by epoch, each
    in seq order, from what its PCs wrote (the ledger; at a seq two PCs wrote, the entry
    the county holds)."""
    from tests.sim.invariants import _written

    cards: dict[tuple[str, str], tuple[dict[str, Any], bool]] = {}
    for log in sorted(event.heads, key=lambda text: LogId.parse(text).epoch):
        for w in _written(world, log)[: event.heads[log]]:
            for op in decode_payload(w.payload) if w.payload else []:
                if isinstance(op, Upsert):
                    data, retired = cards.get((op.kind, op.id), ({}, False))
                    fields = {k: v[0] for k, v in op.fields.items()}
                    cards[(op.kind, op.id)] = ({**data, **fields}, retired)
                elif isinstance(op, Retire) and (op.kind, op.id) in cards:
                    cards[(op.kind, op.id)] = (cards[(op.kind, op.id)][0], True)
    return cards


def recovery_violations(world: World) -> list[str]:
    """R1, and a replacement never recovered by the end of the heal."""
    out = [
        f"R1 {code}'s replacement PC never got the village's cards back"
        for code in world.replacing
        if code not in world.revoked
    ]
    for r in world.recoveries:
        for key in sorted(set(r.cards) | set(r.want)):
            got, want = r.cards.get(key), r.want.get(key)
            if got != want:
                what = "missing" if got is None else "not written" if want is None else "differs"
                out.append(
                    f"R1 {r.code} recovered card {key[0]}/{key[1]} (epoch {r.event.epoch}): "
                    f"{what} from what its logs make through {r.event.heads}"
                )
    return out


def heal(world: World) -> None:
    """The network healed: every officer still waiting runs ``renkou node recover``
    until the cards come (the township hands the request up and the snapshot down)."""
    for _ in range(3):
        for code in list(world.replacing):
            node = world.nodes[code]
            officer_recovers(world, node)
            if code in world.replacing:
                world.sync(world.nodes[node.parent or ""])
                officer_recovers(world, node)
