# SPDX-License-Identifier: Apache-2.0
"""The project's errors: what a node or the county raises to an officer or to a peer.

One tree, rooted here (tests/test_error_tree.py holds every public error class of
node/, county_aggregator/ and deploy/ to it)::

    NodeError                 base; carries a stable ``code`` and a bilingual message
    ├── ValidationError       input rejected; lists every field's problem, nothing written
    │   └── RuleViolation     a domain safeguard (domain.md section 5) refused the write
    ├── NotFoundError         a record, register or month that does not exist
    ├── StorageError          the disk is full, read-only or the store is damaged
    ├── SessionRefused        the sync server refused a handshake (node/server)
    ├── SyncFailed            a sync round's parent refused or could not be reached
    │   └── SessionFailed     the handshake itself failed (node/sync/failures.py)
    ├── Stale                 our view of the parent's state is out of date (in a round)
    ├── Refused               an advisory from the county that cannot apply (node/advisories)
    ├── SignInRefused         a sign-in to the pages refused (node/pages/accounts.py)
    ├── SnapshotClosed        a report snapshot that can no longer change (county reports)
    └── Rejected              an entry the county keeps out of the merge
                              (county_aggregator/rejected.py)

protocol/ has its own root, ProtocolError (it imports nothing of ours); each of its codes
has its Chinese here (:data:`PROTOCOL_ZH`), read by the sync server's error bodies and
by the CLI alike (:func:`protocol_message`).

Every message exists in Chinese (``zh``) and English (``en``) because officers read them;
neither ever contains personal data, so errors may be logged.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol import ErrorCode, ProtocolError


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One problem with one input field, as the officer should see it.

    ``field`` is a dotted path into the submitted record (``children.0.birth_date``);
    ``code`` is a stable machine string (``id_number.check_digit``).
    """

    field: str
    code: str
    zh: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "zh": self.zh, "en": self.en}


class NodeError(Exception):
    """Base of every error the node reports; ``code`` is stable, messages are bilingual."""

    code = "node_error"
    status = 500

    def __init__(self, zh: str, en: str, *, code: str | None = None) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en
        if code is not None:
            self.code = code

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "zh": self.zh, "en": self.en}


class ValidationError(NodeError):
    """Input failed validation; ``problems`` lists every field that is wrong."""

    code = "invalid_input"
    status = 400

    def __init__(self, problems: list[FieldProblem]) -> None:
        if not problems:
            raise ValueError("ValidationError needs at least one problem")
        self.problems = list(problems)
        zh = "；".join(f"{p.field}：{p.zh}" for p in self.problems)
        en = "; ".join(f"{p.field}: {p.en}" for p in self.problems)
        super().__init__(zh, en)

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "problems": [p.as_dict() for p in self.problems]}


class RuleViolation(ValidationError):
    """A safeguard of the law in force refused the write (a hard error, never a warning)."""

    code = "rule_violation"
    status = 422


class NotFoundError(NodeError):
    code = "not_found"
    status = 404


class StorageError(NodeError):
    code = "storage_error"
    status = 503


class TooManyRequests(NodeError):
    """A cap on a person's own use was reached (e.g. searches per hour); try later."""

    code = "too_many_requests"
    status = 429


PROTOCOL_ZH: dict[ErrorCode, str] = {
    ErrorCode.MALFORMED: "数据格式错误，已拒收",
    ErrorCode.NON_CANONICAL: "数据编码不规范，已拒收",
    ErrorCode.TOO_LARGE: "数据超过允许的大小，已拒收",
    ErrorCode.UNSUPPORTED: "对方使用了本机不支持的协议版本或算法",
    ErrorCode.BAD_SIGNATURE: "签名或身份验证未通过",
    ErrorCode.DECRYPT_FAILED: "数据无法解密，已拒收",
    ErrorCode.NO_RECIPIENT: "数据不是发给本机的",
    ErrorCode.BAD_RECIPIENTS: "数据的接收方不合规定（县节点必须能解密），已拒收",
    ErrorCode.EXPIRY_EXTENDED: "转发节点把数据的有效期延长到发出节点签定的期限之后，已拒收并记录",
    ErrorCode.BAD_CHAIN: "变更记录前后衔接不上，请按本机现有进度重新发送",
    ErrorCode.GAP: "缺少之前的变更，请按本机现有进度重新发送",
    ErrorCode.FORK: "同一日志出现两份不同的历史（分叉），该日志已冻结并报告管理员",
    ErrorCode.BAD_CERTIFICATE: "证书无效或不属于本县",
    ErrorCode.EXPIRED: "证书、请求或数据已过期",
    ErrorCode.REVOKED: "该节点的证书已被吊销",
    ErrorCode.UNKNOWN_CERTIFICATE: "本机没有对方的证书，请先提交证书",
    ErrorCode.CLOCK_DRIFT: "对方电脑时钟超前过多，数据已隔离保存，未采用",
    ErrorCode.UNKNOWN_RULESET: "数据使用了本机未知的规则版本，已隔离保存，未采用",
    ErrorCode.QUARANTINED: "数据已隔离保存，未采用",
}
"""What each protocol error code means, in Chinese, for the officer (the English is the
error's own message). The sync server's error bodies and the CLI both read this table."""


def protocol_message(exc: ProtocolError) -> tuple[str, str]:
    """``(zh, en)`` of a protocol error as a person reads it, wherever it surfaces.

    The Chinese names what the code means and keeps the error's own detail beside it;
    the English is that detail.
    """
    return f"{PROTOCOL_ZH.get(exc.code, '请求被拒绝')}（{exc}）", str(exc)
