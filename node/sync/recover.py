# SPDX-License-Identifier: Apache-2.0
"""``renkou node recover`` without the terminal: ask the parent for our cards, then read
our outbox until the county's snapshot is there (SPEC.md §8.10).

The request goes over a session like any sync request; it is kept (and sent again, the
same bytes, until answered) so a retry never makes a second snapshot the PC would
ignore. Reading the outbox here pushes nothing: a new PC's own log is one install
entry that the snapshot replaces, and pushing it first would only be refused as a fork.
"""

from __future__ import annotations

from secrets import token_bytes

from node.store.recovery import Recovery, RecoveryEvent
from node.store.store import NodeStore
from node.sync.acks import AckBook
from node.sync.client import STATE_PATH, SyncClient
from node.sync.failures import SyncFailed
from node.sync.intake import Intake
from node.sync.recovered import RECOVERY_PATH
from node.sync.round import Round
from protocol import ProtocolError, decode_state
from protocol.recovery import decode_recovery_request, make_recovery_request


def ask(client: SyncClient, *, again: bool = False) -> str:
    """Send our request (the one waiting, unless ``again`` or none); its id.

    Raises:
        SyncFailed: the parent refused it (its code says why: ``recovery.nothing_held``
            when the county holds nothing of our node, and the request waits no more)
            or could not be reached.
    """
    store = client.store
    recovery = Recovery(store.db)
    raw = None if again else recovery.pending()
    if raw is None:
        own = client.round.trust.own("node.cert")
        signing = store.identity.signing
        raw = make_recovery_request(
            signing, store.node, own.serial, own.raw, client.now_ms(), token_bytes(16)
        )
        with store.db.atomic():
            recovery.set_pending(raw)
    try:
        client.link.call("POST", RECOVERY_PATH, raw)
    except SyncFailed as exc:
        if exc.code.startswith("recovery.") and 400 <= exc.status < 500:
            with store.db.atomic():  # answered, by a refusal: no snapshot is coming
                recovery.clear_pending()
        raise
    return decode_recovery_request(raw).id


def collect(client: SyncClient) -> RecoveryEvent | None:
    """Read our outbox once; the recovery, if the snapshot came and was taken.

    Raises:
        SyncFailed: the parent could not be reached, or its answer is not readable.
    """
    store = client.store
    r = client.round = Round(store, client.round.trust, client.link, client.now_ms)
    client.link.traffic = r.report
    intake = Intake(r, AckBook(r))
    body = client.link.call("GET", f"{STATE_PATH}?c={intake.cursor()}").content
    try:
        state = decode_state(body)
    except ProtocolError as exc:
        raise SyncFailed(f"the parent's state is not readable: {exc}") from None
    intake.reset_if_renumbered(state.outbox, state.mark)
    if state.outbox > intake.cursor():
        intake.pull(state.outbox)
    return taken(store)


def taken(store: NodeStore) -> RecoveryEvent | None:
    """The last recovery, once no request waits any more (None while one does)."""
    recovery = Recovery(store.db)
    events = recovery.events()
    return events[-1] if events and recovery.pending() is None else None
