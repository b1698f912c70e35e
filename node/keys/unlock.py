# SPDX-License-Identifier: Apache-2.0
"""Where the secret that opens a key file comes from, in this order.

1. The OS keyring, if the file has a keyring lock and this PC's keyring holds it
   (node/keys/os_keyring.py): an officer on the PC is not asked at every command, and
   a copy of the data dir on another PC does not open this way.
2. A systemd credential ``renkou-passphrase`` in ``$CREDENTIALS_DIRECTORY``: how an
   unattended service (``renkou node serve``, a sync timer) gets it, never from a
   plaintext file of ours (deploy/systemd shows ``LoadCredentialEncrypted=``).
3. ``RENKOU_PASSPHRASE`` in the environment: scripts, the demo and the tests.
4. ``--passphrase-stdin`` (the first line of standard input), for the keys commands.
5. The terminal, when there is one: asked once, never echoed.

A file key once opened stays in this process's memory (keyed by the file's exact
bytes), so a server opening its store per request derives it once. Passphrases are
never logged, printed or written anywhere.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from node.errors import StorageError
from node.keys import os_keyring
from node.keys.files import check_private
from node.keys.sealed import SealedFile, damaged, open_passphrase_lock
from protocol import NodeId, SigningKey, Suite

PASSPHRASE_ENV = "RENKOU_PASSPHRASE"
CREDENTIAL = "renkou-passphrase"
MIN_LENGTH = 8

Prompt = Callable[[str, bool], str]
_prompt: list[Prompt] = []
_stdin: list[str] = []
_opened: dict[bytes, bytes] = {}


def set_prompt(prompt: Prompt | None) -> None:
    """The CLI's way of asking at the terminal: ``prompt(text, confirm) -> passphrase``."""
    _prompt[:] = [prompt] if prompt is not None else []


def read_stdin_passphrase() -> None:
    """``--passphrase-stdin``: take the passphrase from the first line of stdin."""
    line = sys.stdin.readline()
    _stdin[:] = [line.rstrip("\r\n")]


def forget() -> None:
    """Drop every file key this process holds (tests; a service that locks itself)."""
    _opened.clear()
    _stdin.clear()


def _sources(what: str) -> Iterator[tuple[str, str]]:
    creds = os.environ.get("CREDENTIALS_DIRECTORY", "")
    if creds and (Path(creds) / CREDENTIAL).is_file():
        text = (Path(creds) / CREDENTIAL).read_text(encoding="utf-8").rstrip("\r\n")
        yield "systemd credential renkou-passphrase", text
    if os.environ.get(PASSPHRASE_ENV):
        yield PASSPHRASE_ENV, os.environ[PASSPHRASE_ENV]
    if _stdin:
        yield "--passphrase-stdin", _stdin[0]
    if _prompt and sys.stdin is not None and sys.stdin.isatty():
        yield "terminal", _prompt[0](f"{what} 的口令 / passphrase for {what}", False)


def unlock(raw: bytes, sealed: SealedFile, what: str) -> dict[str, Any]:
    """The secrets of ``sealed`` (parsed from ``raw``), opened with the first secret that
    works.

    Raises:
        StorageError: ``wrong_passphrase`` (naming where each passphrase came from) or
            ``locked`` (no passphrase anywhere: say how to give one).
    """
    digest = hashlib.sha256(raw).digest()
    key = _opened.get(digest)
    if key is None:
        key = _file_key(sealed, what)
        _opened[digest] = key
    return sealed.open(key)


def open_signing_key(
    path: Path, kind: str, what: str, label: str, missing: StorageError
) -> tuple[SigningKey, NodeId]:
    """The signing key and node of a sealed key file that holds one signing seed (the
    county's root and its issuing key): one opening, so the mode check, the unlock and
    the damage report are the same for both.

    Raises:
        StorageError: ``missing`` when there is no file; ``key_file_mode``,
            ``keys_damaged`` (naming ``label``), ``locked`` or ``wrong_passphrase``.
    """
    if not path.exists():
        raise missing
    check_private(path)
    raw = path.read_bytes()
    sealed = SealedFile.parse(raw, kind)
    body = unlock(raw, sealed, what)
    try:
        suite = Suite(int(sealed.header["suite"]))
        signing = SigningKey(suite, bytes.fromhex(body["sign_seed"]))
        node = NodeId.parse(str(sealed.header["node"]))
    except (KeyError, ValueError, TypeError):
        raise damaged(label) from None
    return signing, node


def _file_key(sealed: SealedFile, what: str) -> bytes:
    for lock in sealed.locks:
        if lock.get("kind") == "keyring":
            key = os_keyring.fetch(lock)
            if key is not None:
                return key
    locks = [lock for lock in sealed.locks if lock.get("kind") == "passphrase"]
    tried = []
    for where, passphrase in _sources(what):
        for lock in locks:
            key = open_passphrase_lock(lock, passphrase, sealed.aad)
            if key is not None:
                return key
        tried.append(where)
    if tried:
        raise StorageError(
            f"{what} 的口令不对（来自 {'、'.join(tried)}），未做任何更改",
            f"wrong passphrase for {what} (from {', '.join(tried)}); nothing was changed",
            code="wrong_passphrase",
        )
    raise StorageError(
        f"{what} 已加密，需要口令：请在终端运行，或设置 {PASSPHRASE_ENV}，"
        "服务请使用 systemd 凭据 renkou-passphrase",
        f"{what} is encrypted and no passphrase was given: run at a terminal, set "
        f"{PASSPHRASE_ENV}, or (for a service) provide the systemd credential {CREDENTIAL}",
        code="locked",
    )


def new_passphrase(what: str) -> str:
    """The passphrase a new key file is locked with (asked twice at a terminal).

    Raises:
        StorageError: ``locked`` when there is none; ``weak_passphrase`` when it is
            shorter than MIN_LENGTH.
    """
    chosen = next(
        (p for where, p in _sources(what) if where != "terminal"),
        None,
    )
    if chosen is None and _prompt and sys.stdin is not None and sys.stdin.isatty():
        chosen = _prompt[0](f"为 {what} 设置口令 / choose a passphrase for {what}", True)
    if chosen is None:
        raise StorageError(
            f"需要为 {what} 设置口令：请在终端运行，或设置 {PASSPHRASE_ENV}",
            f"{what} must be locked with a passphrase: run at a terminal or set {PASSPHRASE_ENV}",
            code="locked",
        )
    if len(chosen) < MIN_LENGTH:
        raise StorageError(
            f"口令至少 {MIN_LENGTH} 个字符，未做任何更改",
            f"a passphrase needs at least {MIN_LENGTH} characters; nothing was changed",
            code="weak_passphrase",
        )
    return chosen


def remember(raw: bytes, file_key: bytes) -> None:
    """Keep the key of a file this process just wrote (it need not be asked again)."""
    _opened[hashlib.sha256(raw).digest()] = file_key
