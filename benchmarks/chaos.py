"""Grade a class under chaos, then compare every score with an undisturbed run of the same class.

    .venv/bin/python benchmarks/chaos.py [--assignment 03_single_neuron] [--students 12] [--seed 1]

Builds one class (the instructor's notebook and the test corpus's known mistakes, round-robin;
every submission sleeps a little so that kills land mid-run, and some print far more than the
output limits keep) and grades two copies with ``autograder grade``:

- undisturbed: one plain run;
- chaos, one run after the other on the same course:
  1. the coordinator killed outright (SIGKILL) at a random moment, then a plain rerun;
  2. ``--force``, interrupted (SIGINT, as Ctrl-C) at a random moment;
  3. ``--force`` while submission kernels (each student's at most once) and whole workers are
     killed at random moments; the first student whose kernel is killed is hit again (its
     worker, while it runs again), so it must end as failed with nothing written;
  4. a plain rerun (must grade whatever is left, and nothing that is done).

After each run it checks that the gradebook has no score-less rows and the state file is whole.
It prints a table of fault -> outcome and a verdict line, and exits 1 unless every per-cell
score of the chaos course equals the undisturbed one and no check above failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.grading.gradebook import cell_scores  # noqa: E402
from benchmarks import bench_grade  # noqa: E402

PYTHON = sys.executable.encode()
JOB = re.compile(r"/job-([^/]+)/")


def build_class(workdir: Path, assignment: str, students: int) -> Path:
    """The benchmark's class, each notebook slowed by a cell (time to land a fault mid-run); every
    4th student's output far over the limits (cut, never a score)."""
    def extra(number: int) -> list[str]:
        flood = ["print('x' * 30_000_000)\nfor i in range(20_000):\n    print(i)"] if number % 4 == 3 else []
        return ["import time\ntime.sleep(0.8)", *flood]

    return bench_grade.build_class(workdir, assignment, students, extra)


def all_scores(course: Path, assignment: str) -> dict[str, dict[str, float]]:
    with sqlite3.connect(course / "gradebook.db") as db:
        students = [r[0] for r in db.execute("SELECT DISTINCT student_id FROM submitted_assignment")]
    return {s: cell_scores(f"sqlite:///{course / 'gradebook.db'}", assignment, s) for s in students}


def null_rows(course: Path) -> int:
    with sqlite3.connect(course / "gradebook.db") as db:
        return db.execute("SELECT count(*) FROM grade WHERE auto_score IS NULL AND manual_score IS NULL").fetchone()[0]


def state_whole(course: Path) -> bool:
    path = course / "autograded" / ".autograder_state.json"
    if not path.exists():
        return True
    try:
        json.loads(path.read_text())
    except ValueError:
        return False
    return True


def graded_count(course: Path, assignment: str) -> int:
    return len(list((course / "autograded").glob(f"*/{assignment}/*.ipynb")))


def statuses(out: str) -> dict[str, str]:
    """student -> status, from the summary table ``autograder grade`` printed."""
    row = re.compile(r"^\W*(\S+)\s*\W\s*[-\d./ ]+\W\s*(graded|problems|failed|not graded|skipped)\s*\W")
    return {m.group(1): m.group(2) for m in map(row.match, out.splitlines()) if m}


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def _command(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def descendants(pid: int) -> list[int]:
    parents = {int(p.name): _parent(int(p.name)) for p in Path("/proc").iterdir() if p.name.isdigit()}
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent]
        found += children
        frontier += children
    return found


def kernels(coordinator: int) -> dict[int, str]:
    """pid -> student of every submission kernel now running under the coordinator."""
    found = {}
    for pid in descendants(coordinator):
        if _command(pid).startswith(PYTHON) and _command(_parent(pid)).startswith(PYTHON):
            try:
                match = JOB.search(os.readlink(f"/proc/{pid}/cwd") + "/")
            except OSError:
                continue
            if match:
                found[pid] = match.group(1)
    return found


def workers(coordinator: int) -> list[int]:
    """The workers' process groups (bubblewrap, started by the coordinator)."""
    return [pid for pid in descendants(coordinator) if _parent(pid) == coordinator and b"bwrap" in _command(pid)]


def grade(course: Path, assignment: str, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "autograder.cli.main", "grade", assignment, "--root", str(course), *extra]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "COLUMNS": "200"})


