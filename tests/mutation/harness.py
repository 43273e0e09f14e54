"""A list-driven mutation harness: break one rule at a time and check that a test notices.

Each mutant in the list (tests/mutation/mutants.toml) replaces an exact piece of text in one
file of the repository (a dropped clause, a flipped comparison, another constant) and names
the tests that must then fail. The harness copies the repository to a scratch directory, runs
those tests unmutated once (they must pass), then applies each mutant in the copy, runs its
tests and puts the original text back. A mutant is killed when its tests fail and survives when
they pass. The repository itself is never written to.

Exit status: 0 when every mutant is killed; 1 when one survives or a run goes wrong; 2 when the
list itself is wrong (an original text that is not found exactly once, a missing file or test).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

REPO = Path(__file__).resolve().parents[2]
DEFAULT_LIST = Path(__file__).with_name("mutants.toml")
# pytest's exit codes (pytest.ExitCode): 1 tests failed, 2 interrupted (a collection error),
# 5 no tests collected.
TESTS_FAILED, INTERRUPTED, NO_TESTS = 1, 2, 5
TIMEOUT_S = 600


@dataclass(frozen=True)
class Mutant:
    file: str
    original: str
    replacement: str
    reason: str
    tests: Tuple[str, ...]
    select: str = ""  # a pytest -k expression; empty runs every test in `tests`

    @property
    def label(self) -> str:
        return f"{self.file}: {self.reason}"

    def pytest_args(self) -> List[str]:
        return [*self.tests, *(["-k", self.select] if self.select else [])]


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed | survived | error
    seconds: float
    detail: str = ""


def load(path: Path = DEFAULT_LIST) -> List[Mutant]:
    """The mutants of a list file; each takes `tests`/`select` from its file's [files] entry
    unless it names its own."""
    import tomllib

    data = tomllib.loads(path.read_text(encoding="utf-8"))
    defaults: Dict[str, Dict[str, object]] = data.get("files", {})
    out = []
    for n, entry in enumerate(data.get("mutant", []), start=1):
        missing = {"file", "original", "replacement", "reason"} - set(entry)
        if missing:
            raise ValueError(f"{path}: mutant #{n} lacks {', '.join(sorted(missing))}")
        base = defaults.get(entry["file"], {})
        tests = entry.get("tests", base.get("tests", ()))
        out.append(Mutant(
            file=entry["file"], original=entry["original"], replacement=entry["replacement"],
            reason=entry["reason"], tests=tuple(tests),
            select=str(entry.get("select", base.get("select", ""))),
        ))
    return out


def problems(mutants: Sequence[Mutant], root: Path = REPO) -> List[str]:
    """What is wrong with the list as a list, checked before anything runs: so that a renamed
    clause or test cannot make a mutant silently stop mutating or testing anything."""
    found = []
    seen = set()
    for m in mutants:
        if m.label in seen:
            found.append(f"{m.label}: the same file and reason twice")
        seen.add(m.label)
        path = root / m.file
        if not path.is_file():
            found.append(f"{m.label}: no file {m.file}")
            continue
        count = path.read_text(encoding="utf-8").count(m.original)
        if count != 1:
            where = "not found" if count == 0 else f"found {count} times (add context)"
            found.append(f"{m.label}: original text {m.original!r} {where} in {m.file}")
        if m.original == m.replacement:
            found.append(f"{m.label}: replacement equals the original")
        if not m.tests:
            found.append(f"{m.label}: names no tests")
        for test in m.tests:
            if not (root / test.split("::", 1)[0]).exists():
                found.append(f"{m.label}: no test file {test}")
    return found


def _tracked_files(root: Path) -> List[str]:
    """The repository's files as git sees them (tracked, or new and not ignored)."""
    out = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True, capture_output=True,
    ).stdout.decode("utf-8")
    return [p for p in out.split("\0") if p and (root / p).is_file()]


def scratch_copy(root: Path = REPO) -> Path:
    """A copy of the repository's source files in a new temporary directory."""
    target = Path(tempfile.mkdtemp(prefix="stockpipe-mutation-"))
    for rel in _tracked_files(root):
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, dest)
    return target


