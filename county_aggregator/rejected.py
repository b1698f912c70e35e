# SPDX-License-Identifier: Apache-2.0
"""Why the county keeps an entry out of the merge: :class:`Rejected` and its codes.

A rejected entry is kept in the merged store's ``rejected`` table (code and English
reason) and told to its origin in the outcome notices; it is never merged. Rejected is
a NodeError like every other error of the project outside protocol/, so it carries a
stable code and a message in Chinese and English.
"""

from __future__ import annotations

from node.errors import NodeError

REJECTED_ZH = {
    "log": "日志标识无效",
    "ruleset": "变更使用了本县未知的规则版本",
    "revoked": "该节点的证书已被吊销，此后的变更不予合并",
    "hash": "变更内容与其哈希值不符",
    "decode": "变更内容无法解析",
    "kind": "记录类型不在该规则版本中",
    "field": "字段不在该规则版本中",
}
"""What each rejection code means, in Chinese (the English is the reason itself)."""


class Rejected(NodeError):
    """An entry that is kept in ``rejected`` and never merged; ``code`` says why."""

    code = "rejected"
    status = 422

    def __init__(self, code: str, reason: str) -> None:
        zh = f"{REJECTED_ZH.get(code, '该变更未予合并')}（{reason}）"
        super().__init__(zh, reason, code=code)
