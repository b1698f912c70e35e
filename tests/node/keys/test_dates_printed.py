# SPDX-License-Identifier: Apache-2.0
"""Issue 14 item 6: every date and time the keys commands print is a local time
(Asia/Shanghai) in Chinese and ISO form, never milliseconds (``keys enrol`` printed
``valid until 1859572014682``)."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from deploy.cli import cli
from node.keys.dates import local_date, local_time, readable

LOCAL = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d（\d{4}-\d\d-\d\dT\d\d:\d\d\+08:00）")
MILLISECONDS = re.compile(r"\d{13}")


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_local_forms() -> None:
    # 2026-12-31T16:30Z is already 2027-01-01 in Shanghai.
    ms = 1_798_734_600_000
    assert local_time(ms) == "2027年1月1日 00:30（2027-01-01T00:30+08:00）"
    assert local_date(ms) == "2027年1月1日（2027-01-01）"
    assert readable(f"valid {ms}..{ms + 60_000}") == (
        "valid 2027年1月1日 00:30（2027-01-01T00:30+08:00）.."
        "2027年1月1日 00:31（2027-01-01T00:31+08:00）"
    )
    assert readable("village:440104001002 seq 12") == "village:440104001002 seq 12"


def test_every_keys_command_prints_local_times(tmp_path: Path) -> None:
    admin, root, county = tmp_path / "admin", tmp_path / "root", tmp_path / "440104"
    outputs = {
        "init-county": run("keys", "init-county", "--code", "440104", "--admin-dir", str(admin),
                           "--root-dir", str(root)),
    }  # fmt: skip
    run("node", "init", "--code", "440104", "--name", "县", "--data-dir", str(county))
    outputs["enrol"] = run("keys", "enrol", "--admin-dir", str(admin), "--data-dir", str(county))
    outputs["invite"] = run(
        *("keys", "invite", "--node", "440104001", "--role", "township", "--expires", "48h"),
        *("--page", str(tmp_path / "p.html"), "--admin-dir", str(admin)),
    )
    run("node", "init", "--code", "440104001", "--name", "镇", "--data-dir", str(tmp_path / "t"))
    run("keys", "enrol", "--admin-dir", str(admin), "--data-dir", str(tmp_path / "t"))
    run("keys", "revoke", "--code", "440104001", "--reason", "lost", "--admin-dir", str(admin),
        "--county-data-dir", str(county))  # fmt: skip
    outputs["node install-revocations"] = run(
        "node", "install-revocations", str(admin / "revocations.signed"),
        "--data-dir", str(tmp_path / "t"),
    )  # fmt: skip
    for name, out in outputs.items():
        assert not MILLISECONDS.search(out), (name, out)
        if name == "enrol":  # the certificate's last day, local, in ISO form
            assert re.search(r"\d{4}-\d\d-\d\d", out), (name, out)
        else:
            assert LOCAL.search(out), (name, out)
    assert len(LOCAL.findall(outputs["init-county"])) == 2  # the root's and the issuing key's
