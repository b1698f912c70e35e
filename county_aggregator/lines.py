# SPDX-License-Identifier: Apache-2.0
"""Which record a local id names: the county never joins two records because their ids
collide (issue 12).

A village issues each local id once, but only within one history: a PC restored from a
backup by an earlier release counted ids from where the backup stood, and a copy put
back by hand did the same, so the lost period's ``P2`` and the new epoch's ``P2`` can be
two women. Each epoch's first entry names the head it continues from (SPEC §3.5,
``(prev epoch, prev seq)``): a log *sees* its own entries, and those of the log it
continues up to that seq, and so on back. So:

* the **root** of a local id in a log is the oldest entry it sees that wrote that id
  (oldest along the chain of epochs; an older log's entries past the seq the chain
  continues from are not seen: they are the lost period);
* writes of one id belong to one record, a **line**, exactly when their logs have the
  same root; a reference from a log names the line of its root there (none: the record
  it names is not at the county, and its key is the line that log would start).

A line is named by the epoch of its root's log: the plain local id when that is the
epoch the id was issued in (``P2`` in epoch 1, ``P2.3`` in epoch 3: node/store/store.py
``new_id``), so every card of an undisturbed history keeps its name, else
``<local id>@<epoch>`` (``@`` is not allowed in a record id, SPEC §10).

Everything here is a function of the entries held, so the merge stays one (design.md):
when an entry or an epoch link arrives that changes a root, the engine splits or joins
the lines again (engine.py).
"""

from __future__ import annotations

import re

Links = dict[str, tuple[str, int]]
"""``{log: (the log it continues, the last seq of it that it sees)}``."""

_ISSUED = re.compile(r".*\.([1-9][0-9]{0,9})\Z")


def epoch_of(log: str) -> int:
    return int(log.rpartition("#")[2])


def link_of(log: str, prev_epoch: int, prev_seq: int) -> tuple[str, int]:
    """The link an epoch op of ``log`` states (``prev_epoch`` > 0)."""
    return f"{log.rpartition('#')[0]}#{prev_epoch}", prev_seq


def issued_in(card: str) -> int:
    """The epoch a local id was issued in, as its spelling says (1 without a suffix)."""
    if "." not in card:
        return 1  # every id of epoch 1 (checked first: the merge asks once per new card)
    found = _ISSUED.match(card)
    return int(found.group(1)) if found else 1


def line_name(card: str, root_log: str) -> str:
    epoch = epoch_of(root_log)
    return card if epoch == issued_in(card) else f"{card}@{epoch}"


def chain(log: str, links: Links) -> list[tuple[str, int | None]]:
    """``log`` (every seq seen) and the logs it continues, each with the last seq it sees,
    newest first."""
    out: list[tuple[str, int | None]] = [(log, None)]
    seen = {log}
    while log in links:
        log, cut = links[log]
        if log in seen:
            break  # a loop only a forged link could make: stop at the first repeat
        seen.add(log)
        out.append((log, cut))
    return out


def root(log: str, firsts: dict[str, int], links: Links) -> str | None:
    """The log of the oldest write ``log`` sees (``firsts``: ``{log: first seq that wrote
    the id}``), or None when it sees none."""
    found = None
    for held, cut in chain(log, links):
        first = firsts.get(held)
        if first is not None and (cut is None or first <= cut):
            found = held
    return found


def partition(firsts: dict[str, int], links: Links) -> dict[str, str]:
    """``{log: root log}`` of every log that wrote the id."""
    out = {}
    for log in firsts:
        found = root(log, firsts, links)
        assert found is not None  # a log sees its own writes
        out[log] = found
    return out