class Chaos:
    """Kills kernels (each student's at most once) and workers at random moments of one run.

    The first student whose kernel is killed is also hit a second time: the worker running it
    again is killed too. Twice not the student's doing: it must end as failed, with nothing
    written, and the plain rerun must grade it.
    """

    def __init__(self, run: subprocess.Popen, rng: random.Random, kernels_to_kill: int, workers_to_kill: int):
        self.run, self.rng = run, rng
        self.kernels_left, self.workers_left = kernels_to_kill, workers_to_kill
        self.killed_kernels: list[str] = []
        self.killed_workers = 0
        self.twice: str | None = None  # the student hit twice
        self.twice_done = False
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while self.run.poll() is None and (self.kernels_left or self.workers_left
                                           or (self.twice and not self.twice_done)):
            if self.twice and not self.twice_done and self._second_hit():
                continue
            time.sleep(self.rng.uniform(0.3, 1.5) if not self.twice or self.twice_done else 0.05)
            if self.kernels_left and (not self.workers_left or self.rng.random() < 0.7):
                running = {p: s for p, s in kernels(self.run.pid).items() if s not in self.killed_kernels}
                if running:
                    pid, student = self.rng.choice(sorted(running.items()))
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                        self.killed_kernels.append(student)
                        self.kernels_left -= 1
                        self.twice = self.twice or student
            elif self.workers_left:
                busy = [w for w in workers(self.run.pid)
                        if any(s != self.twice for s in kernels(w).values())]
                if busy:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(self.rng.choice(busy), signal.SIGKILL)
                        self.killed_workers += 1
                        self.workers_left -= 1

    def _second_hit(self) -> bool:
        """Kill the worker that runs the twice-hit student again, once it does."""
        for worker in workers(self.run.pid):
            if self.twice in kernels(worker).values():
                time.sleep(self.rng.uniform(0.0, 0.3))
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(worker, signal.SIGKILL)
                    self.killed_workers += 1
                    self.twice_done = True
                return True
        return False


def graded_since(course: Path, assignment: str, since: float) -> int:
    """Graded notebooks written since ``since`` (a time.time())."""
    return sum(1 for p in (course / "autograded").glob(f"*/{assignment}/*.ipynb") if p.stat().st_mtime >= since)


def _wait_for_graded(course: Path, assignment: str, run: subprocess.Popen, since: float, count: int) -> None:
    """Until the run has written ``count`` submissions (or ended)."""
    while run.poll() is None and graded_since(course, assignment, since) < count:
        time.sleep(0.02)


def _log_size(course: Path) -> int:
    path = course / "autograder.log"
    return path.stat().st_size if path.exists() else 0


