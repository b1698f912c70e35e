# SPDX-License-Identifier: Apache-2.0
"""Which simulation seeds run where, and the seeds that show a known bug.

``CI_SEEDS`` run on every ``pytest`` (about 0.6 s each on a 2-core machine; issue 6
asks for a few hundred), chosen so that every kind of fault in ``FAULT_KINDS`` happens
at least ``MIN_FAULTS`` times among them; ``SLOW_SEEDS`` under ``-m slow``. A seed in
``BUG_SEEDS`` (seed -> bug letter, see ``invariants.KNOWN_BUGS``) runs as
``xfail(strict=True)`` wherever it appears: once the bug is fixed it passes, the strict
xfail turns red, and the seed moves to ``REGRESSION_SEEDS`` (tests/sim/test_regressions.py
runs both lists).
"""

from __future__ import annotations

# A county restore happens in 3 of the first 200 seeds; these add 10 more, so that every
# fault kind happens at least MIN_FAULTS times across the CI seeds (test_sim.py checks).
COUNTY_RESTORE_SEEDS = [271, 276, 321, 329, 347, 358, 364, 397]
# Townships losing kept copies of their villages' batches (issue 12 item 2) happen from
# seed 400 on (world.py LOST_COPIES_FROM); these are the first seeds that draw it.
LOST_COPIES_SEEDS = [402, 408, 411, 420, 424, 425, 427, 428, 429, 431, 433, 439]
# Village PCs restored (some by an earlier release that reused record ids) happen from
# seed 600 on (world.py VILLAGE_RESTORE_FROM); townships that acknowledge and withhold a
# village's batches from seed 800 on (WITHHOLDING_FROM). The first seeds that draw them
# and pass (615, which showed bug H, is in REGRESSION_SEEDS); 691 and 846 give a reused id.
VILLAGE_RESTORE_SEEDS = [606, 607, 610, 644, 652, 660, 664, 669, 686, 691]
WITHHOLDING_SEEDS = [807, 812, 814, 815, 822, 827, 830, 836, 839, 840, 846, 849]
# Village PCs copied back by hand (issue 12, tests/sim/hand_copy.py) happen from seed
# 1000 on (world.py HAND_COPY_FROM): seeds that draw it and pass, among them 1004, 1038,
# 1052 and 1061, where the officer runs the new-epoch the fork's refusal asks for.
HAND_COPY_SEEDS = [1004, 1016, 1019, 1035, 1038, 1052, 1061, 1065, 1079, 1088]
# A village PC dying with its data dir, and a replacement PC recovering the village from
# upstream (issue 12 item 7, tests/sim/replace_pc.py), happen from seed 5000 on (world.py
# REPLACE_PC_FROM): seeds that draw it and pass, 5080, 5164, 5166 and 5176 with cards
# typed on the new PC before recovering; 5156 and 5468, where the township's copy of what
# the dead PC sent expired while it withheld it (5156) or was cut off (5468), and nobody
# can renew it (the excuse's case, invariants._expired_unrenewable).
REPLACE_PC_SEEDS = [5000, 5035, 5050, 5080, 5105, 5152, 5156, 5164, 5166, 5176, 5217, 5224, 5468]
CI_SEEDS = [
    *range(200),
    *COUNTY_RESTORE_SEEDS,
    *LOST_COPIES_SEEDS,
    *VILLAGE_RESTORE_SEEDS,
    *WITHHOLDING_SEEDS,
    *HAND_COPY_SEEDS,
    *REPLACE_PC_SEEDS,
]
SLOW_SEEDS = range(200, 10_200)

