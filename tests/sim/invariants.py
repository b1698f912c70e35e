# SPDX-License-Identifier: Apache-2.0
"""What must hold of a simulated county: after every step, and after the heal phase.

Each check returns a list of violations (empty: it holds), phrased so that a failing
seed's report says which invariant broke and for which node and log.

"What a node wrote" is the write ledger (tests/sim/ledger.py), recorded as each node
wrote, outside its store; never the node's store itself, which could lose a write and
agree with itself. "Holds an entry" means the same seq, entry hash, payload hash and
payload bytes.

After every step (``step_violations``):
  S1 the county holds every log as a contiguous prefix 1..n with its frontier at n,
     its entry at n the one its origin wrote;
  S2 every county-signed acknowledgement a node keeps is covered by what the county
     holds (until the county itself is restored from an old backup);
  S3 no sync round ended with anything but a result or SyncFailed; no server answered 500;
  A1 a village shows the delivery alert exactly when the county's acknowledgement of its
     log lags the township's by more than 3 days (issue 12 item 3), as the sim saw the
     township's acknowledgements arrive (World.relay_acked);
  A2 the county lists a node as not heard from exactly when nothing of it (or, for a
     township, of its villages) reached the county for more than 35 days, or never, as
     the sim saw the county's holdings move (World.heard; until the county is restored
     from an old backup, which takes those times back).

After heal (``final_violations``), in addition:
  F1 quiescence: the heal passes ended with every round idle (no deadlock, no livelock);
  F2 every entry a village (or township) holds a township- or county-signed
     acknowledgement for is at the county exactly once with the same entry hash;
  F3 the county holds every log entire (count and hashes) and its frontier equals each
     log's head; every log of a revoked node exactly through its ``valid_through``
     (0 for a log the revocation does not name, as protocol/certs.py reads it);
  F4 each township holds every log of its villages entire (but entries it lost to a
     restore of its PC that the origin's store lost too: nobody can give them back);
  F5 every village holds the county's acknowledgement of its whole log (acks come back);
  F6 nothing of a node the county never enrolled is stored anywhere; every forged
     attempt was refused and changed nothing;
  F7 all readers of the same logs have identical merged hashes: the county aggregator
     merged incrementally during the run, rebuilt from the county node, and merged
     straight from the origins' own logs in a shuffled order;
  F8 no fork alert (no node forked in these runs); quarantine only for clock drift,
     only if a clock jumped; no refusal still recorded for a log that was acknowledged;
  F9 every store's log verifies and its records equal a replay of its log;
  L1 every entry in every store's own log is one the ledger recorded (a store wrote
     nothing behind the officer's back: no duplicate, no altered entry);
  L2 every entry the ledger recorded is in its node's store, unless a restore threw
     away the only copy (no committed write lost by the store);
  L3 no node wrote two different entries at one seq of its log;
  M1 the county's merged rows (incremental and rebuilt) equal the reference merge
     (tests/sim/reference.py) of every entry the county should hold;
  H1 every entry a PC copied back by hand (not restored: the node does not know) wrote
     after the copy is at the county in its log, or was written again in a new epoch by
     the officer's ``renkou node new-epoch``, which the fork's refusal told them to run
     (tests/sim/hand_copy.py); likewise what a PC restored into an epoch number a lost
     copy had written wrote there (hand_copy.restore_reopened), and what the officer
     typed on a replacement PC before recovering the village (tests/sim/replace_pc.py);
  R1 the cards a recovery from upstream put on a replacement PC are those the village's
     logs, as its PCs wrote them, make through the heads the snapshot names; every
     replacement PC recovered by the end of the heal (tests/sim/replace_pc.py);
  P1 no record the county merged a village's writes into (a local record, split by the
     history each write saw: county_aggregator/lines.py) has entries the officers wrote
     about two different people (a local id reused for another person, issue 12).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import TYPE_CHECKING

from sqlite_utils import Database

from county_aggregator.merge import (
    apply_entries,
    load_revocations,
    rebuild,
    revocation_limits,
)
from county_aggregator.nodes import SILENT_DAYS, node_rows
from county_aggregator.store import content_hash, init_merged
from node.identity import load_certificate
from node.store.acks import PeerAcks
from node.store.certs import Certs
from node.store.holdings import Holdings
from node.store.store import NodeStore
from node.sync.client import SyncClient, SyncFailed
from node.sync.delivery import DAY_MS, LAG_DAYS, delivery
from protocol import LogId, NodeId, Suite, decode_envelope
from tests.sim.hand_copy import REFUSALS
from tests.sim.ledger import Written
from tests.sim.reference import differences, engine_rows, reference_rows
from tests.sim.replace_pc import recovery_violations

if TYPE_CHECKING:
    from tests.sim.world import Forged, SimNode, World

HOUR_MS = 3_600_000
TABLES = ("inbound", "received_entries", "frontier", "certs", "quarantine", "alerts", "outbox")
COUNTY_ID = "county:440104"


Held = tuple[int, bytes, bytes, bytes | None]
"""``(seq, entry hash, payload hash, payload)`` of an entry, as written or as held."""


def _origin_log(world: World, log: str) -> list[Held]:
    return [w.held() for w in _written(world, log)]


def _written(world: World, log: str) -> list[Written]:
    """What the origin wrote of ``log``, one entry per seq. Two entries at one seq are
    a fork L3 excuses: a PC copied back by hand wrote on (tests/sim/hand_copy.py), or an
    epoch a restored copy opened died unsent and a later restore or new-epoch opened the
    same number again (seed 1864: no copy left on the PC knew of it, nor had the parent
    heard of it). The one that counts is the one the county holds (the other was written
    again in a new epoch, H1, or died with a copy nobody took it from); otherwise the
    first, and F3 names the difference."""
    out = []
    for seq, held in sorted(world.ledger.logs.get(log, {}).items()):
        if len(held) > 1 and _fork_excused(world, log, seq):
            row = (
                world.db("440104")
                .execute(
                    "SELECT entry_hash FROM received_entries WHERE log = ? AND seq = ?", [log, seq]
                )
                .fetchone()
            )
            held = [w for w in held if row is not None and w.hash == bytes(row[0])] or held
        out.append(held[0])
    return out


def _fork_excused(world: World, log: str, seq: int) -> bool:
    """Two entries the ledger holds at ``log`` ``seq`` are no fault of the product: a PC
    copied back by hand wrote on (H1 judges it), or the other died unsent with a copy a
    restore threw away (F8 still sees a fork that reached anyone)."""
    if any(c[1] == log for c in world.copies):
        return True
    died = world.ledger.died.get(log)
    return died is not None and seq >= died


def must_reach(world: World, node: SimNode, log: str, held: list[Held]) -> int:
    """How much of ``log`` the county must hold: all of it, except entries that only a
    store thrown away by a restore held and nobody acknowledged (they died with the
    PC), or whose every acknowledging holder lost them to a restore of its own (below).
    Entries the county took anyway count too."""
    origin = _origin_log(world, log)
    died = world.ledger.died.get(log)
    if died is None:
        return len(origin)
    bound = max(_honoured(world, node, log), died - 1)
    if held == origin[: len(held)]:
        bound = max(bound, len(held))
    return min(bound, len(origin))


def _honoured(world: World, node: SimNode, log: str) -> int:
    """How far the acknowledgements of ``log`` that a store thrown away held still bind
    (:func:`_binding`)."""
    return max((seq for _peer, seq, _head in _binding(world, node, log)), default=0)


def _binding(world: World, node: SimNode, log: str) -> list[tuple[str, int, bytes | None]]:
    """``(peer, seq, entry hash or None)`` of each acknowledgement of ``log`` a store
    thrown away held, as far as it still binds its peer: through every entry that some
    node may still give the county (then with the hash acknowledged); entries past that,
    which nobody holds any more (:func:`_lost_everywhere`), bind no more (then only
    through the last entry that binds, hash unknown). Seed 1521: a township's epoch
    reached only the county, and the township PC and then the county were both put back
    from backups older than it; nobody holds it (a township's own log has no other
    holder), so no protocol could bring it back. Seed 3693: a township's disk lost its
    copy of a village's last batch, and the village PC was then copied back by hand from
    a copy older than it: neither holder has those entries. Seeds 5156 and 5468: a
    township's copy expired while it was cut off or withheld it, and the PC that alone
    could renew it died with its keys. A peer that dropped entries by itself, with no
    restore and no lost disk, still owes them (bug H was one)."""
    out: list[tuple[str, int, bytes | None]] = []
    for (acked_log, peer), seq in node.lost_acked.items():
        if acked_log != log:
            continue
        code = NodeId.parse(peer).code
        peer_node = world.nodes.get(code)
        holds = 0
        if peer_node is not None and peer_node.store is not None:
            row = peer_node.store.db.execute(
                "SELECT seq FROM frontier WHERE log = ?", [log]
            ).fetchone()
            holds = int(row[0]) if row else 0
            # Another history of the log (a replacement PC's) is not the acknowledged entry.
            acked = node.lost_heads.get((acked_log, peer))
            if holds >= seq and acked is not None:
                there = _entry_hash(world, peer_node.store.db, log, seq)
                if there is not None and there != acked:
                    holds = 0
        thrown = node.lost_at.get((acked_log, peer), 0)
        returned = _returned_held(node, log)
        bound = seq
        while bound > holds and _lost_everywhere(world, code, log, bound, thrown, returned):
            bound -= 1
        if bound < seq:
            out.append((peer, bound, None))
        else:
            out.append((peer, seq, node.lost_heads.get((acked_log, peer))))
    return out


def _entry_hash(world: World, db: Database, log: str, seq: int) -> bytes | None:
    """The hash of entry ``seq`` of ``log`` that ``db`` holds, or (a relay keeps no copy
    the county acknowledged) the county's, which F4 holds the relay to."""
    for holder in (db, world.db("440104")):
        row = holder.execute(
            "SELECT entry_hash FROM received_entries WHERE log = ? AND seq = ?", [log, seq]
        ).fetchone()
        if row is not None:
            return bytes(row[0])
    return None