def _log_since(course: Path, offset: int) -> str:
    """What ``autograder.log`` got since it was ``offset`` bytes long (the CLI shows 10 problems at most)."""
    try:
        with open(course / "autograder.log", "rb") as handle:
            handle.seek(offset)
            return handle.read().decode(errors="replace")
    except OSError:
        return ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", default="03_single_neuron")
    parser.add_argument("--students", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="build the courses here and keep them")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    base = args.keep or Path(tempfile.mkdtemp(prefix="chaos-"))
    if args.keep and base.exists():
        shutil.rmtree(base)
    print(f"building a class of {args.students} submissions of {args.assignment} in {base} (seed {args.seed}) ...",
          flush=True)
    calm = build_class(base / "calm", args.assignment, args.students)
    chaos = base / "chaos"
    shutil.copytree(calm, chaos)
    workers_flag = ["--workers", str(args.workers)]
    rows: list[tuple[str, str]] = []
    problems: list[str] = []

    def check(after: str) -> None:
        nulls, whole = null_rows(chaos), state_whole(chaos)
        if nulls or not whole:
            problems.append(f"after {after}: {nulls} score-less rows, state file {'whole' if whole else 'DAMAGED'}")

    print("undisturbed run ...", flush=True)
    started = time.monotonic()
    out, _ = grade(calm, args.assignment, *workers_flag).communicate()
    rows.append(("none (the undisturbed run)", f"{time.monotonic() - started:.1f} s"))
    expected = all_scores(calm, args.assignment)
    if len(expected) != args.students:
        print(out)
        print("the undisturbed run did not grade the whole class", file=sys.stderr)
        return 2

    print("1. coordinator killed (SIGKILL) ...", flush=True)
    started = time.time()
    run = grade(chaos, args.assignment, *workers_flag)
    _wait_for_graded(chaos, args.assignment, run, started, rng.randint(1, max(1, args.students // 2)))
    run.kill()
    run.communicate()
    check("SIGKILL")
    kept = graded_since(chaos, args.assignment, started)
    run = grade(chaos, args.assignment, *workers_flag)
    out, _ = run.communicate()
    check("the rerun after SIGKILL")
    rows.append(("coordinator killed (SIGKILL) mid-class",
                 f"{kept} graded kept, {null_rows(chaos)} score-less rows; the rerun: exit {run.returncode}, "
                 f"{graded_since(chaos, args.assignment, started) - kept} more graded"))
    if run.returncode != 0:
        problems.append(f"the rerun after SIGKILL exited {run.returncode}:\n{out[-2000:]}")

    print("2. coordinator interrupted (SIGINT) ...", flush=True)
    started = time.time()
    run = grade(chaos, args.assignment, *workers_flag, "--force")
    _wait_for_graded(chaos, args.assignment, run, started, rng.randint(1, max(1, args.students // 2)))
    run.send_signal(signal.SIGINT)
    out, _ = run.communicate()
    check("SIGINT")
    said = next((line.strip() for line in out.splitlines() if line.startswith("stopped:")), "no 'stopped:' line")
    rows.append(("coordinator interrupted (Ctrl-C) mid-class",
                 f"exit {run.returncode}, {graded_since(chaos, args.assignment, started)} regraded, '{said}'"))
    if run.returncode != 130:
        problems.append(f"Ctrl-C: exit status {run.returncode}:\n{out[-2000:]}")

    print("3. --force with kernels and workers killed ...", flush=True)
    log_at = _log_size(chaos)
    run = grade(chaos, args.assignment, *workers_flag, "--force")
    monkey = Chaos(run, rng, kernels_to_kill=max(2, args.students // 3), workers_to_kill=2)
    monkey.thread.start()
    out, _ = run.communicate()
    monkey.thread.join(timeout=10)
    check("kills")
    retried = _log_since(chaos, log_at).count("running it again in a fresh kernel")
    failed = sorted(student for student, status in statuses(out).items() if status == "failed")
    twice = f"; {monkey.twice}'s kernel, then its worker" if monkey.twice_done else ""
    rows.append((f"{len(monkey.killed_kernels)} kernels killed (SIGKILL), {monkey.killed_workers} workers killed",
                 f"exit {run.returncode}, {retried} submissions run again{twice}, "
                 f"{len(failed)} failed twice (nothing written){': ' + ', '.join(failed) if failed else ''}"))
    if run.returncode not in (0, 1) or (run.returncode == 1) != bool(failed):
        problems.append(f"the run with kills exited {run.returncode}:\n{out[-3000:]}")
    if monkey.twice_done and failed != [monkey.twice]:
        problems.append(f"{monkey.twice} was hit twice, but the students that failed are {failed}")

    print("4. plain rerun ...", flush=True)
    started = time.monotonic()
    run = grade(chaos, args.assignment, *workers_flag)
    out, _ = run.communicate()
    seconds = time.monotonic() - started
    check("rerun")
    regraded = sorted(student for student, status in statuses(out).items() if status != "skipped")
    rows.append(("plain rerun", f"exit {run.returncode}, {seconds:.1f} s, "
                                + (f"graded {', '.join(regraded)}, skipped the rest" if regraded
                                   else "nothing left to do")))
    if run.returncode != 0 or regraded != failed:
        problems.append(f"the plain rerun: exit {run.returncode}, graded {regraded} (expected {failed}):\n"
                        f"{out[-2000:]}")

    got = all_scores(chaos, args.assignment)
    differ = sorted(s for s in expected if got.get(s) != expected[s])
    cut = sum(1 for p in (chaos / "autograded").glob(f"*/{args.assignment}/*.ipynb")
              if "cut here" in p.read_text(errors="replace"))
    rows.append(("output over the limits (every 4th student)", f"cut in {cut} notebooks, scores unchanged"))
    print()
    width = max(len(fault) for fault, _ in rows)
    print(f"{'fault'.ljust(width)}  outcome")
    for fault, outcome in rows:
        print(f"{fault.ljust(width)}  {outcome}")
    cells = sum(len(v) for v in expected.values())
    print()
    print(f"scores: {len(expected) - len(differ)} of {len(expected)} students ({cells} cells) equal to the "
          f"undisturbed run" + ("" if not differ else f"; DIFFER: {', '.join(differ)}"))
    for student in differ:
        print(f"  {student}: undisturbed {expected[student]} / chaos {got.get(student)}")
    for problem in problems:
        print(f"PROBLEM {problem}")
    if not args.keep:
        with contextlib.suppress(OSError):
            shutil.rmtree(base)
    print()
    if differ or problems:
        print(f"VERDICT: FAIL ({len(differ)} students' scores differ from the undisturbed run, "
              f"{len(problems)} other problems)")
        return 1
    print(f"VERDICT: PASS: every score of all {len(expected)} students equal to the undisturbed run; no score-less "
          f"rows, the state file whole after every fault")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