MIN_FAULTS = 10
"""Each kind of fault must happen at least this often across the CI seeds."""
FAULT_KINDS = (
    # of the network (tests/sim/transport.py, SimNetwork.counts)
    "drop_request",
    "drop_response",
    "duplicate",
    "delay",
    "stale_delivered",
    "server_crash",
    "client_crash_before",
    "client_crash_after",
    "partitioned",
    # of the world (tests/sim/world.py, World.events)
    "crash",
    "restore_town",
    "restore_county",
    "clock_jump",
    "partition",
    "revoke",
    "forged_foreign_root",
    "forged_impersonate",
    "forged_stolen_cert",
    "interleave",
    "lose_copies",  # issue 12: a township's disk loses kept copies
    "restore_village",  # issue 12: `renkou node restore` of a village PC
    "withhold",  # issue 12: a township acknowledges a village's batches, hands none up
    "copy_back",  # issue 12: a village PC's database copied back by hand
    "replace_pc",  # issue 12: a village PC dies, a replacement recovers from upstream
    "alert_county_lag",  # not a fault: the delivery alert was up (A1 judged it)
)
CASES = {"restore_earlier_release": 5, "id_reused": 3}
"""Cases the faults must produce across the CI seeds, at least this often: a village PC
restored by an earlier release, which issued record ids without the epoch, and a record
id the lost period gave one person given to another by it (P1 judges it)."""

BUG_SEEDS: dict[int, str] = {}

# Seeds that showed a bug once, run on every pytest (tests/sim/test_regressions.py runs
# those outside CI_SEEDS; the others run there anyway).
REGRESSION_SEEDS: list[int] = [
    4,  # A: township restored from a backup -> 409 bad_chain for ever
    12,  # A
    61,  # A
    38,  # B: county's ack of a forwarded batch never passed down to the village
    106,  # B
    138,  # B
    233,  # E: township restored from a backup -> outbox numbered below the cursor
    150,  # the county refuses to be introduced to a revoked certificate: a relay asking
    #       again for the ack of a revoked log never got it, and never went idle
    366,  # G (minor): township restored, lost a revoked village's log -> never idle
    510,  # E
    1168,  # county restored before it knew a revoked village's certificate: /certs refused
    #        the revoked certificate, entries valid through valid_through never came back
    615,  # H: a restored village's batch, acknowledged by its township, expired there and
    #       was dropped; the restored PC could not send it again
    1466,  # a restored township's only copy expired before the county's ack came back:
    #        never idle, the village never acknowledged (replays the failing run only with
    #        world.WITHHOLDING_FROM raised; test_regressions pins it by hand)
    1521,  # an epoch both its holders (the township PC, the county) lost to restores
    3814,  # a copy handed back across the head the restored PC reached again: never sent
    #        (3791 the same)
    3664,  # a copy handed back of a whole epoch (restored twice): its prev_hash never 0
    1669,  # a restore reopened an epoch a lost copy had written (A1 kept its lost acks)
    1745,  # a revoked village's earlier epoch, never at the county: valid through 0
    1864,  # an epoch the officer opened died unsent and was opened again (checker crash)
    1971,  # a closed log cut by a hand copy's new epoch pushed past its cut (the copy's
    #        abandoned entries): the township's head ended inside the copies handed back
    3693,  # a township's disk lost a batch, the village PC was copied back from before
    #        it: no holder left, its acknowledgement binds no more (2125, 2272 the same)
    4021,  # a restored township lacked a child's epoch only the county held: never idle
    3261,  # a copy handed back past a gap nobody can fill (the township's disk, a hand
    #        copy from before it, the new epoch's cut): kept for ever, never at the county
    2516,  # a copy put back after an older one kept no date of its township's ack (A1)
    3239,  # a township lost the county's answer, then its copies: held as far as the
    #        county, no ack, nothing to send again: never idle (relay.py _show_child)
    3336,  # the same (every copy of the log lost)
    5001,  # I: a replacement PC typed past the county's head of the dead PC's log, kept
    #        its own history of it as a closed epoch: never idle (recovered.py)
    5008,  # I, and its township, which had lost the log, took that history
    5010,  # I
    5311,  # a replacement PC restored (and copied back) before it recovered: its typed
    #        cards in a closed first log, another history of the dead PC's, made it
    #        refuse every snapshot ('ask again after a sync'), never idle
    5238,  # the same, without the hand copy
    5221,  # the county, put back from an old backup, held nothing of a village whose PC
    #        died: the township dropped the county's refusal, the officer waited for ever
    5343,  # a township's copy expired while it was cut off, and the PC that alone could
    #        renew it died (the excuse of 5156 and 5468)
]
