# SPDX-License-Identifier: Apache-2.0
"""``renkou node user add|list|disable|reset``: the accounts the pages sign in with."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from deploy.cli import cli
from node.pages.accounts import SignInRefused, sign_in
from node.store.accounts import OperatorStore
from node.store.store import NodeStore
from protocol import NodeId


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    NodeStore.init(tmp_path / "v", NodeId.for_code("441322119001"), "上南村").close()
    return tmp_path / "v"


def _run(data_dir: Path, *args: str, stdin: str = "", lang: str = "zh_CN.UTF-8"):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        cli,
        ["node", "user", *args, "--data-dir", str(data_dir)],
        input=stdin,
        env={"LANG": lang, "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""},
    )


def _check(data_dir: Path, name: str, password: str) -> str:
    store = NodeStore.open(data_dir)
    try:
        return sign_in(OperatorStore(store.db), name, password, 10**13).role
    finally:
        store.close()


def test_add_then_sign_in_with_the_password(data_dir: Path) -> None:
    added = _run(
        data_dir, "add", "--name", "王芳", "--role", "village_officer", "--password-stdin",
        stdin="一个足够长的密码口令\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "已添加账号 王芳" in added.output
    assert _check(data_dir, "王芳", "一个足够长的密码口令") == "village_officer"
    store = NodeStore.open(data_dir)
    try:
        stored = OperatorStore(store.db).get("王芳")
        assert stored is not None and stored.password_hash.startswith("$argon2id$")
    finally:
        store.close()


def test_add_prompts_twice_without_stdin(data_dir: Path) -> None:
    added = _run(
        data_dir, "add", "--name", "李明", "--role", "auditor", stdin="password-1\npassword-1\n"
    )
    assert added.exit_code == 0, added.output
    assert _check(data_dir, "李明", "password-1") == "auditor"


@pytest.mark.parametrize(
    ("args", "stdin", "says"),
    [
        (["--role", "village_officer"], "short\n", "密码至少8个字符"),
        (["--role", "mayor"], "long enough\n", "mayor"),
    ],
)
def test_add_refuses_bad_input(data_dir: Path, args: list[str], stdin: str, says: str) -> None:
    result = _run(data_dir, "add", "--name", "张三", *args, "--password-stdin", stdin=stdin)
    assert result.exit_code != 0
    assert says in result.output


def test_the_same_name_twice_is_refused(data_dir: Path) -> None:
    for expected in (0, 1):
        result = _run(
            data_dir, "add", "--name", "王芳", "--role", "auditor", "--password-stdin",
            stdin="long enough\n",
        )  # fmt: skip
        assert result.exit_code == expected
    assert "该账号已存在" in result.output


def test_list_disable_enable_reset(data_dir: Path) -> None:
    _run(data_dir, "add", "--name", "王芳", "--role", "village_officer", "--password-stdin",
         stdin="long enough\n")  # fmt: skip
    listed = _run(data_dir, "list").output.splitlines()
    assert listed[0].split() == ["账号", "角色", "状态"]
    assert listed[1].split() == ["王芳", "village_officer", "村计生专干", "正常"]
    # Columns line up on a terminal: a Chinese character takes two cells.
    from wcwidth import wcswidth

    assert wcswidth(listed[0][: listed[0].index("状态")]) == wcswidth(
        listed[1][: listed[1].index("正常")]
    )
    assert _run(data_dir, "disable", "--name", "王芳").exit_code == 0
    assert "已停用" in _run(data_dir, "list").output
    with pytest.raises(SignInRefused):
        _check(data_dir, "王芳", "long enough")
    assert _run(data_dir, "disable", "--name", "王芳", "--enable").exit_code == 0
    reset = _run(data_dir, "reset", "--name", "王芳", "--password-stdin", stdin="another one\n")
    assert reset.exit_code == 0 and "已解锁" in reset.output
    assert _check(data_dir, "王芳", "another one") == "village_officer"
    with pytest.raises(SignInRefused):
        _check(data_dir, "王芳", "long enough")
    assert _run(data_dir, "reset", "--name", "nobody", "--password-stdin",
                stdin="another one\n").exit_code == 1  # fmt: skip


def test_english_with_an_english_locale(data_dir: Path) -> None:
    result = _run(data_dir, "list", lang="en_US.UTF-8")
    assert result.exit_code == 0 and "0 account(s)" in result.output


def test_demo_accounts_sign_in_with_the_printed_password(data_dir: Path) -> None:
    from node.pages.demo_accounts import DEMO_ACCOUNTS, DEMO_PASSWORD, add_demo_accounts

    store = NodeStore.open(data_dir)
    try:
        add_demo_accounts(store, 0)
        for role, name in DEMO_ACCOUNTS.items():
            assert sign_in(OperatorStore(store.db), name, DEMO_PASSWORD, 1).role == role.value
    finally:
        store.close()
