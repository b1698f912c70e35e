# SPDX-License-Identifier: Apache-2.0
"""One-time enrolment invitations, kept in the administrator's directory.

``renkou keys invite`` writes ``invites/<id>.json`` (mode 0600, in the 0700 directory):
the node it is for, when it expires, and the MAC key derived from its code (never the
code: protocol/enrolment.py). An enrolment request names the invitation by its id; it
is taken by renaming the file into ``invites/used/`` (atomic: of two requests with the
same code exactly one wins), and only after every check passed, so a request for the
wrong node, a mistyped code or an expired invitation leaves it as it was.

Each refusal says which of these it is, in Chinese and English, on the field ``code``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from node.errors import FieldProblem, StorageError, ValidationError
from node.identity import private_directory
from node.keys.dates import local_time
from node.keys.files import write_new
from protocol import NodeId, ProtocolError
from protocol.enrolment import EnrolRequest, code_key, invite_id, new_code

INVITES = "invites"
USED = "used"
DAY_MS = 86_400_000
MAX_DAYS = 90
_ID = re.compile(r"[0-9a-f]{32}\Z")


@dataclass(frozen=True, slots=True)
class Invite:
    id: str
    node: NodeId
    created_at: int
    expires_at: int
    key: bytes


def refused(code: str, zh: str, en: str) -> ValidationError:
    return ValidationError([FieldProblem("code", f"enrol.{code}", zh, en)])


def parse_expiry(text: str) -> int:
    """``7d`` (days), ``48h`` (hours): how long an invitation stays valid, in ms.

    Raises:
        ValidationError: another form, zero, or more than MAX_DAYS days.
    """
    match = re.fullmatch(r"([0-9]{1,4})([dh])", text.strip())
    ms = 0 if match is None else int(match[1]) * (DAY_MS if match[2] == "d" else 3_600_000)
    if not 0 < ms <= MAX_DAYS * DAY_MS:
        raise ValidationError(
            [
                FieldProblem(
                    "expires",
                    "enrol.bad_expiry",
                    f"有效期应写成天数或小时数，如 7d 或 48h，最长 {MAX_DAYS} 天",
                    f"--expires is a number of days or hours such as 7d or 48h, at most "
                    f"{MAX_DAYS} days",
                )
            ]
        )
    return ms


def create_invite(admin_dir: Path, node: NodeId, now_ms: int, valid_ms: int) -> tuple[str, Invite]:
    """A new invitation for ``node``; returns its code (shown once, kept nowhere) too."""
    directory = admin_dir / INVITES
    private_directory(directory / USED)
    code = new_code()
    invite = Invite(invite_id(code), node, now_ms, now_ms + valid_ms, code_key(code))
    body = {
        "node": str(node),
        "created_at": invite.created_at,
        "expires_at": invite.expires_at,
        "key": invite.key.hex(),
    }
    write_new(directory / f"{invite.id}.json", json.dumps(body).encode())
    return code, invite


def _load(path: Path, id_: str) -> Invite:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        return Invite(
            id_,
            NodeId.parse(body["node"]),
            int(body["created_at"]),
            int(body["expires_at"]),
            bytes.fromhex(body["key"]),
        )
    except (OSError, ValueError, KeyError, TypeError, ProtocolError):
        raise StorageError(
            "邀请文件已损坏，请重新生成邀请码",
            f"the invitation file {path.name} is damaged; make a new invitation",
            code="invite_damaged",
        ) from None


def take_invite(admin_dir: Path, request: EnrolRequest, now_ms: int) -> Invite:
    """The invitation ``request`` names, checked and used up.

    Raises:
        ValidationError: ``enrol.unknown`` (no such invitation: a mistyped code),
            ``enrol.used`` (already used), ``enrol.forged`` (the request was not made
            with the invitation's code), ``enrol.expired``, ``enrol.wrong_node``; none
            of these uses the invitation up.
    """
    directory = admin_dir / INVITES
    if not _ID.match(request.invite):
        raise refused("unknown", "邀请码无效", "no such invitation")
    name = f"{request.invite}.json"
    pending, used = directory / name, directory / USED / name
    if not pending.exists():
        if used.exists():
            invite = _load(used, request.invite)
            raise refused(
                "used",
                f"该邀请码已使用过（{invite.node}），每个邀请码只能用一次；请管理员重新生成",
                f"this code was already used (for {invite.node}); a code works once, ask the "
                "administrator for a new one",
            )
        raise refused(
            "unknown",
            "没有这个邀请码（请核对是否输错）",
            "no invitation has this code (check it was typed right)",
        )
    invite = _load(pending, request.invite)
    try:
        request.check_mac(invite.key)
    except ProtocolError:
        raise refused(
            "forged",
            "请求未使用该邀请码签名（伪造或被改动的请求），已拒绝",
            "the request was not made with this invitation's code (forged or changed on "
            "the way); refused",
        ) from None
    if now_ms > invite.expires_at:
        raise refused(
            "expired",
            f"该邀请码已于 {local_time(invite.expires_at)} 过期，请管理员重新生成",
            f"this code expired at {local_time(invite.expires_at)}; ask the administrator "
            "for a new one",
        )
    if request.node != invite.node:
        raise refused(
            "wrong_node",
            f"该邀请码是给 {invite.node} 的，不能用于 {request.node}",
            f"this code is for {invite.node}, not for {request.node}",
        )
    try:
        os.rename(pending, used)
    except FileNotFoundError:
        raise refused("used", "该邀请码刚刚已被使用", "this code was used a moment ago") from None
    return invite
