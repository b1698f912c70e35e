# SPDX-License-Identifier: Apache-2.0
"""``renkou county …`` through click's CliRunner, on a county node directory."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from county_aggregator.cli import county
from deploy.cli import cli
from node.store.audit import first_break
from tests.county_aggregator.scenario import Villages, county_db
from tests.county_aggregator.test_rules import H, R, two_cards


@pytest.fixture
def county_dir(villages: Villages, tmp_path: Path) -> Path:
    two_cards(villages, hukou_knows=False)
    villages.write(H, "person", "P1", {"phone": "13700000000"})
    villages.write(R, "person", "P7", {"phone": "13600000000"})
    store = county_db(tmp_path, villages.entries(), villages.clock)
    store.close()
    return store.data_dir


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, ["--lang", "en", "county", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_rebuild_merge_conflicts_resolve_quality(county_dir: Path) -> None:
    d = ["--data-dir", str(county_dir)]
    assert "entries merged" in run("rebuild", *d, "--merged", str(county_dir / "m.db"))
    assert "Merged: 0 entries" in run("merge", *d, "--merged", str(county_dir / "m.db"))
    run("merge", *d)  # the default merged.db in the data dir
    items = json.loads(run("conflicts", "list", *d, "--json"))
    phone = next(i for i in items if "phone" in i["fields"])
    assert phone["status"] == "open"
    shown = run("conflicts", "show", phone["id"][:8], *d)
    assert phone["id"] in shown and "phone" in shown
    assert "Advisory written" in run("conflicts", "resolve", phone["id"], "--choose", "b", *d)
    assert "advised" in run("conflicts", "list", *d, "--status", "advised")
    pending = json.loads(run("advisories", *d, "--json"))
    assert any(p["conflict"] == phone["id"] for p in pending)
    assert isinstance(json.loads(run("quality", *d, "--json")), list)


def test_unknown_conflict_is_a_bilingual_error(county_dir: Path) -> None:
    run("merge", "--data-dir", str(county_dir))
    result = CliRunner().invoke(
        cli, ["county", "conflicts", "show", "ffff", "--data-dir", str(county_dir)]
    )
    assert result.exit_code == 1
    assert "conflict_not_found" in result.output


def test_every_command_has_an_example() -> None:
    """style.md: hyphenated verbs, an ``Example:`` block in every docstring."""
    import click

    def walk(group: click.Group) -> list[click.Command]:
        out: list[click.Command] = []
        for command in group.commands.values():
            out += walk(command) if isinstance(command, click.Group) else [command]
        return out

    for command in walk(county):
        # The docstring, in English: ``help`` is in the language of the last run.
        assert "Example:" in (command.callback.__doc__ or ""), command.name
        assert command.name == command.name.lower() and "_" not in (command.name or "")


def test_the_merged_database_is_private_to_its_user(county_dir: Path, tmp_path: Path) -> None:
    """Issue 13, fact 8 (the county's part): merged.db was created 0644 under the usual
    umask. The ``renkou`` command runs under umask 077, so every file it creates is its
    user's alone; the caller's umask is back when it returns."""
    merged = tmp_path / "m.db"
    before = os.umask(0o022)
    try:
        run("merge", "--data-dir", str(county_dir), "--merged", str(merged))
        assert os.umask(0o022) == 0o022
    finally:
        os.umask(before)
    assert stat.S_IMODE(merged.stat().st_mode) == 0o600


# -- issue 13, fact 9: what the county's commands show of people is audited -------------

HOSTILE = "136\u202e0000\x1b[2J0000\u200b"
"""A value from a node that predates the text checks: a bidi override, an ANSI escape
that clears the screen, a zero-width space."""


def county_trail(county_dir: Path) -> list[tuple[str, str, str, str, str]]:
    from node.store.store import NodeStore

    store = NodeStore.open(county_dir)
    try:
        rows = store.db.execute(
            "SELECT actor, action, kind, record_id, purpose FROM audit ORDER BY rowid"
        ).fetchall()
        assert first_break(store.db) is None  # the trail is whole
        return [tuple(r) for r in rows]
    finally:
        store.close()


def test_every_county_command_that_shows_people_writes_an_audit_row(county_dir: Path) -> None:
    """`county quality` prints ID numbers, `conflicts list/show` and `advisories` keys
    and values: each leaves rows naming who, which records and why (the time too) in
    the county node's audit trail, before it prints. Before, none did."""
    d = ["--data-dir", str(county_dir)]
    who = ["--actor", "县局张科长"]
    run("merge", *d)
    assert county_trail(county_dir) == []
    findings = json.loads(run("quality", *d, *who, "--stale-months", "1", "--json"))
    assert findings, "the scenario has quality findings"
    trail = county_trail(county_dir)
    assert {(r[0], r[1], r[4]) for r in trail} == {
        ("县局张科长", "county_quality", "data quality check")
    }
    assert {(r[2], r[3]) for r in trail} == {(f["kind"], f["key"]) for f in findings}
    items = json.loads(run("conflicts", "list", *d, *who, "--json"))
    phone = next(i for i in items if "phone" in i["fields"])
    run("conflicts", "show", phone["id"][:8], *d, *who, "--purpose", "核对电话号码")
    run("conflicts", "resolve", phone["id"], "--choose", "b", *d)
    run("advisories", *d, *who)
    shown = county_trail(county_dir)[len(trail) :]
    actions = {(r[1], r[2], r[3], r[4]) for r in shown}
    assert ("county_conflicts", "person", phone["key"], "conflict queue review") in actions
    assert ("county_conflict", "person", phone["key"], "核对电话号码") in actions
    assert any(a[0] == "county_advisories" for a in actions)
    assert all(r[0] == "县局张科长" for r in shown)


@pytest.fixture
def hostile_dir(villages: Villages, tmp_path: Path) -> Path:
    two_cards(villages, hukou_knows=False)
    villages.write(H, "person", "P1", {"phone": "13700000000"})
    villages.write(R, "person", "P7", {"phone": HOSTILE})
    store = county_db(tmp_path, villages.entries(), villages.clock)
    store.close()
    return store.data_dir


def test_a_hostile_value_is_escaped_on_the_county_terminal(hostile_dir: Path) -> None:
    """Issue 13, fact 11 at the county: `conflicts show` prints field values; a bidi
    override, an escape sequence or a zero-width space arrives escaped, in the text and
    in the JSON (which stays valid JSON with the value intact)."""
    d = ["--data-dir", str(hostile_dir)]
    run("merge", *d)
    ids = [i["id"] for i in json.loads(run("conflicts", "list", *d, "--json"))]
    raw = next(r for r in (run("conflicts", "show", i, *d, "--json") for i in ids) if "202e" in r)
    text = run("conflicts", "show", json.loads(raw)["id"], *d)
    for out in (text, raw):
        assert not any(ch in out for ch in "\u202e\x1b\u200b")
    assert "\\u202e" in text and "\\u200b" in text  # escaped, visible
    values = {f["field"]: (f["a"], f["b"]) for f in json.loads(raw)["fields"]}
    assert HOSTILE in values["phone"]


def test_quality_findings_are_said_in_chinese_and_json_keeps_its_shape(county_dir: Path) -> None:
    """Issue 15 item 10: each finding's words through the catalogue on the terminal;
    --json keeps its fields (``detail`` in English), nothing added."""
    from tests.node.english import english_runs

    d = ["--data-dir", str(county_dir), "--stale-months", "1"]
    run("merge", "--data-dir", str(county_dir))
    rows = json.loads(run("quality", *d, "--json"))
    assert rows and {tuple(sorted(r)) for r in rows} == {
        ("check", "detail", "key", "kind", "village")
    }
    assert any(r["detail"].startswith("no change since") for r in rows)
    zh = CliRunner().invoke(cli, ["county", "quality", *d], env={"LANG": "zh_CN.UTF-8"})
    assert zh.exit_code == 0 and "起未更新" in zh.output, zh.output
    assert english_runs(zh.output) == [], zh.output
    assert "no change since" in run("quality", *d)
    where = ["--data-dir", str(county_dir)]
    item = json.loads(run("conflicts", "list", *where, "--json"))[0]
    shown = CliRunner().invoke(
        cli, ["county", "conflicts", "show", item["id"][:8], *where], env={"LANG": "zh_CN.UTF-8"}
    )
    assert shown.exit_code == 0 and "暂定" in shown.output, shown.output
    assert english_runs(shown.output) == [], shown.output
    assert "(provisional: " in run("conflicts", "show", item["id"][:8], *where)
