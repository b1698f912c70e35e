# SPDX-License-Identifier: Apache-2.0
"""Errors a village or township node raises to its officer or to a calling node.

Tree::

    NodeError                 base; carries a stable ``code`` and a bilingual message
    ├── ValidationError       input rejected; lists every field's problem, nothing written
    ├── RuleViolation         a domain safeguard (domain.md section 5) refused the write
    ├── NotFoundError         a record, register or month that does not exist
    └── StorageError          the disk is full, read-only or the store is damaged

Every message exists in Chinese (``zh``) and English (``en``) because officers read them;
neither ever contains personal data, so errors may be logged.
"""

from __future__ import annotations

from dataclasses import dataclass


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