def _lost_everywhere(
    world: World, peer: str, log: str, seq: int, thrown: int, returned: list[tuple[int, int]]
) -> bool:
    """Is entry ``seq`` of ``log``, which ``peer`` acknowledged to a store of the origin
    thrown away at ``thrown`` (World.moment), held by nobody? Only if:

    * the live store of the origin holds no copy of it the township handed back
      (``returned``, node/sync/returned.py): that copy is the entry, and the origin must
      send it again (seed 3261: a handed-back copy that never reached the county), unless
      it wrote the entry again in a later epoch (``World.carried``: H1 judges it there);
    * the peer lost it, to a restore of its PC from before it or a disk that lost its
      copies (``World.rolled_back``), and did not take it again before the origin's
      store was thrown away (:func:`_mended`: a loss the village mended by sending the
      entries again, as it does once the relay's head shows the gap, was no loss). A
      loss the peer had not noticed excuses what it acknowledged after it too: those
      entries lie past the gap, and the peer can never hand them on. A loss after the
      store was thrown away leaves nobody holding it (what the origin's live store
      holds, F3 demands anyway: must_reach);
    * or the peer holds it only in a copy past its expiry that the origin's live store
      cannot open (:func:`_expired_unrenewable`)."""
    carried = any(w.hash in world.carried for w in world.ledger.logs.get(log, {}).get(seq, []))
    if not carried and any(first <= seq <= last for first, last in returned):
        return False
    if _expired_unrenewable(world, peer, log, seq):
        return True
    for back_to, at in world.rolled_back.get((peer, log), []):
        if back_to >= seq:
            continue
        if at > thrown or not _mended(world, peer, log, seq, back_to, at, thrown):
            return True
    return False