def _env(copy: Path) -> Dict[str, str]:
    env = dict(os.environ)
    # The copy's packages come first on the path, before the editable install of the original.
    env["PYTHONPATH"] = os.pathsep.join([str(copy), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no stale .pyc of a mutated module
    return env


def check_imports_from(copy: Path) -> None:
    """Fail loudly if the tests in `copy` would import the original `runtime`, not the copy's."""
    where = subprocess.run(
        [sys.executable, "-c", "import runtime, sys; sys.stdout.write(runtime.__file__)"],
        cwd=copy, env=_env(copy), check=True, capture_output=True, text=True,
    ).stdout
    if not Path(where).resolve().is_relative_to(copy.resolve()):
        raise RuntimeError(f"tests in {copy} import runtime from {where}, not from the copy")


_running: Set[subprocess.Popen] = set()  # the pytest runs to stop if the harness is stopped


def _pytest_args(args: Sequence[str], stop_first: bool) -> List[str]:
    return ["-q", *(["-x"] if stop_first else []), "-p", "no:cacheprovider", "--no-header",
            "-W", "ignore", *args]


def run_pytest(copy: Path, args: Sequence[str], *, stop_first: bool) -> Tuple[int, str]:
    """pytest in a new interpreter: (exit code, its last output line)."""
    cmd = [sys.executable, "-m", "pytest", *_pytest_args(args, stop_first)]
    proc = subprocess.Popen(cmd, cwd=copy, env=_env(copy), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    _running.add(proc)
    try:
        output, _ = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return -1, f"timed out after {TIMEOUT_S} s"
    finally:
        _running.discard(proc)
    lines = output.strip().splitlines()
    return proc.returncode, lines[-1] if lines else ""


class Worker:
    """A long-lived pytest process in one copy (tests/mutation/worker.py), for SQL mutants."""

    def __init__(self, copy: Path):
        self.copy = copy
        self.proc: Optional[subprocess.Popen] = None

    def run(self, args: Sequence[str]) -> Tuple[int, str]:
        if self.proc is None:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.mutation.worker"], cwd=self.copy,
                env=_env(self.copy), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, text=True,
            )
            _running.add(self.proc)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(_pytest_args(args, stop_first=True)) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            self.close()
            return -1, "the pytest worker stopped"
        return int(line), ""

    def close(self) -> None:
        if self.proc is not None:
            _running.discard(self.proc)
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def run_mutant(copy: Path, m: Mutant, worker: Optional[Worker] = None) -> Outcome:
    """Apply `m` in `copy`, run its tests, and always put the original text back. A SQL
    mutant runs in `worker` when given; a Python mutant always in a new interpreter."""
    path = copy / m.file
    text = path.read_text(encoding="utf-8")
    start = time.monotonic()
    try:
        path.write_text(text.replace(m.original, m.replacement, 1), encoding="utf-8")
        if worker is not None and m.file.endswith(".sql"):
            code, last = worker.run(m.pytest_args())
        else:
            code, last = run_pytest(copy, m.pytest_args(), stop_first=True)
    finally:
        path.write_text(text, encoding="utf-8")
    seconds = time.monotonic() - start
    if code in (TESTS_FAILED, INTERRUPTED):
        return Outcome(m, "killed", seconds, last)
    if code == 0:
        return Outcome(m, "survived", seconds, last)
    why = "its tests selected nothing" if code == NO_TESTS else f"pytest exit {code}"
    return Outcome(m, "error", seconds, f"{why}: {last}")


def run_all(mutants: Sequence[Mutant], jobs: int = 1, out=None) -> List[Outcome]:
    """Baseline, then every mutant (`jobs` copies work in parallel); prints as it goes."""
    out = out or sys.stdout
    copies = [scratch_copy() for _ in range(max(1, jobs))]
    try:
        check_imports_from(copies[0])
        every_test = sorted({t for m in mutants for t in m.tests})
        code, last = run_pytest(copies[0], every_test, stop_first=False)
        if code != 0:
            raise RuntimeError(f"the mutants' tests fail without any mutant: {last}")
        print(f"baseline: {len(every_test)} test paths pass unmutated ({last})", file=out,
              flush=True)
        todo: queue.Queue = queue.Queue()
        for n, m in enumerate(mutants, start=1):
            todo.put((n, m))
        outcomes: Dict[int, Outcome] = {}
        lock = threading.Lock()

        def work(copy: Path) -> None:
            worker = Worker(copy)
            try:
                while True:
                    try:
                        n, m = todo.get_nowait()
                    except queue.Empty:
                        return
                    report(n, run_mutant(copy, m, worker))
            finally:
                worker.close()

        def report(n: int, o: Outcome) -> None:
            with lock:
                outcomes[n] = o
                print(f"[{n:3d}/{len(mutants)}] {o.status.upper():8s} {o.seconds:5.1f}s  "
                      f"{o.mutant.label}" + (f"  ({o.detail})" if o.status != "killed" else ""),
                      file=out, flush=True)

        threads = [threading.Thread(target=work, args=(c,), daemon=True) for c in copies]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return [outcomes[n] for n in sorted(outcomes)]
    finally:
        for proc in list(_running):
            proc.kill()
        for c in copies:
            shutil.rmtree(c, ignore_errors=True)


def _stop(signum, frame):
    raise SystemExit(128 + signum)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--list", type=Path, default=DEFAULT_LIST, help="the mutant list (TOML)")
    parser.add_argument("--check", action="store_true",
                        help="only check that every mutant's original text is found, run nothing")
    parser.add_argument("--match", default="",
                        help="run only the mutants whose file or reason contains this text")
    parser.add_argument("-j", "--jobs", type=int, default=1, help="mutants run in parallel")
    args = parser.parse_args(argv)

    mutants = load(args.list)
    wrong = problems(mutants)
    if wrong:
        print("the mutant list is out of date:", *wrong, sep="\n  ", file=sys.stderr)
        return 2
    chosen = [m for m in mutants if args.match in m.label]
    if args.check:
        print(f"{len(mutants)} mutants: every original text found once, every test file exists")
        return 0
    if not chosen:
        print(f"no mutant matches {args.match!r}", file=sys.stderr)
        return 2
    # A kill (SIGTERM) unwinds like Ctrl-C: the running pytest is stopped, the copies removed.
    signal.signal(signal.SIGTERM, _stop)
    start = time.monotonic()
    outcomes = run_all(chosen, jobs=args.jobs)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("killed", "survived", "error")}
    print(f"{len(outcomes)} mutants: {counts['killed']} killed, {counts['survived']} survived, "
          f"{counts['error']} errors in {time.monotonic() - start:.0f} s")
    return 0 if counts["killed"] == len(outcomes) else 1
