# SPDX-License-Identifier: Apache-2.0
"""The township's monthly review of its villages' changes (信息质量检查, 篇4 第44条).

What the review may keep of a village's batch (fields.py), copying it out before the
township takes its own wrap out (intake.py, called by node/sync/relay.py), and the
review itself, every read audited (listing.py; ``renkou node review``). The table and
its review window belong to node/store/review.py; SPEC.md §6.3.2 says what a township
may read, and for how long.
"""