def _expired_unrenewable(world: World, peer: str, log: str, seq: int) -> bool:
    """Does township ``peer`` hold entry ``seq`` of ``log`` only in a copy it handed back
    (node/sync/relay.py ``_lost``) that expired before it ever began a round, one that
    ran to the end, holding it fresh and not withheld (``World.relay_chances``: it was
    cut off from the county, or withheld the village's batches, faults of the world),
    and that is sealed for no key of the origin's live store?

    Past its expiry no node may take or hand on a batch (SPEC.md §5.2, §6.5): only the
    origin can renew it, opening it with its escrow key. When the PC that sent it died
    with its data dir and keys (tests/sim/replace_pc.py), the replacement cannot open it
    and nobody can give those entries to the county (seeds 5156, 5468). A relay that had
    a round while the copy was fresh and did not hand it on still owes it, and so does
    one that dropped it (it holds no copy)."""
    town, origin = world.nodes.get(peer), world.nodes.get(LogId.parse(log).node.code)
    if town is None or town.store is None or origin is None or origin.store is None:
        return False
    key = origin.store.identity.kem.public_key.key_id
    chances = world.relay_chances.get(peer, set())
    rows = town.store.db.execute(
        "SELECT message_id, raw FROM inbound WHERE log = ? AND returned_at IS NOT NULL"
        " AND first_seq <= ? AND last_seq >= ?",
        [log, seq, seq],
    ).fetchall()
    return any(
        bytes(mid) not in chances and key not in decode_envelope(bytes(raw)).recipient_key_ids
        for mid, raw in rows
    )


def _mended(world: World, peer: str, log: str, seq: int, back_to: int, at: int, until: int) -> bool:
    """Did ``peer``, which lost ``log`` past ``back_to`` at ``at``, take ``seq`` again
    before ``until``? Its head must first fall (a restore, or the relay finding the gap:
    node/sync/relay.py ``_lost``) to ``back_to`` or to what the county held, and then
    reach ``seq`` again. A head that only ran on past a gap it had not noticed took
    entries it can never hand on."""
    seen = world.heads_seen.get((peer, log), [])
    county = world.heads_seen.get((COUNTY_ID.partition(":")[2], log), [])
    was = next((head for moment, head in reversed(seen) if moment <= at), 0)
    fell = False
    for moment, head in seen:
        if moment <= at or moment >= until:
            continue
        held = next((h for m, h in reversed(county) if m <= moment), 0)
        if head < min(was, seq) and head <= max(back_to, held):
            fell = True
        elif fell and head >= seq:
            return True
        was = head
    return False


def _unreturnable(world: World, node: SimNode, log: str, head: int) -> bool:
    """Did ``node``'s township lose entries of ``log`` to a restore of its PC, and the
    origin's store lose them too (died with a store a restore or hand copy threw away)?
    Then no node can give them back to the township."""
    died = world.ledger.died.get(log)
    lost_at_town = world.rolled_back.get((node.parent or "", log), [])
    return died is not None and died <= head and any(back < head for back, _at in lost_at_town)


def _returned_held(node: SimNode, log: str) -> list[tuple[int, int]]:
    """The ranges of ``log`` of which ``node``'s live store holds a copy its township
    handed back (node/store/holdings.py, ``returned_at`` set), to send again."""
    if node.store is None:
        return []
    return [
        (first, last)
        for held, first, last, _at in Holdings(node.store.db).returned_ranges()
        if str(held) == log
    ]


def _held(db: Database, log: str) -> list[Held]:
    return [
        (int(s), bytes(h), bytes(ph), None if p is None else bytes(p))
        for s, h, ph, p in db.execute(
            "SELECT seq, entry_hash, payload_hash, payload FROM received_entries"
            " WHERE log = ? ORDER BY seq",
            [log],
        )
    ]


