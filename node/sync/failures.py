# SPDX-License-Identifier: Apache-2.0
"""How a sync round fails, and how a parent's refusal is told apart from a lost link.

:class:`SyncFailed` is what a round raises: the parent refused something, or could not
be reached after every retry. Only a refusal that carried a valid session MAC is the
parent's word (:func:`is_refusal`): that one is recorded (``sync_rejections``), passed
down to a child, and acted on; anything else may be a forgery on the link or a lost
answer, and is retried or reported, never recorded.
"""

from __future__ import annotations

from typing import Any

from node.errors import NodeError
from node.sync.report import RoundReport
from protocol import rejection_code, rejection_reason


class SyncFailed(NodeError):
    """The parent refused something or could not be reached after every retry.

    ``status`` is the HTTP status of the parent's answer (0: no answer at all);
    ``code`` its error code ("" when it gave none); ``detail`` its JSON error body
    (``{ok, status, code, zh, en, …}``) when there was one, whose Chinese is shown as
    ours; ``authenticated`` says whether that answer carried a valid session MAC (only
    authenticated refusals are recorded as the parent's word); ``report`` is the
    round's report so far, when a round raised it.
    """

    code = ""
    status = 0

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        code: str = "",
        detail: dict[str, Any] | None = None,
        authenticated: bool = False,
    ) -> None:
        detail = detail or {}
        given = detail.get("zh")
        zh = given if isinstance(given, str) and given else f"同步失败：{message}"
        super().__init__(zh, message, code=code)
        self.status = status
        self.detail = detail
        self.authenticated = authenticated
        self.report: RoundReport | None = None


class SessionFailed(SyncFailed):
    """The handshake itself was refused or failed: nothing about any one batch."""


class Stale(NodeError):
    """The parent's answer says our view of its state is out of date: re-read it.

    Control flow inside a round, not an error anyone sees: the round catches it and
    reads the parent's state again (at most MAX_RESYNC times, then it raises the
    ``failure`` it carries)."""

    code = "stale"

    def __init__(self, failure: SyncFailed) -> None:
        super().__init__(failure.zh, failure.en)
        self.failure = failure


def is_refusal(exc: SyncFailed) -> bool:
    """The parent's authenticated word that it will not take this batch (a 4xx)."""
    return not isinstance(exc, SessionFailed) and exc.authenticated and 400 <= exc.status < 500


def refusal_code(exc: SyncFailed) -> str:
    """The refusal's code as we record it and pass it down (protocol.notices)."""
    return rejection_code(exc.code or f"http_{exc.status}")


def refusal_reason(exc: SyncFailed) -> str:
    """The refusing node's own words (its ``en``), else our message; NFC, bounded."""
    text = exc.detail.get("en") if isinstance(exc.detail.get("en"), str) else str(exc)
    return rejection_reason(str(text))
