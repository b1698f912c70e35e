# SPDX-License-Identifier: Apache-2.0
"""Benchmark runner: ``python -m tests.bench [group ...] [--all] [--quick] [--update-doc]``.

Prints one JSON object per line on stdout, one per figure, each with at least "name";
``--all`` (without ``--quick``) also rewrites docs/BENCHMARKS.md from the run;
``--update-doc`` replaces only the rows of the figures this run measured (``--figures``
narrows them), for re-measuring a few figures without the whole run.
Figures are measurements, never assertions: targets live in the issues and in
docs/BENCHMARKS.md, and ratios against a baseline measured in the same run are the
numbers to track on these noisy machines.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys

GROUPS = {
    "protocol": "tests.bench.bench_protocol",
    "diff": "tests.bench.bench_diff",
    "store": "tests.bench.bench_store",
    "sync": "tests.bench.bench_sync",
    "merge": "tests.bench.bench_merge",
    "reports": "tests.bench.bench_reports",
    "pages": "tests.bench.bench_pages",
    "recover": "tests.bench.bench_recover",
}


def _unattended() -> None:
    """The bench's nodes seal their keys like any node's (node/keys/sealed.py), at the
    real Argon2id cost; the passphrase comes from the environment, as a script's would,
    and the OS keyring stays out (no test keys in a developer's keychain)."""
    import os

    os.environ.setdefault("RENKOU_PASSPHRASE", "passphrase of the benchmarks")
    os.environ["RENKOU_KEYRING"] = "off"


def main(argv: list[str] | None = None) -> int:
    _unattended()
    parser = argparse.ArgumentParser(prog="python -m tests.bench")
    parser.add_argument("groups", nargs="*", help=f"any of {', '.join(GROUPS)}")
    parser.add_argument("--all", action="store_true", help="run every group")
    parser.add_argument("--quick", action="store_true", help="smaller inputs (smoke test)")
    parser.add_argument(
        "--update-doc", action="store_true", help="replace these figures' rows in the doc"
    )
    parser.add_argument("--figures", default="", help="comma-separated figure names to keep")
    args = parser.parse_args(argv)
    names = list(GROUPS) if args.all or not args.groups else args.groups
    unknown = [n for n in names if n not in GROUPS]
    if unknown:
        parser.error(f"unknown group(s) {unknown}; choose from {list(GROUPS)}")
    machine = {"python": platform.python_version(), "machine": platform.machine(), "cpus": _cpus()}
    keep = set(filter(None, args.figures.split(",")))
    figures = []
    for name in names:
        module = importlib.import_module(GROUPS[name])
        for figure in module.run(quick=args.quick):
            if keep and figure["name"] not in keep:
                continue
            figures.append({**figure, "machine": machine})
            print(json.dumps(figures[-1], ensure_ascii=False), flush=True)
            if keep and keep <= {f["name"] for f in figures}:
                break  # every figure asked for is measured: skip the rest of the group
    if args.quick:
        return 0
    if args.all and not keep:
        from tests.bench.report import write_doc

        path = write_doc(figures, "python -m tests.bench --all")
        print(f"wrote {path}", file=sys.stderr)
    elif args.update_doc and figures:
        from tests.bench.report import update_doc

        command = " ".join(["python -m tests.bench", *(argv or sys.argv[1:])])
        path = update_doc(figures, command)
        print(f"updated {len(figures)} row(s) of {path}", file=sys.stderr)
    return 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
