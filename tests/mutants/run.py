# SPDX-License-Identifier: Apache-2.0
"""Apply each defence mutant in a scratch copy of the tree and run the tests it names.

``python -m tests.mutants [--jobs N] [--only ID,...]`` (``make mutants``):

1. reads tests/mutants/mutants.toml and checks every snippet still occurs exactly once
   (a stale mutant fails the run: re-point it at the defence, never drop it silently);
2. copies the working tree (tracked and untracked files that git does not ignore; never
   ``.venv``) into one scratch directory per job, so the working tree is never touched;
3. runs every named test once on the unmutated copies (a test that fails there would
   "kill" every mutant naming it, so the run fails instead);
4. per mutant: writes the mutated file, runs only its named tests (``pytest -x``),
   puts the file back. Exit status 1 of pytest (a test failed) is a kill, 0 is a
   survivor, anything else (a test id that does not exist, a collection error) is an
   error. A run over the time limit counts as a kill: the suite would hang on it.

The last line of the output is ``<N> killed`` (followed on that line by the counts of
survivors, stale snippets and errors when there are any); the exit status is 0 only when
every mutant was killed and the baseline passed.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tests.mutants.catalogue import CATALOGUE, ROOT, Mutant, load, problems

TIME_LIMIT_S = 600
OUTPUT_LINES = 60  # of a failed baseline's or an error's pytest output, in the report


@dataclass
class Outcome:
    mutant: Mutant | None  # None: a baseline run
    verdict: str  # killed | survived | error | passed (baseline) | failed (baseline)
    seconds: float
    detail: str
    output: str = ""  # the end of pytest's output, shown for a failed baseline or an error


def tree_files(root: Path) -> list[str]:
    """What is in the working tree: tracked files and untracked ones git does not ignore."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        check=True,
        capture_output=True,
    ).stdout
    return sorted({p for p in out.decode().split("\0") if p and (root / p).is_file()})


def scratch_copy(root: Path, dest: Path, files: list[str]) -> None:
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)


def _forget_bytecode(path: Path) -> None:
    """Drop the cached bytecode of ``path``: a mutant and the original can share the
    size and the second of their mtime, which is all CPython compares."""
    try:
        Path(importlib.util.cache_from_source(str(path))).unlink(missing_ok=True)
    except (NotImplementedError, ValueError):
        pass


def run_tests(copy: Path, tests: list[str]) -> tuple[int, float, str, str]:
    env = {**os.environ, "PYTHONPATH": str(copy)}
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-rfE", "--no-header", *tests],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIME_LIMIT_S,
        )
    except subprocess.TimeoutExpired:
        return -1, time.monotonic() - started, f"over the {TIME_LIMIT_S} s limit", ""
    lines = (proc.stdout + proc.stderr).splitlines()
    failed = [ln.split(" - ")[0] for ln in lines if ln.startswith(("FAILED ", "ERROR "))]
    detail = "; ".join(failed) or (lines[-1] if lines else "")
    return proc.returncode, time.monotonic() - started, detail, "\n".join(lines[-OUTPUT_LINES:])


def try_mutant(copy: Path, m: Mutant) -> Outcome:
    path = copy / m.file
    original = path.read_text(encoding="utf-8")
    try:
        mutated = m.apply(original)
    except ValueError as exc:
        return Outcome(m, "error", 0.0, f"stale: {exc}")
    path.write_text(mutated, encoding="utf-8")
    _forget_bytecode(path)
    try:
        code, seconds, detail, output = run_tests(copy, list(m.tests))
    finally:
        path.write_text(original, encoding="utf-8")
        _forget_bytecode(path)
    if code in (1, -1):
        return Outcome(m, "killed", seconds, detail)
    if code == 0:
        return Outcome(m, "survived", seconds, "every named test passed without the defence")
    return Outcome(m, "error", seconds, f"pytest exit status {code}: {detail}", output)


