# SPDX-License-Identifier: Apache-2.0
"""No skip that can apply silently: a skipped test fails the run unless its reason is listed.

A skip says "this test proved nothing here"; one that applies on its own (an optional
import that went missing, a data file that moved on, a condition nobody re-reads) turns
a defence's test off with the suite still green. So every skip's reason must start with
one of :data:`ALLOWED` (each with why it may apply), and the run fails otherwise, naming
the test. Deselection (``-m 'not slow'``, ``-k``) is not a skip, and an expected failure
(``xfail``) is not one either. tests/conftest.py installs the hooks.
"""

from __future__ import annotations

import pytest

ALLOWED: dict[str, str] = {
    "browser tests: no Chromium could be installed": (
        "tests/browser installs Debian's chromium with apt-get when it is missing; only a"
        " machine without root or without a package mirror cannot, and there the browser"
        " tests cannot run at all (issue 15 allows exactly this skip)"
    ),
}
"""Reason prefix -> why a skip with that reason may apply."""

_SKIPPED: list[str] = []


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def pytest_configure(config: pytest.Config) -> None:
    _SKIPPED.clear()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = _reason(report)
    if not any(reason.startswith(prefix) for prefix in ALLOWED):
        _SKIPPED.append(f"{report.nodeid}: {reason}")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _SKIPPED:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [
        f"{len(_SKIPPED)} test(s) skipped without a reason listed in tests/skip_policy.py"
        " (a skip must not apply silently):",
        *(f"  {s}" for s in _SKIPPED),
    ]
    if reporter is not None:
        reporter.write_line("\n".join(lines), red=True)
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
