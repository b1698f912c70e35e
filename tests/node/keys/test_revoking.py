# SPDX-License-Identifier: Apache-2.0
"""Issue 13, fact 4: `renkou keys revoke` saved revocations.json before checking the new
list, so revoking one PC twice, or a seq above 2^53-1, broke every later revocation in
the middle of an incident. The next list is now built and verified first."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from deploy.cli import cli
from node.sync.trust import held_revocations

CODES = ("440104", "440104001", "440104001002", "440104001003")


@pytest.fixture
def county(tmp_path: Path, admin_dir: str, renkou: Callable[..., str]) -> dict[str, str]:
    dirs = {"admin": admin_dir}
    for code in CODES:
        dirs[code] = str(tmp_path / code)
        renkou("node", "init", "--code", code, "--name", code, "--data-dir", dirs[code])
        renkou("keys", "enrol", "--admin-dir", admin_dir, "--data-dir", dirs[code])
    return dirs


def revoke(dirs: dict[str, str], code: str, *through: str) -> tuple[int, str]:
    args = ["keys", "revoke", "--code", code, "--reason", "stolen", "--admin-dir", dirs["admin"]]
    for item in through:
        args += ["--valid-through", item]
    result = CliRunner().invoke(cli, [*args, "--county-data-dir", dirs["440104"]])
    return result.exit_code, result.output


def files(dirs: dict[str, str]) -> dict[str, bytes]:
    admin = Path(dirs["admin"])
    return {p.name: p.read_bytes() for p in admin.glob("revocations.*")}


def test_revoking_a_pc_twice_is_refused_and_the_next_revocation_still_works(
    county: dict[str, str],
) -> None:
    assert revoke(county, "440104001002")[0] == 0
    before = files(county)
    code, out = revoke(county, "440104001002", "village:440104001002#1=1")
    assert code == 1 and "already_revoked" in out and "已在吊销名单上" in out
    assert before == files(county)  # nothing saved
    assert revoke(county, "440104001003")[0] == 0
    crl = held_revocations(Path(county["440104"]))
    assert crl is not None and crl.version == 2 and len(crl.revoked) == 2


@pytest.mark.parametrize(
    ("through", "why"),
    [
        (f"village:440104001002#1={2**53}", "out of range"),
        ("village:440104001002#1=99999999999999999999", "must look like LOG=SEQ"),
        ("village:440104001002#1=²", "must look like LOG=SEQ"),
        ("village:440104001003#1=5", "not a log of village:440104001002"),
    ],
)
def test_a_bad_valid_through_is_refused_before_anything_is_saved(
    county: dict[str, str], through: str, why: str
) -> None:
    code, out = revoke(county, "440104001002", through)
    assert code == 1 and why in out and "nothing was changed" in out
    assert files(county) == {}
    assert revoke(county, "440104001003")[0] == 0  # the next revocation works
    working = json.loads((Path(county["admin"]) / "revocations.json").read_text())
    assert [i["node"] for i in working["items"]] == ["village:440104001003"]


def test_a_log_named_twice_is_refused(county: dict[str, str]) -> None:
    code, out = revoke(
        county, "440104001002", "village:440104001002#1=1", "village:440104001002#1=2"
    )
    assert code == 1 and "twice" in out and files(county) == {}


def test_an_unknown_code_is_refused_by_name(county: dict[str, str]) -> None:
    code, out = revoke(county, "../../etc")
    assert code == 1 and "error" in out and files(county) == {}
