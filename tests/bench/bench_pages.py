# SPDX-License-Identifier: Apache-2.0
"""Operator pages on a 5,000-resident village, through the WSGI app (issue 15).

"pages.search": an officer's search (the POST and the results page it leads to) by
name, pinyin initials and last digits of an ID number. "pages.card": opening a card
(an audited read, household, events, open items, history from the log). "pages.save":
a correction through the form, a validated write with its log entry and audit row.
Each gives ``p95_ms`` over the run, after one warm-up request whose time is reported
as ``cold_ms`` (the first search builds the search index, the first card the index
of log entries per record). "pages.weight": the card page with its stylesheets and
scripts, in KB. "pages.rss": a fresh process with the app loaded, signed in, one search
and one card served: resident memory now (``mb``) and at its peak (``peak_mb``, which
includes the 64 MiB Argon2id costs each sign-in while it runs).
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from node.pages.accounts import add_operator
from node.server import create_app
from node.store.accounts import OperatorStore
from node.store.store import NodeStore
from protocol import NodeId

VILLAGE = NodeId.for_code("441322119001")
NAME, PASSWORD = "王芳", "bench password 1"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_ASSET = re.compile(r'(?:href|src)="(/assets/[^"]+)"')


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 1)


def _timed(fn: Callable[[int], None], n: int) -> tuple[float, float]:
    """(cold ms of the first call, p95 ms of the other n)."""
    t0 = time.perf_counter()
    fn(0)
    cold = (time.perf_counter() - t0) * 1000
    samples = []
    for i in range(1, n + 1):
        t0 = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - t0)
    return round(cold, 1), _p95(samples)


def _village(root: Path, residents: int) -> Path:
    from node.synth import generate_village

    store = NodeStore.init(root / "v", VILLAGE, "上南村")
    generate_village(store, residents=residents, months=12, seed=1, start=date(2025, 10, 1))
    add_operator(OperatorStore(store.db), NAME, "village_officer", PASSWORD, 0)
    store.close()
    return root / "v"


def _people(data_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    store = NodeStore.open(data_dir)
    try:
        return list(store.records("person"))
    finally:
        store.close()


def run(quick: bool = False) -> Iterator[dict[str, Any]]:
    residents, n = (1000, 40) if quick else (5000, 200)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = _village(Path(tmp), residents)
        people = _people(data_dir)
        client = create_app({"RENKOU_DATA_DIR": str(data_dir)}).test_client()
        token = _CSRF.search(client.get("/login").get_data(as_text=True))
        assert token is not None
        client.post("/login", data={"name": NAME, "password": PASSWORD, "csrf_token": token[1]})
        token = _CSRF.search(client.get("/people").get_data(as_text=True))
        assert token is not None
        csrf = token[1]
        rng = random.Random(3)
        queries = _queries(people, rng, n + 1)
        common = {"residents": residents, "samples": n, "through": "WSGI test client"}

        def search(i: int) -> None:
            sent = client.post("/people", data={"q": queries[i], "csrf_token": csrf})
            assert client.get(sent.headers["Location"]).status_code == 200

        cold, p95 = _timed(search, n)
        yield {"name": "pages.search", "p95_ms": p95, "cold_ms": cold, **common}
        picks = [rng.choice(people)[0] for _ in range(n + 1)]

        def card(i: int) -> None:
            assert client.get(f"/people/{picks[i]}").status_code == 200

        cold, p95 = _timed(card, n)
        yield {"name": "pages.card", "p95_ms": p95, "cold_ms": cold, **common}
        yield from _save(client, csrf, people, rng, n, common)
        yield _weight(client, picks[0])
    yield from _rss(quick)


def _queries(people: list[tuple[str, dict[str, Any]]], rng: random.Random, n: int) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    out = []
    for i in range(n):
        data = rng.choice(people)[1]
        name = str(data.get("name", ""))
        out.append(
            (name, "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)),
             str(data.get("id_number", ""))[-4:])[i % 3]
        )  # fmt: skip
    return out


def _save(
    client: Any,
    csrf: str,
    people: list[tuple[str, dict[str, Any]]],
    rng: random.Random,
    n: int,
    common: dict[str, Any],
) -> Iterator[dict[str, Any]]:
    # Women well inside 15-49: a card aged out of the band is refused on correction.
    live = [
        (rid, d)
        for rid, d in people
        if d.get("card_type") == "woman" and "1980" < str(d.get("birth_date")) < "2005"
    ]
    picks = rng.sample(live, min(len(live), n + 1))

    refused: list[int] = []

    def save(i: int) -> None:
        rid, data = picks[i % len(picks)]
        form = {k: v for k, v in data.items() if isinstance(v, str)}
        form.update(phone=f"139{i:08d}", csrf_token=csrf)
        answer = client.post(f"/records/person/{rid}/edit", data=form)
        if answer.status_code != 302:  # a card the domain's checks refuse: counted
            assert answer.status_code in (400, 422), answer.status_code
            refused.append(i)

    cold, p95 = _timed(save, min(n, len(picks) - 1))
    yield {"name": "pages.save", "p95_ms": p95, "cold_ms": cold, "refused": len(refused), **common}


def _weight(client: Any, record_id: str) -> dict[str, Any]:
    page = client.get(f"/people/{record_id}")
    html = page.get_data()
    assets = sorted(set(_ASSET.findall(page.get_data(as_text=True))))
    sizes = {a: len(client.get(a).get_data()) for a in assets}
    total = len(html) + sum(sizes.values())
    return {
        "name": "pages.weight",
        "kb": round(total / 1024, 1),
        "html_kb": round(len(html) / 1024, 1),
        "assets": {a: round(s / 1024, 1) for a, s in sizes.items()},
    }


RSS = """
import re, sys
from node.server import create_app
client = create_app({"RENKOU_DATA_DIR": sys.argv[1]}).test_client()
csrf = lambda html: re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
client.post("/login", data={"name": sys.argv[2], "password": sys.argv[3],
            "csrf_token": csrf(client.get("/login").get_data(as_text=True))})
token = csrf(client.get("/people").get_data(as_text=True))
sent = client.post("/people", data={"q": "王", "csrf_token": token})
client.get(sent.headers["Location"])
client.get("/people/P100")
status = {l.split(":")[0]: int(l.split()[1]) for l in open("/proc/self/status")
          if l.startswith(("VmRSS", "VmHWM"))}
print(status["VmRSS"], status["VmHWM"])
"""


def _rss(quick: bool) -> Iterator[dict[str, Any]]:
    residents = 1000 if quick else 5000
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = _village(Path(tmp), residents)
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
        out = subprocess.run(
            [sys.executable, "-c", RSS, str(data_dir), NAME, PASSWORD],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    yield {
        "name": "pages.rss",
        "mb": round(int(out[0]) / 1024, 1),
        "peak_mb": round(int(out[1]) / 1024, 1),
        "residents": residents,
    }