def _first_difference(held: list[Held], want: list[Held]) -> str:
    """Where two runs of entries part, and in what (for a report a person can act on)."""
    for a, b in zip(held, want, strict=False):
        if a == b:
            continue
        if a[0] != b[0]:
            return f"at seq {b[0]}: held seq {a[0]}"
        what = "entry hash" if a[1] != b[1] else "payload hash" if a[2] != b[2] else "payload"
        if a[1] == b[1] and a[3] is None:
            what = "payload dropped, its hash kept"
        return f"at seq {a[0]}: {what} differs from what the origin wrote"
    if len(held) < len(want):
        return f"from seq {len(held) + 1}: missing"
    return f"from seq {len(want) + 1}: entries the origin never wrote"


def _frontier(db: Database) -> dict[str, tuple[int, bytes]]:
    return {
        log: (int(seq), bytes(h))
        for log, seq, h in db.execute("SELECT log, seq, head FROM frontier")
    }


def _logs(world: World) -> dict[str, str]:
    """log id -> node code, for every node that syncs upwards."""
    return {
        log: code
        for log, code in world.ledger.owners.items()
        if world.nodes[code].parent is not None
    }


# -- after every step ------------------------------------------------------------------


def step_violations(world: World) -> list[str]:
    out: list[str] = []
    county = world.db("440104")
    frontier = _frontier(county)
    logs = _logs(world)
    for log, (seq, head) in frontier.items():
        held = _held(county, log)
        if [h[0] for h in held] != list(range(1, seq + 1)):
            out.append(f"S1 county holds {log} seqs {[h[0] for h in held][:20]}... frontier {seq}")
            continue
        code = logs.get(log)
        if code is None:
            out.append(f"S1/F6 county holds log {log} of a node that is not enrolled")
            continue
        origin = _origin_log(world, log)
        if held and (len(origin) < seq or origin[seq - 1] != held[-1] or held[-1][1] != head):
            out.append(f"S1 county's {log} through {seq} is not the log its origin wrote")
    if "440104" not in world.restores:
        for code, node in world.nodes.items():
            if node.store is None or node.parent is None:
                continue
            for log, seq in node.store.db.execute(
                "SELECT log, seq FROM peer_acks WHERE peer = ?", [COUNTY_ID]
            ):
                if frontier.get(log, (0, b""))[0] < seq:
                    out.append(
                        f"S2 {code} holds the county's ack of {log} through {seq}, the county "
                        f"holds {frontier.get(log, (0, b''))[0]}"
                    )
    out += [f"S3 unexpected exception: {u}" for u in world.unexpected]
    out += [f"S3 server error: {e}" for e in world.network.server_errors]
    out += alert_violations(world)
    return out


MARGIN_MS = HOUR_MS
"""Conditions this close to an alert's threshold are not judged: the sim notes an
acknowledgement after the round, the node when it arrived (network delays and retries
lie between)."""


def alert_violations(world: World) -> list[str]:
    """A1 and A2: each alert raised exactly when its condition holds."""
    out: list[str] = []
    for code, node in world.nodes.items():
        if node.kind != "village" or node.store is None or code in world.revoked:
            continue
        log = node.log
        now = node.clock()
        county_seq = (
            node.store.db.execute(
                "SELECT MAX(seq) FROM peer_acks WHERE log = ? AND peer = ?", [log, COUNTY_ID]
            ).fetchone()[0]
            or 0
        )
        waiting = [at for seq, at in world.relay_acked.get((code, log), []) if seq > county_seq]
        if waiting and abs(now - waiting[0] - LAG_DAYS * DAY_MS) < MARGIN_MS:
            continue
        holds = bool(waiting) and now - waiting[0] > LAG_DAYS * DAY_MS
        shown = delivery(node.store.db, LogId.parse(log), node.store.changelog.head_seq).lagging(
            now, LAG_DAYS
        )
        if shown != holds:
            out.append(
                f"A1 {code}: the county's acknowledgement of {log} lags the township's "
                f"{'by more' if holds else 'by no more'} than {LAG_DAYS} days, the delivery "
                f"alert is {'missing' if holds else 'raised'}"
            )
    county = world.county
    if county.store is None or "440104" in world.restores:
        return out
    now = county.clock()
    issued = [code for code in world.nodes if code != "440104"]
    for row in node_rows(county.store, now, SILENT_DAYS, issued):
        code = NodeId.parse(row.node).code
        heard = world.heard.get(code)
        if heard is not None and abs(now - heard - SILENT_DAYS * DAY_MS) < MARGIN_MS:
            continue
        holds = heard is None or now - heard > SILENT_DAYS * DAY_MS
        if row.alert != holds:
            out.append(
                f"A2 county: {row.node} last reached the county "
                f"{'never' if heard is None else f'{(now - heard) // DAY_MS} days ago'}, "
                f"its not-heard-from alert is {'missing' if holds else 'raised'}"
            )
    return out


def assert_step(world: World) -> None:
    problems = step_violations(world)
    if problems:
        raise AssertionError(report(world, problems))


# -- after heal ------------------------------------------------------------------------


