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

from node.sync.report import RoundReport
from protocol import rejection_code, rejection_reason


class SyncFailed(Exception):
    """The parent refused something or could not be reached after every retry.

    ``detail`` is the parent's JSON error body (``{ok, status, code, zh, en, …}``) when
    there was one; ``authenticated`` says whether that answer carried a valid session
    MAC (only authenticated refusals are recorded as the parent's word); ``report`` is
    the round's report so far, when a round raised it.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        detail: dict[str, Any] | None = None,
        authenticated: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.detail = detail or {}
        self.authenticated = authenticated
        self.report: RoundReport | None = None


class SessionFailed(SyncFailed):
    """The handshake itself was refused or failed: nothing about any one batch."""


class Stale(Exception):
    """The parent's answer says our view of its state is out of date: re-read it."""

    def __init__(self, failure: SyncFailed) -> None:
        super().__init__(str(failure))
        self.failure = failure


def is_refusal(exc: SyncFailed) -> bool:
    """The parent's authenticated word that it will not take this batch (a 4xx)."""
    return (
        not isinstance(exc, SessionFailed)
        and exc.authenticated
        and exc.status is not None
        and 400 <= exc.status < 500
    )


def refusal_code(exc: SyncFailed) -> str:
    """The refusal's code as we record it and pass it down (protocol.notices)."""
    return rejection_code(exc.code or f"http_{exc.status}")


def refusal_reason(exc: SyncFailed) -> str:
    """The refusing node's own words (its ``en``), else our message; NFC, bounded."""
    text = exc.detail.get("en") if isinstance(exc.detail.get("en"), str) else str(exc)
    return rejection_reason(str(text))
