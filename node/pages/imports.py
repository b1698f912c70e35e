# SPDX-License-Identifier: Apache-2.0
"""Bulk entry from a spreadsheet: template download, import with progress, every problem
by row and column.

The upload is read and checked at once (a file that is not a template is refused before
anything starts); the rows are then recorded by a worker thread while the officer's
page shows a progress bar that refreshes itself (a meta refresh: no script needed),
and ends on the result: how many were recorded, and each problem with its row number
and the column's heading. Nothing is written unless every row passes, unless the
officer ticked "record the good rows".
"""

from __future__ import annotations

import io
import secrets
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from flask import abort, current_app, g, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue

from node.batch import BatchResult, add_many
from node.domain.records import RECORD_KINDS
from node.errors import ValidationError
from node.pages.accounts import Right
from node.pages.bulk_xlsx import read_sheet, write_template
from node.pages.context import today
from node.pages.guard import page_blueprint, requires
from node.pages.labels import field_label, kind_label
from node.store.queries import entry_mark
from node.store.store import NodeStore

bp = page_blueprint("imports", __name__, url_prefix="/import")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_JOBS = 20


@dataclass
class ImportJob:
    """One import as its page shows it; only the officer who started it may see it."""

    owner: str
    kind: str
    total: int
    done: int = 0
    result: BatchResult | None = None
    failed: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)


def _jobs() -> dict[str, ImportJob]:
    jobs: dict[str, ImportJob] = current_app.extensions.setdefault("renkou_imports", {})
    return jobs


def _kind(kind: str) -> str:
    if kind not in RECORD_KINDS:
        abort(404)
    return kind


@bp.get("")
@requires(Right.WRITE_RECORDS)
def start() -> ResponseReturnValue:
    kinds = [(k, kind_label(k)) for k in RECORD_KINDS]
    return render_template("import.html", kinds=kinds, error=None)


@bp.get("/template/<kind>.xlsx")
@requires(Right.WRITE_RECORDS)
def template(kind: str) -> ResponseReturnValue:
    out = io.BytesIO()
    write_template(_kind(kind), out)
    out.seek(0)
    name = f"{kind_label(kind)}-批量录入模板.xlsx"
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=name)


@bp.post("")
@requires(Right.WRITE_RECORDS)
def upload() -> ResponseReturnValue:
    kind = _kind(request.form.get("kind", ""))
    sent = request.files.get("file")
    try:
        rows = read_sheet(kind, sent.read() if sent else b"")
    except ValidationError as refused:
        kinds = [(k, kind_label(k)) for k in RECORD_KINDS]
        return render_template("import.html", kinds=kinds, error=refused.problems[0].zh), 400
    job = ImportJob(g.operator.name, kind, len(rows))
    jobs = _jobs()
    while len(jobs) >= MAX_JOBS:
        jobs.pop(next(iter(jobs)))
    job_id = secrets.token_urlsafe(12)
    jobs[job_id] = job
    keep_good = request.form.get("keep_good") == "1"
    data_dir = Path(current_app.config["RENKOU_DATA_DIR"])
    worker = threading.Thread(
        target=_run, args=(job, data_dir, rows, keep_good, today()), daemon=True
    )
    worker.start()
    if current_app.config.get("RENKOU_IMPORT_WAIT"):  # tests: the result page at once
        worker.join()
    return redirect(url_for("imports.progress", job_id=job_id))


def _run(
    job: ImportJob,
    data_dir: Path,
    rows: list[tuple[int, dict[str, Any]]],
    keep_good: bool,
    day: date,
) -> None:
    def step(done: int, _total: int) -> None:
        job.done = done

    store = NodeStore.open(data_dir)
    try:
        result = add_many(
            store,
            job.kind,
            [r for _n, r in rows],
            today=day,
            keep_good=keep_good,
            numbers=[n for n, _r in rows],
            progress=step,
        )
        _audit(store, job, result)
        job.result = result
    except Exception as exc:  # the page must say it failed, not spin for ever
        job.failed = type(exc).__name__
    finally:
        store.close()


def _audit(store: NodeStore, job: ImportJob, result: BatchResult) -> None:
    """One audit row per record written, naming its log entry (for the card's history)."""
    written = [rid for rid in result.ids if rid is not None]
    if not written:
        return
    with store.bulk():
        for rid, (epoch, seq) in zip(written, result.entries, strict=True):
            store.audit(job.owner, "record", job.kind, rid, entry_mark(epoch, seq))


@bp.get("/<job_id>")
@requires(Right.WRITE_RECORDS)
def progress(job_id: str) -> ResponseReturnValue:
    job = _jobs().get(job_id)
    if job is None or job.owner != g.operator.name:
        abort(404)
    problems = []
    if job.result is not None:
        problems = [
            (p.row, field_label(job.kind, p.field) if p.field != "record" else "", p.zh)
            for p in job.result.problems
        ]
    return render_template(
        "import_progress.html",
        job=job,
        kind_label=kind_label(job.kind),
        problems=problems,
        running=job.result is None and not job.failed,
    )