def final_violations(world: World) -> list[str]:
    out = step_violations(world)
    county = world.db("440104")
    c_front = _frontier(county)
    logs = _logs(world)
    revoked = world.revoked_logs()

    if not world.quiescent:  # F1
        out.append(f"F1 not quiescent after {world.heal_passes} heal passes (deadlock/livelock)")

    for log, code in sorted(logs.items()):
        node = world.nodes[code]
        assert node.store is not None
        held = _held(county, log)
        origin = _origin_log(world, log)[: must_reach(world, node, log, held)]
        if not origin and not held:
            continue  # an epoch a lost store opened, and nobody took anything of it
        head = len(origin)
        tip = (head, origin[-1][1]) if origin else None  # the frontier a holder must have
        current = log == node.log  # a closed epoch's acks went to the copy that wrote it
        # F2: acknowledgements kept by the origin
        for peer, seq, ack_head in node.store.db.execute(
            "SELECT peer, seq, head FROM peer_acks WHERE log = ?", [log]
        ):
            if log in revoked and seq > revoked[log].valid_through(log):
                continue
            if seq > len(origin) or origin[seq - 1][1] != bytes(ack_head):
                out.append(f"F2 {code} keeps an ack by {peer} of {log} {seq} for another entry")
            elif len(held) < seq or held[:seq] != origin[:seq]:
                out.append(
                    f"F2 {peer} acknowledged {log} through {seq} to {code}; the county holds "
                    f"{len(held)} matching entries: acknowledged entries lost"
                )
        # F2 too: acknowledgements a store thrown away by a restore or hand copy held
        # (the entry they name counts, whichever the ledger lists first: _written)
        for peer, seq, ack_head in _binding(world, node, log):
            if ack_head is None or (log in revoked and seq > revoked[log].valid_through(log)):
                continue
            if len(held) < seq or held[seq - 1][1] != ack_head:
                out.append(
                    f"F2 {peer} acknowledged {log} through {seq} to a store of {code} that "
                    f"was thrown away; the county holds {len(held)} entries, not that one "
                    "at its seq: acknowledged entries lost"
                )
        # F3: the county holds the whole log (a revoked one through valid_through)
        want = origin if log not in revoked else origin[: revoked[log].valid_through(log)]
        if held != want:
            out.append(
                f"F3 county holds {len(held)} entries of {log} "
                f"({sum(1 for a, b in zip(held, want, strict=False) if a == b)} matching), "
                f"the origin wrote {len(want)}"
                + (" (revoked)" if log in revoked else "")
                + f"; {_first_difference(held, want)}"
                + "".join(
                    f"; {code} still holds a copy its township handed back of {first}..{last}"
                    for first, last in _returned_held(node, log)
                )
            )
        elif log not in revoked and c_front.get(log) != tip:
            out.append(f"F3 county frontier of {log} is {c_front.get(log)}, head is {head}")
        # F4: the township holds its villages' logs (unless it lost them to a restore
        # and the origin's store lost them too: logs flow only up, nobody can give them
        # back to it; the county holds them, F3; seed 4021)
        if (
            node.kind == "village"
            and log not in revoked
            and not _unreturnable(world, node, log, head)
        ):
            t_front = _frontier(world.db(node.parent or "")).get(log)
            if t_front != tip:
                out.append(
                    f"F4 township {node.parent} holds {log} through "
                    f"{t_front and t_front[0]}, head {head}"
                )
        if log in revoked:
            t_seq = _frontier(world.db(node.parent or "")).get(log, (0, b""))[0]
            if t_seq > revoked[log].town_head(log):
                out.append(
                    f"F3 township {node.parent} accepted {log} through {t_seq} after its "
                    f"revocation (it held {revoked[log].town_head(log)})"
                )
        # F5: the county's acknowledgement came back
        if node.kind == "village" and log not in revoked and current:
            row = node.store.db.execute(
                "SELECT seq FROM peer_acks WHERE peer = ? AND log = ?", [COUNTY_ID, log]
            ).fetchone()
            if row is None or row[0] != head:
                out.append(
                    f"F5 {code} holds the county's ack through {row and row[0]}, its head is "
                    f"{head}: the county's acknowledgement never came back"
                )
        # F8: refusals still recorded after everything was acknowledged
        if log not in revoked:
            for r in PeerAcks(node.store.db).rejections():
                if r.log in revoked:
                    continue
                if r.code in REFUSALS and r.log in {c[1] for c in world.copies}:
                    continue  # the refusal that told the officer to run new-epoch
                out.append(
                    f"F8 {code} still records a refusal by {r.peer} of {r.log} "
                    f"{r.first_seq}..{r.last_seq}: {r.code}"
                )

    out += hand_copy_violations(world)
    out += recovery_violations(world)
    out += _no_strangers(world, logs)
    out += _merged_hashes(world)
    out += reference_violations(world)
    out += ledger_violations(world)
    out += one_person_per_card(world, logs)
    for code, node in world.nodes.items():
        if node.kind == "village":
            continue
        db = world.db(code)
        for kind, log in db.execute("SELECT kind, log FROM alerts"):
            if kind == "fork" and log in {c[1] for c in world.copies}:
                continue  # the fork a PC copied back by hand made (H1)
            out.append(f"F8 {code} raised a {kind} alert for {log} though no node forked")
        for qcode, log, first, last in db.execute(
            "SELECT code, log, first_seq, last_seq FROM quarantine"
        ):
            if qcode != "clock_drift" or not world.jumped:
                out.append(f"F8 {code} quarantined {log} {first}..{last}: {qcode}")
    for code, node in world.nodes.items():  # F9
        assert node.store is not None
        try:
            node.store.verify_log()
            if node.store.records_hash() != node.store.rebuild_hash():
                out.append(f"F9 {code}: records differ from a replay of its log")
        except Exception as exc:  # noqa: BLE001
            out.append(f"F9 {code}: {exc}")
    return out


