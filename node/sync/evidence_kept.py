# SPDX-License-Identifier: Apache-2.0
"""At the end of every round: refused envelopes kept whole past the evidence limit keep
only their wrap-free evidence (node/store/evidence.py; SPEC.md §6.3.2).

A township keeps a batch it refused (quarantined, or the other side of a fork) for its
administrator. As it came, that batch still holds the township's own wrap, so the
township, or whoever takes its PC with its key, could open it. After
``RENKOU_EVIDENCE_DAYS`` (30 by default) only the evidence form stays: who sent which
batch to whom, signed, with no wrap and no ciphertext. Cut bytes are zeroed in the file
(``secure_delete``) and the WAL is emptied, as for the relay's own copies (relay.py).
"""

from __future__ import annotations

from node.store.evidence import Evidence, evidence_days
from node.store.holdings import Holdings
from node.store.store import NodeStore


def keep_wrap_free(store: NodeStore, now_ms: int) -> int:
    """Cut the evidence kept whole past the limit; return how many were cut.

    Raises:
        NodeError: ``evidence_days``, a ``RENKOU_EVIDENCE_DAYS`` that is not 1 to 90.
    """
    days = evidence_days()
    with store.db.atomic():
        cut = Evidence(store.db).keep_wrap_free(now_ms, days)
    if cut:
        Holdings(store.db).flush_freed()
    return cut
