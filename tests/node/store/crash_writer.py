# SPDX-License-Identifier: Apache-2.0
"""Writer process for the crash loop: writes hand-made records until killed.

Prints ``ack <seq>`` only after the write's transaction committed (with a full sync),
which is the moment an officer would see "saved".
"""

from __future__ import annotations

import sys

from node.store.store import NodeStore


def main(data_dir: str) -> None:
    store = NodeStore.open(data_dir)
    n = 0
    while True:
        n += 1
        rid = store.new_id("person")
        entry = store.write([store.upsert_op("person", rid, {"name": f"人{n}", "n": n})])
        if n % 3 == 0:
            store.write([store.upsert_op("person", rid, {"n": -n})])
        print(f"ack {entry.seq}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