def _no_strangers(world: World, logs: dict[str, str]) -> list[str]:
    """F6: nothing of a node the county never enrolled is stored anywhere."""
    out = []
    issued = {c.raw for c in _issued(world)} | world.old_certs  # a dead PC's too
    forged_raw = {f.cert_raw for f in world.forged if f.cert_raw}
    for code in world.nodes:
        db = world.db(code)
        for cert_node, serial, raw in db.execute("SELECT node, serial, raw FROM certs"):
            if bytes(raw) in forged_raw or bytes(raw) not in issued:
                out.append(f"F6 {code} keeps a certificate of {cert_node} #{serial} never issued")
        for (log,) in db.execute(
            "SELECT log FROM frontier UNION SELECT log FROM inbound"
            " UNION SELECT log FROM received_entries"
        ):
            if log not in logs:
                out.append(f"F6 {code} holds log {log} of a node that is not enrolled")
    for f in world.forged:
        if not f.outcome.startswith("refused"):
            out.append(f"F6 forged {f.kind} {f.code} -> {f.target}: {f.outcome}")
        if f.changed:
            out.append(f"F6 forged {f.kind} {f.code} changed {f.target}'s {f.changed}")
    return out


def hand_copy_violations(world: World) -> list[str]:
    """H1: every entry a PC copied back by hand wrote after the copy is at the county in
    its log, or the officer's new-epoch (which the fork's refusal told them to run)
    wrote it again in a new epoch; else it is lost. Copies a later restore or copy of
    the same PC threw away are not judged (what died with them is L2's and F3's)."""
    out = []
    county = world.db("440104")
    for code, log, head, before, at in world.copies:
        if code in world.restores[at:] or code in world.revoked:
            continue  # thrown away by a later restore or copy; a stolen PC's are void
        for seq, held in sorted(world.ledger.logs.get(log, {}).items()):
            for w in held:
                if seq <= head or (seq, w.hash) in before or w.hash in world.carried:
                    continue
                row = county.execute(
                    "SELECT entry_hash FROM received_entries WHERE log = ? AND seq = ?",
                    [log, seq],
                ).fetchone()
                if row is None or bytes(row[0]) != w.hash:
                    out.append(
                        f"H1 {code} wrote {log} {seq} after its database was copied back by "
                        "hand (or restored into a log it had written); it is not at the "
                        "county and was not written again in a new epoch (no fork refusal "
                        "told the officer to run new-epoch)"
                    )
    return out


def _issued(world: World) -> list:  # type: ignore[type-arg]
    out = []
    for code in world.nodes:
        cert = world.admin.issued(code)
        if cert is not None:
            out.append(cert)
    return out


