"""What a run of ``autograder grade`` is asked, what it finds and decides, before anything heavy.

Light on purpose (no nbgrader, no torch): a rerun with nothing new to grade is decided
here, under the course lock, without starting a sandbox or importing nbgrader.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading import limits
from autograder.grading.faults import describe_mode
from autograder.grading.state import State, fingerprint, is_current

LOCK_FILE = ".autograder.lock"

#: Result.status values, in the order the summary counts them.
STATUSES = ("graded", "problems", "failed", "not graded", "skipped")


class GradeError(RuntimeError):
    """The class cannot be graded at all (the message says what to do)."""


class CourseBusy(GradeError):
    """Another ``autograder grade`` holds the course."""


class RunStopped(GradeError):
    """The run stopped before the end (Ctrl-C, a full disk, the gradebook locked or read-only,
    no sandbox). What was graded stays graded; ``results`` says which; a rerun does the rest."""

    def __init__(self, message: str, reason: str, results: list[Result] | None = None) -> None:
        super().__init__(message)
        self.reason = reason  # interrupted | disk_full | too_large | gradebook_locked | read_only | sandbox | error
        self.results = results or []


@dataclass
class Result:
    """How one submission went."""

    student: str
    status: str = "graded"  # graded | problems | failed | not graded | skipped
    score: float = 0.0
    max_score: float = 0.0
    problems: list[str] = field(default_factory=list)
    cells: dict[str, float] = field(default_factory=dict)


@dataclass
class Options:
    """What ``autograder grade`` was asked to do."""

    assignment: str
    root: Path = Path(".")
    students: list[str] = field(default_factory=list)
    workers: int = 0  # 0: one per core
    timeout: float | None = None  # None: the course's Execute.timeout
    memory_gb: float = 4.0
    force: bool = False
    sandboxed: bool = True
    figures: bool = False  # draw plots into autograded/ (slower; scores never depend on them)
    cell_output: int = limits.CELL_OUTPUT  # characters of output kept per cell
    notebook_output: int = limits.NOTEBOOK_OUTPUT  # ... and per notebook
    processes: int = limits.PROCESSES  # processes and threads per submission


@dataclass
class Plan:
    """The submissions found, and which of them this run grades."""

    found: list[tuple[str, Path]]
    work: list[tuple[str, Path, str]]  # (student, folder, fingerprint)
    skipped: list[str]
    state: State

    def pool_size(self, options: Options) -> int:
        return max(1, min(options.workers or os.cpu_count() or 1, len(self.work)))


def submissions(root: Path, assignment: str, students: list[str]) -> list[tuple[str, Path]]:
    """(student, folder) of every submission of ``assignment``, in student order."""
    root = Path(root).resolve()
    submitted = root / "submitted"
    if not submitted.is_dir():
        raise GradeError(f"no submitted/ folder in {root}: collect the submissions there first "
                         f"(submitted/<student>/{assignment}/), or pass --root")
    found = sorted((p.parent.name, p) for p in submitted.glob(f"*/{assignment}") if p.is_dir())
    if students:
        wanted = set(students)
        missing = wanted - {s for s, _ in found}
        if missing:
            raise GradeError(f"no submission of {assignment} for {', '.join(sorted(missing))} "
                             f"in {submitted}")
        found = [(s, p) for s, p in found if s in wanted]
    if not found:
        raise GradeError(f"no submissions of {assignment}: expected folders like "
                         f"{submitted}/<student>/{assignment}/")
    return found


def make_plan(options: Options, state: State | None = None) -> Plan:
    """Find the submissions and decide which to grade: all with ``force``, else the new, the
    changed and the ones not graded last time. ``state.damaged`` must be handled by the caller."""
    root = Path(options.root).resolve()
    found = submissions(root, options.assignment, options.students)
    autograded = root / "autograded"
    state = state if state is not None else State.load(autograded)
    work, skipped = [], []
    for student, folder in found:
        now = fingerprint(folder)
        dest = autograded / student / options.assignment
        if options.force or not is_current(state, options.assignment, student, now, dest):
            work.append((student, folder, now))
        else:
            skipped.append(student)
    return Plan(found, work, skipped, state)


_HELD: dict[Path, list[int]] = {}  # lock file -> [holding thread, depth]


@contextlib.contextmanager
def course_lock(root: Path) -> Iterator[None]:
    """One ``autograder grade`` at a time per course; re-entrant within this process.

    The lock is an ``flock`` on ``<course>/.autograder.lock`` (released by the kernel
    however the run ends), and the file says who holds it.
    """
    path = Path(root).resolve() / LOCK_FILE
    held = _HELD.get(path)
    if held is not None and held[0] == threading.get_ident():
        held[1] += 1
        try:
            yield
        finally:
            held[1] -= 1
        return
    if held is not None:
        raise CourseBusy(f"another `autograder grade` (in this process, PID {os.getpid()}) is grading "
                         f"{path.parent} now: wait for it to finish, then run this again")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as error:
        raise GradeError(f"cannot create the lock file {path}: {error.strerror}: the course folder must be "
                         f"writable by you ({describe_mode(path.parent)})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(fd)
        os.close(fd)
        raise CourseBusy(f"another `autograder grade` ({holder}) is grading {path.parent} now: wait for it to "
                         f"finish, or stop it, then run this again") from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"PID {os.getpid()}, started {time.strftime('%H:%M:%S')}: "
                      f"{_short(' '.join(sys.argv))}\n".encode(), 0)
    except OSError:
        pass  # a full disk: the lock holds all the same
    _HELD[path] = [threading.get_ident(), 1]
    try:
        yield
    finally:
        del _HELD[path]
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 400, 0).decode(errors="replace").strip()
    except OSError:
        text = ""
    return text or "its PID is not recorded"


def _short(text: str, width: int = 120) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."