def check_copy(copy: Path, packages: list[str]) -> None:
    """The copy's own packages must be the ones imported, not the editable install's."""
    env = {**os.environ, "PYTHONPATH": str(copy)}
    code = (
        "import importlib, sys\nfor p in sys.argv[1:]: print(importlib.import_module(p).__file__)"
    )
    found = subprocess.run(
        [sys.executable, "-c", code, *packages],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for path in found:
        if not Path(path).resolve().is_relative_to(copy.resolve()):
            raise SystemExit(f"mutants: the scratch copy imports {path}, not its own modules")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutants", description=__doc__)
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--only", default="", help="comma-separated mutant ids")
    parser.add_argument("--catalogue", type=Path, default=CATALOGUE)
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run")
    args = parser.parse_args(argv)
    started = time.monotonic()
    mutants = load(args.catalogue)
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {m.id for m in mutants}
        if unknown:
            raise SystemExit(f"mutants: unknown ids {sorted(unknown)}")
        mutants = [m for m in mutants if m.id in wanted]
    stale = problems(mutants, args.root)
    stale_ids = {mid for mid, _ in stale}
    runnable = [m for m in mutants if m.id not in stale_ids]
    jobs = max(1, args.jobs)
    outcomes = _run_all(args.root, runnable, jobs, not args.no_baseline)
    return _report(outcomes, stale, time.monotonic() - started)


def _run_all(root: Path, mutants: list[Mutant], jobs: int, baseline: bool) -> list[Outcome]:
    files = tree_files(root)
    packages = sorted({m.file.split("/")[0] for m in mutants if "/" in m.file})
    work: queue.Queue[tuple[str, object]] = queue.Queue()
    if baseline:
        tests = sorted({t for m in mutants for t in m.tests})
        for i in range(jobs):
            if tests[i::jobs]:
                work.put(("baseline", tests[i::jobs]))
    # Longest first (by the number of tests named): the jobs end closer together.
    for m in sorted(mutants, key=lambda m: -len(m.tests)):
        work.put(("mutant", m))
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    with tempfile.TemporaryDirectory(prefix="renkou-mutants-") as scratch:

        def worker(n: int) -> None:
            copy = Path(scratch) / f"tree{n}"
            try:
                scratch_copy(root, copy, files)
                check_copy(copy, packages)
            except (OSError, subprocess.SubprocessError, SystemExit) as exc:
                with lock:
                    failures.append(f"job {n} could not set up its copy: {exc}")
                return
            while True:
                try:
                    kind, item = work.get_nowait()
                except queue.Empty:
                    return
                if kind == "baseline":
                    assert isinstance(item, list)
                    code, seconds, detail, output = run_tests(copy, item)
                    verdict = "passed" if code == 0 else "failed"
                    outcome = Outcome(None, verdict, seconds, detail if code else "", output)
                else:
                    assert isinstance(item, Mutant)
                    outcome = try_mutant(copy, item)
                with lock:
                    outcomes.append(outcome)
                    _print_outcome(outcome)

        failures: list[str] = []
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(jobs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    # Whatever did not run (every job failed to set up) is an error, never a pass.
    done = {o.mutant.id for o in outcomes if o.mutant is not None}
    for m in mutants:
        if m.id not in done:
            why = "; ".join(failures) or "not run"
            outcomes.append(Outcome(m, "error", 0.0, why))
    return outcomes


def _print_outcome(o: Outcome) -> None:
    name = o.mutant.id if o.mutant else "(baseline: the named tests, unmutated)"
    print(f"{o.verdict:<8} {name:<44} {o.seconds:6.1f} s  {o.detail}", flush=True)


def _report(outcomes: list[Outcome], stale: list[tuple[str, str]], seconds: float) -> int:
    killed = sum(o.verdict == "killed" for o in outcomes)
    bad = [o for o in outcomes if o.verdict in ("survived", "error", "failed")]
    for o in bad:
        name = o.mutant.id if o.mutant else "baseline"
        print(f"FAILED {name}: {o.verdict}: {o.detail}")
        if o.verdict in ("error", "failed") and o.output:
            # A baseline that fails only under load (a flaky test) must be diagnosable
            # from the CI log alone.
            print("\n".join(f"    | {line}" for line in o.output.splitlines()))
    for mid, why in stale:
        print(f"FAILED {mid}: stale: {why}")
    print(f"mutants: {len(outcomes)} runs in {seconds:.0f} s")
    if bad or stale:
        survived = sum(o.verdict == "survived" for o in outcomes)
        errors = sum(o.verdict in ("error", "failed") for o in outcomes)
        print(f"{killed} killed, {survived} survived, {len(stale)} stale, {errors} errors")
        return 1
    print(f"{killed} killed")
    return 0