def merged_hashes(world: World) -> dict[str, str]:
    """F7: the same logs merged three ways."""
    county = world.county
    assert county.store is not None
    crl = load_revocations(county.data_dir)
    hashes = {"incremental": content_hash(world.merged)} if world.params.merges else {}
    rebuilt = init_merged(Database(memory=True))
    rebuild(county.store.db, rebuilt, revocations=crl)
    hashes["rebuild"] = content_hash(rebuilt)
    rebuilt.close()
    # Straight from the origins: every entry each node wrote (a revoked log only through
    # what the county may hold), shuffled, some twice, in a few chunks.
    rows = [w.row() for w in due_at_county(world)]
    rng = random.Random(world.seed)
    rows += rng.sample(rows, len(rows) // 10)
    rng.shuffle(rows)
    logs = sorted({row[0] for row in rows})  # the reader judges the logs it is given
    limits = revocation_limits(crl, Certs(county.store.db).serials(), logs)
    direct = init_merged(Database(memory=True))
    cut = sorted(rng.sample(range(1, len(rows)), min(3, len(rows) - 1))) if len(rows) > 1 else []
    for lo, hi in zip([0, *cut], [*cut, len(rows)], strict=True):
        apply_entries(direct, rows[lo:hi], county="440104", limits=limits)
    hashes["from_origins"] = content_hash(direct)
    direct.close()
    return hashes


def due_at_county(world: World) -> list[Written]:
    """Every entry the ledger says the county should hold and merge: each node's logs
    (a revoked log only through valid_through), less what died with a restored PC."""
    county_db = world.db("440104")
    revoked = world.revoked_logs()
    out: list[Written] = []
    for code, node in world.nodes.items():
        for log in sorted(world.ledger.of_node(code)):
            bound = must_reach(world, node, log, _held(county_db, log))
            for w in _written(world, log)[:bound]:
                if log not in revoked or w.seq <= revoked[log].valid_through(log):
                    out.append(w)
    return out


def _merged_hashes(world: World) -> list[str]:
    hashes = merged_hashes(world)
    if len(set(hashes.values())) != 1:
        return [f"F7 merged hashes differ: {hashes}"]
    return []


def reference_violations(world: World) -> list[str]:
    """M1: the engine's merged rows (incremental and rebuilt) equal the reference merge."""
    county = world.county
    assert county.store is not None
    due = [(w.log, w.seq, w.hlc, w.ruleset, w.payload) for w in due_at_county(world)]
    want = reference_rows(due, "440104")
    rebuilt = init_merged(Database(memory=True))
    try:
        rebuild(county.store.db, rebuilt, revocations=load_revocations(county.data_dir))
        engines = {"rebuilt": engine_rows(rebuilt)}
    finally:
        rebuilt.close()
    if world.params.merges:
        engines["incremental"] = engine_rows(world.merged)
    out = []
    for name, rows in engines.items():
        for problem in differences(rows, want)[:10]:
            out.append(f"M1 {name} merge differs from the reference merge: {problem}")
    return out


def one_person_per_card(world: World, logs: dict[str, str]) -> list[str]:
    """P1: every entry the county merged into one record of a village (a local record:
    ``(origin, kind, line)``, county_aggregator/lines.py) was written about one person:
    ``world.meant`` says whom each write was about, as the officer meant it, outside any
    store. A local id reused for another person (an earlier release's restore, a stale
    copy's new card) must not join two people in one record."""
    county = world.county
    assert county.store is not None
    merged = init_merged(Database(memory=True))
    try:
        rebuild(county.store.db, merged, revocations=load_revocations(county.data_dir))
        rows = merged.execute("SELECT origin, kind, rid, versions FROM local_records").fetchall()
    finally:
        merged.close()
    out = []
    for origin, kind, rid, versions in sorted(rows):
        body = json.loads(versions)
        vids = [(body["l"][o[0]], o[1]) for o in body["o"]]
        vids += [(body["l"][r[0]], r[1]) for r in body["r"]]
        who: dict[str, tuple[str, int]] = {}
        for log, seq in sorted(vids):
            row = county.store.db.execute(
                "SELECT entry_hash FROM received_entries WHERE log = ? AND seq = ?", [log, seq]
            ).fetchone()
            idn = None if row is None else world.meant.get((log, seq, bytes(row[0])))
            if idn is not None and log in logs:
                who.setdefault(idn, (log, seq))
        if len(who) > 1:
            writes = ", ".join(f"{idn} ({log} {seq})" for idn, (log, seq) in sorted(who.items()))
            out.append(
                f"P1 record {origin}/{kind}/{rid} holds entries about {len(who)} people: {writes}"
            )
    return out


def ledger_violations(world: World) -> list[str]:
    """L1-L3: each node's store against what the ledger says the node wrote."""
    out: list[str] = []
    ledger = world.ledger
    for log, seq, held in ledger.forks():
        if _fork_excused(world, log, seq):
            continue
        out.append(f"L3 {ledger.owners[log]} wrote {len(held)} different entries at {log} {seq}")
    for code, node in world.nodes.items():
        assert node.store is not None
        stored: dict[str, dict[int, Written]] = {}
        for epoch in node.store.changelog.epochs():
            for entry in node.store.entries(epoch=epoch):
                w = Written.of(code, entry)
                stored.setdefault(w.log, {})[w.seq] = w
        for log, entries in sorted(stored.items()):
            for seq, w in sorted(entries.items()):
                if w not in ledger.logs.get(log, {}).get(seq, []):
                    out.append(
                        f"L1 {code} holds {log} {seq} in its own log, not a write the ledger "
                        "recorded (written twice, altered, or behind the officer's back)"
                    )
        for log, seqs in sorted(ledger.logs.items()):
            died = ledger.died.get(log)
            if ledger.owners[log] != code:
                continue
            for seq, held in sorted(seqs.items()):
                for w in held:
                    if stored.get(log, {}).get(seq) != w and (died is None or seq < died):
                        out.append(
                            f"L2 {code} wrote {log} {seq} (the officer saw it saved); its "
                            "store lost it"
                        )
    return out


# -- a forged node ---------------------------------------------------------------------


FORGED_KINDS = ("foreign_root", "impersonate", "stolen_cert")


def forged_attempt(world: World, kind: str | None = None) -> Forged:
    """A PC whose keys the county root never certified tries to sync with a township.

    ``foreign_root``: a new node code under the township, certified by another root;
    ``impersonate``: a real village's code, its own keys, certified by another root;
    ``stolen_cert``: a real village's genuine certificate, but not its private keys.
    """
    from tests.sim.world import Forged, county_admin

    rng = world.rng
    n = len(world.forged)
    town = rng.choice(world.of_kind("town"))
    kind = kind or rng.choice(FORGED_KINDS)
    villages = [v for v in world.of_kind("village") if v.parent == town.code]
    victim = rng.choice(villages)
    code = victim.code if kind != "foreign_root" else f"{town.code}9{n:02d}"
    data_dir = world.root / "forged" / str(n)
    store = NodeStore.init(data_dir, NodeId.for_code(code), "伪", Suite.CLASSIC, clock=town.clock)
    try:
        town_cert = load_certificate(town.data_dir, "node.cert")
        assert town_cert is not None
        if kind == "stolen_cert":  # a real node's certificate, but not its keys
            cert_raw = b""  # the certificate itself is genuine
            world.admin.enrol(
                data_dir, world.admin.issued(victim.code), town_cert, world.county_cert
            )  # type: ignore[arg-type]
        else:
            fake = county_admin(
                world.root / "forged" / f"admin-{n}", "440104", world.time.now, Suite.CLASSIC
            )
            cert = fake.certify(data_dir, world.time.now)
            fake.enrol(data_dir, cert, town_cert, world.county_cert)
            cert_raw = cert.raw
        for i in range(3):
            rid = store.new_id("person")
            store.write([store.upsert_op("person", rid, {"name": f"伪{i}"})])
        before = {c: _snapshot(world.db(c)) for c in (town.code, "440104")}
        with world.perfect_network():
            client = SyncClient(
                store,
                world.network.url(town.code),
                now_ms=town.clock,
                http=world.network.session(code),  # type: ignore[arg-type]
                sleep=world._sleep,
                rng=random.Random(n),
            )
            try:
                client.sync_round()
                outcome = "ACCEPTED: the round succeeded"
            except SyncFailed as exc:
                outcome = f"refused {exc.status} {exc.code}"
        after = {c: _snapshot(world.db(c)) for c in (town.code, "440104")}
        changed = [f"{c}.{t}" for c in before for t in TABLES if before[c][t] != after[c][t]]
    finally:
        store.close()
    world.note(f"forged {kind} {code} -> {town.code}: {outcome}; changed {changed}")
    return Forged(kind, code, town.code, outcome, cert_raw, changed)


def _snapshot(db: Database) -> dict[str, list[tuple[object, ...]]]:
    return {t: sorted(db.execute(f"SELECT * FROM {t}").fetchall()) for t in TABLES}


# -- one seed --------------------------------------------------------------------------


def check_seed(seed: int, root: Path) -> tuple[World, list[str]]:
    """Run seed ``seed`` (checking the step invariants after every step), heal, and
    return the world (closed) and every violation of the final invariants."""
    from tests.sim.world import World

    world = World(seed, root)
    try:
        world.checks.append(assert_step)
        world.run()
        world.heal()
        problems = final_violations(world)
        world.diagnosis = diagnose(world, problems) if problems else ([], [])
    finally:
        world.close()
    return world, problems


# -- reporting -------------------------------------------------------------------------


def report(world: World, problems: list[str], tail: int = 30) -> str:
    """What failed, which known bug it looks like, and the story of the run: every
    notable event (restores, crashes, partitions, clocks, refusals) and the heal's end."""
    found, unexplained = world.diagnosis
    run = [line for line in world.trace if not line.startswith("[-1]")]
    heal = [line for line in world.trace if line.startswith("[-1]") and not line.endswith(": idle")]
    boring = (" write ", ": idle", "merge: 0 entries")
    notable = [line for line in run[1:] if not any(b in line for b in boring)]
    lines = [
        f"seed {world.seed}: {len(problems)} invariant violation(s); "
        f"reproduce with: pytest tests/sim --seed {world.seed}",
        *(f"  {p}" for p in problems[:40]),
        *(f"known: {KNOWN_BUGS[letter]}" for letter in found),
        *(["not explained by a known bug:"] if found and unexplained else []),
        *(f"  {p}" for p in (unexplained if found else [])[:20]),
        f"network: {dict(sorted(world.network.counts.items()))}",
        *run[:1],
        f"notable steps of the run ({len(notable)}):",
        *notable[:150],
        f"end of the heal phase (rounds that were not idle, last {tail}):",
        *heal[-tail:],
    ]
    return "\n".join(lines)


# -- known bugs ------------------------------------------------------------------------

# Bug letter -> what the simulation found and which code is at fault; seeds.py BUG_SEEDS
# names seeds that show one. Empty: A (a restored relay's overlapping batch: the county
# now takes an overlap whose held part matches, node/sync/receive.py), B (the county's
# ack of a forward never passed down: client._ask_ack; a 401 replay is retried), C (a
# kept client never re-introduced a certificate: client._introduce), D (the merged db
# after a county restore: county_aggregator), E (a restored relay's outbox numbered
# below the cursor: client._reset_inbox_if_renumbered and the outbox mark) and G (a
# revoked log a restored relay lost, never idle: revoked.revoked_wanted), H (a
# township dropped an expired copy a restored village could not send again: it hands
# it back, node/sync/returned.py) and I (a replacement PC that typed past the county's
# head of the dead PC's log kept that other history as a closed epoch, never idle: the
# recovery drops what it writes again, node/store/changelog.py forget_after) are fixed
# and pinned by test_regressions.py. To pin a new bug, add its letter here, the symptoms
# it explains to _EXPLAINS and a heuristic that recognises it to diagnose.
KNOWN_BUGS: dict[str, str] = {}
_EXPLAINS: dict[str, tuple[str, ...]] = {}


def diagnose(world: World, problems: list[str]) -> tuple[list[str], list[str]]:
    """(known bug letters whose symptoms showed, problems none of them explains).

    A heuristic over the trace and the final state, good enough to sort the failures of
    thousands of seeds; the test_bug_* scenarios in test_regressions.py pin each bug.
    """
    found: list[str] = []
    covered = {kind for letter in found for kind in _EXPLAINS[letter]}
    unexplained = [p for p in problems if p[:2] not in covered]
    return found, unexplained
