"""Grade a class: find submissions, sanitize, run them on the worker pool, score, write.

This is the coordinator: the only process that opens the gradebook (once) or
writes under ``autograded/``. Student code never runs here.

What it guarantees when something goes wrong:

- Faults that are not the student's (a worker or kernel killed from outside, a
  sandbox that does not start, the grader's own error) never cost points: the
  submission runs again in a fresh child, once; if that fails too it is reported,
  nothing is written for it, and a plain rerun grades it again.
- Each submission is written as a whole: its gradebook rows in one transaction,
  its notebooks and files in a staging folder renamed into place after the commit,
  the state file atomically. An interrupted run leaves the old scores or the new
  ones, never rows without scores.
- Faults of the machine (a full disk, a locked or read-only gradebook) stop the run
  with one or two lines saying what to do (:class:`RunStopped`); Ctrl-C stops it the
  same way. What was graded stays graded; the rerun does the rest.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry

from autograder.grading import faults, judging, launch, nbgrader_steps, pool, settings
from autograder.grading.executors import database
from autograder.grading.plan import (
    CourseBusy,
    GradeError,
    Options,
    Plan,
    Result,
    RunStopped,
    course_lock,
    make_plan,
    submissions,
)
from autograder.grading.sandbox import START_HINT
from autograder.grading.state import METADATA_KEY, STATE_FILE, State, fingerprint, stale_files

# nbgrader's own API warns about its lazy SQLAlchemy relationships on every new
# submission; the warning is about nbgrader's internals and says nothing to an instructor.
warnings.filterwarnings("ignore", message=r"Object of type <Submitted", module="nbgrader")
warnings.filterwarnings("ignore", message=r"Object of type <Submitted")

__all__ = ["STATE_FILE", "CourseBusy", "GradeError", "Options", "Result", "RunStopped", "fingerprint", "grade",
           "submissions"]

#: Where a submission's new files are put together before they replace the old ones.
STAGING = ".autograder_tmp"
#: Seconds between two writes of the state file during a run.
STATE_EVERY = 0.5
#: Job statuses that are not the student's doing: the submission runs again, once.
NOT_THE_STUDENTS = ("lost", "nostart", "killed")


@dataclass
class _Pending:
    """A sanitized notebook waiting for its outputs."""

    student: str
    notebook: str
    nb: NotebookNode
    cells: dict[int, NotebookNode]
    job: pool.Job
    event: pool.Event | None = None  # how its last run ended
    grader_problems: list[str] = field(default_factory=list)


@dataclass
class _Submission:
    """One student's submission in flight: its notebooks, and how many runs it has had."""

    student: str
    folder: Path
    fingerprint: str
    items: dict[str, _Pending]  # job id -> notebook
    missing: list[str]  # notebooks of the assignment it does not have
    open: set[str] = field(default_factory=set)
    attempt: int = 1
    first: dict[str, pool.Event] = field(default_factory=dict)  # how each job's first run ended


Progress = Callable[[Result], None]
Log = Callable[[str], None]


@dataclass
class Course:
    """The course folder and its nbgrader settings."""

    root: Path
    config: Any
    coursedir: Any
    db_url: str

    @classmethod
    def load(cls, root: Path) -> Course:
        root = Path(root).resolve()
        config = settings.load_config(root)
        return cls(root, config, settings.course_directory(config), settings.db_url(config, root))

    @property
    def db_path(self) -> Path | None:
        prefix = "sqlite:///"
        return Path(self.db_url[len(prefix):]) if self.db_url.startswith(prefix) else None


def _ignored(course: Course) -> list[str]:
    return list(course.coursedir.ignore)


def _other_files(folder: Path, course: Course) -> list[Path]:
    if not folder.is_dir():
        return []
    return [Path(p) for p in utils.find_all_files(str(folder), _ignored(course) + ["*.ipynb"])]


@contextlib.contextmanager
def interpreter_on_path() -> Iterator[None]:
    """This Python's folder first on PATH: nbgrader runs ``alembic`` by name when it creates a
    gradebook, and a venv's ``bin/`` is not on PATH unless the venv is activated."""
    here = str(Path(sys.executable).parent)
    before = os.environ.get("PATH", "")
    if here in before.split(os.pathsep):
        yield
        return
    os.environ["PATH"] = os.pathsep.join([here, before]) if before else here
    try:
        yield
    finally:
        os.environ["PATH"] = before


def grade(options: Options, progress: Progress | None = None, log: Log | None = None,
          workers: pool.Pool | None = None, plan: Plan | None = None) -> list[Result]:
    """Grade the class; one :class:`Result` per submission (skipped ones included).

    ``workers``: a pool already started by :func:`launch.start_workers` (started here if None,
    and only when something is to be graded); ``plan``: what to grade, when already decided
    under the course lock. Raises :class:`RunStopped` (with the results so far) when the run
    stops early, :class:`CourseBusy` when another run holds the course.
    """
    log = log or (lambda message: None)
    progress = progress or (lambda result: None)
    root = Path(options.root).resolve()
    try:
        with course_lock(root):
            return _grade_locked(options, root, progress, log, workers, plan)
    finally:
        if workers is not None:
            workers.abort()


def _grade_locked(options: Options, root: Path, progress: Progress, log: Log, workers: pool.Pool | None,
                  plan: Plan | None) -> list[Result]:
    if plan is None or plan.state.damaged:
        state = plan.state if plan is not None else State.load(root / "autograded")
        if state.damaged:
            _rebuild_state(options, root, state, log)
        plan = make_plan(options, state)
    results: dict[str, Result] = {s: Result(s, status="skipped") for s in plan.skipped}
    if not plan.work:
        return [results[s] for s, _ in plan.found]
    if workers is None:
        workers = launch.start_workers(root, options.assignment, size=plan.pool_size(options),
                                       sandboxed=options.sandboxed, memory_gb=options.memory_gb, log=log,
                                       figures=options.figures,
                                       output=(options.cell_output, options.notebook_output),
                                       processes=options.processes)
    stopped: RunStopped | None = None
    try:
        _Run(options, plan, workers, results, progress, log).grade()
    except KeyboardInterrupt:
        stopped = RunStopped("interrupted (Ctrl-C)", "interrupted")
    except RunStopped as error:
        stopped = error
    finally:
        if stopped is not None or sys.exc_info()[0] is not None:
            workers.abort()
        else:
            workers.close()
    ordered = []
    for student, _ in plan.found:
        result = results.get(student) or Result(student, status="not graded")
        ordered.append(result)
    if stopped is not None:
        stopped.results = ordered
        raise stopped
    return ordered


class _Run:
    """The grading of one plan's work: prepare, run, judge, retry, write."""

    def __init__(self, options: Options, plan: Plan, workers: pool.Pool, results: dict[str, Result],
                 progress: Progress, log: Log) -> None:
        self.options, self.plan, self.workers = options, plan, workers
        self.results, self.progress, self.log = results, progress, log
        self.assignment = options.assignment
        self.state = plan.state
        self.course = Course.load(options.root)
        self.autograded = self.course.root / "autograded"
        self.source_dir = self.course.root / "source" / self.assignment
        self.subs: dict[str, _Submission] = {}
        self.written: list[int] = []  # bytes written per submission (to say how much a full disk needs)
        self.gradebook: Gradebook | None = None
        self.max_score = 0.0
        self.saved_at = 0.0  # when the state file was last written
        self.unsaved = False

    # --- the run ---

    def grade(self) -> None:
        if self.options.timeout:
            self.workers.timeout = self.options.timeout
        self._tidy()
        source_files = _other_files(self.source_dir, self.course)
        self.source_files = source_files
        files = self._guard(lambda: _encode(self.source_dir, source_files), writing=None)
        with interpreter_on_path():
            # Tables and students once, before any job is handed out (executors.database): then
            # one transaction per submission, on SQLite or a PostgreSQL server alike.
            self._guard(lambda: database.prepare(self.course.db_url, self.course.coursedir.course_id,
                                                 [student for student, _, _ in self.plan.work]),
                        writing=self.course.db_path)
            self.gradebook = self._guard(lambda: Gradebook(self.course.db_url, self.course.coursedir.course_id),
                                         writing=self.course.db_path)
        try:
            try:
                known = self.gradebook.find_assignment(self.assignment)
            except MissingEntry:
                raise GradeError(f"the gradebook {database.describe(self.course.db_url)} has no assignment "
                                 f"{self.assignment!r}: run `nbgrader generate_assignment {self.assignment}` in "
                                 f"{self.course.root} first") from None
            notebooks = [nb.name for nb in known.notebooks]
            self.max_score = float(known.max_score)
            with nbgrader_steps.shared_gradebook(self.gradebook):
                for student, folder, now in self.plan.work:
                    sub = self._prepare(student, folder, now, notebooks, files)
                    if sub is None:
                        continue
                    self.subs[student] = sub
                    if not sub.items:
                        self._settle(sub)
                        continue
                    for job_id, item in sub.items.items():
                        sub.open.add(job_id)
                        self.workers.submit(item.job)
                self._collect()
            self._guard(lambda: self._save_state(now=True), writing=self.state.path)
        finally:
            if self.unsaved:  # the run stopped: keep what it did (best effort, the stop says why)
                with contextlib.suppress(Exception):
                    self._save_state(now=True)
            with contextlib.suppress(Exception):
                self.gradebook.db.rollback()
            with contextlib.suppress(Exception):
                self.gradebook.close()

    def _save_state(self, now: bool = False) -> None:
        """Write the state file, at most twice a second (and at the end of the run): a run killed
        in between only makes the next run grade again the few submissions it had not saved."""
        self.unsaved = True
        if now or time.monotonic() - self.saved_at >= STATE_EVERY:
            self.state.save()
            self.saved_at = time.monotonic()
            self.unsaved = False

    def _tidy(self) -> None:
        """Remove what a killed run left: its staging folder and temporary files."""
        shutil.rmtree(self.autograded / STAGING, ignore_errors=True)
        for path in stale_files(self.autograded):
            with contextlib.suppress(OSError):
                path.unlink()

    def _collect(self) -> None:
        while any(sub.open for sub in self.subs.values()):
            try:
                event = self.workers.events.get(timeout=1.0)
            except queue.Empty:
                if not self.workers.alive():
                    raise RunStopped(getattr(self.workers, "failure", None)  # an executor's own words (Dask)
                                     or "the workers stopped unexpectedly (details in autograder.log)",
                                     "error") from None
                continue
            student, _, _ = event.job_id.partition("/")
            sub = self.subs.get(student)
            item = sub.items.get(event.job_id) if sub is not None else None
            if item is None or event.attempt != sub.attempt:
                continue  # a run that was already given up
            if not event.done:
                cell = item.cells.get(event.index) if event.index is not None else None
                if cell is not None:
                    cell.outputs = [nbformat.from_dict(o) for o in event.outputs]
                    cell.execution_count = event.execution_count
                continue
            item.event = event
            sub.open.discard(event.job_id)
            if event.problems and event.status not in NOT_THE_STUDENTS:
                said = "" if event.status == "ok" else f"{event.status}: "  # "ok" with problems: output cut
                self.log(f"{student}: {said}" + "; ".join(event.problems))
            if event.status == "nostart" and not self.workers.ever_ready:
                raise RunStopped(f"the sandbox could not start: {_last(self.workers.start_errors)}\n{START_HINT}",
                                 "sandbox")
            if event.status not in NOT_THE_STUDENTS:
                item.grader_problems = judging.judge_notebook(item.cells.values(), self.log)
            if not sub.open:
                self._settle(sub)

    # --- one submission ---

    def _settle(self, sub: _Submission) -> None:
        """All of a submission's notebooks ran: write it, run it again, or give up on it."""
        again = [self._why_again(sub, item) for item in sub.items.values()]
        again = [why for why in again if why]
        if again:
            if sub.attempt == 1:
                self._retry(sub, again)
            else:
                self._give_up(sub, again)
            return
        try:
            with _interrupts_deferred():  # written whole, and counted as written, or not at all
                result = self.results[sub.student] = self._commit(sub)
        except (KeyboardInterrupt, RunStopped):
            raise
        except Exception as error:  # noqa: BLE001 - the grader's error: never the student's
            fault = faults.environment_fault(error, gradebook=self.course.db_path, writing=self.autograded,
                                             need=self._need())
            if fault is not None:
                raise RunStopped(fault.message, fault.reason) from error
            why = f"the grader could not write the results: {type(error).__name__}: {error}"
            self.log(f"{sub.student}: {why}")
            if sub.attempt == 1:
                self._retry(sub, [why])
            else:
                self._give_up(sub, [why])
            return
        self.progress(result)
        self._guard(self._save_state, writing=self.state.path)

    def _why_again(self, sub: _Submission, item: _Pending) -> str | None:
        """Why this notebook's run does not count (not the student's doing), or None."""
        event = item.event
        assert event is not None
        if item.grader_problems:
            return "; ".join(item.grader_problems)
        if event.status not in NOT_THE_STUDENTS:
            return None
        first = sub.first.get(item.job.job_id)
        if (event.status == "killed" and first is not None and first.status == "killed" and first.fault
                and event.fault and first.fault.get("cell") == event.fault.get("cell")
                and first.fault.get("detail") == event.fault.get("detail")):
            # Killed at the same cell in a fresh child too: the code does it to itself.
            event.problems.append(f"cell {event.fault.get('cell')}: killed the same way in two fresh kernels: "
                                  "counted as the code's own doing")
            return None
        return "; ".join(event.problems) or event.status

    def _retry(self, sub: _Submission, why: list[str]) -> None:
        self.log(f"{sub.student}: not the student's doing ({'; '.join(why)}): running it again in a fresh kernel")
        sub.first = {job_id: item.event for job_id, item in sub.items.items() if item.event is not None}
        sub.attempt += 1
        for job_id, item in sub.items.items():
            for cell in item.cells.values():
                cell.outputs = []
                cell.execution_count = None
            item.event = None
            item.grader_problems = []
            item.job.attempt = sub.attempt
            sub.open.add(job_id)
            self.workers.submit(item.job)

    def _give_up(self, sub: _Submission, why: list[str]) -> None:
        problems = [f"not graded, twice not the student's doing: {w}" for w in why]
        self.log(f"{sub.student}: {'; '.join(problems)}; nothing was written, the next run grades it again")
        self.state.forget(self.assignment, sub.student)
        self._guard(self._save_state, writing=self.state.path)
        result = Result(sub.student, status="failed", max_score=self.max_score, problems=problems)
        self.results[sub.student] = result
        self.progress(result)

    def _prepare(self, student: str, folder: Path, now: str, notebooks: list[str],
                 files: dict[str, str]) -> _Submission | None:
        """Read and sanitize a submission's notebooks (nothing is written yet)."""
        assert self.gradebook is not None
        read: dict[str, NotebookNode] = {}
        for name in notebooks:
            path = folder / f"{name}.ipynb"
            if not path.exists():
                continue
            try:
                read[name] = nbformat.read(path, as_version=4)
            except Exception as error:  # noqa: BLE001 - any unreadable notebook fails this student only
                self._fail(student, f"cannot read {path}: {type(error).__name__}: {error}")
                return None
        items: dict[str, _Pending] = {}
        try:
            for name, nb in read.items():
                resources = nbgrader_steps.resources_for(student, self.assignment, name, self.course.db_url)
                nb = nbgrader_steps.sanitize(nb, resources, self.course.config, self.gradebook)
                cells = {i: c for i, c in enumerate(nb.cells) if c.cell_type == "code"}
                job_id = f"{student}/{name}"
                job = pool.Job(job_id, [{"index": i, "source": c.source, "test": nbgrader_steps.is_test_cell(c)}
                                        for i, c in cells.items()], files=files)
                items[job_id] = _Pending(student, name, nb, cells, job)
        except Exception as error:  # noqa: BLE001 - one broken submission must not stop the class
            self.gradebook.db.rollback()
            self._fail(student, f"could not prepare the submission: {type(error).__name__}: {error}")
            return None
        return _Submission(student, folder, now, items, [n for n in notebooks if n not in read])

    def _fail(self, student: str, message: str) -> None:
        self.log(f"{student}: {message}")
        self.state.forget(self.assignment, student)
        self._guard(self._save_state, writing=self.state.path)
        result = Result(student, status="failed", max_score=self.max_score, problems=[message])
        self.results[student] = result
        self.progress(result)

    def _commit(self, sub: _Submission) -> Result:
        """Score and write one submission: all of it, or (on any error) none of it."""
        gradebook = self.gradebook
        assert gradebook is not None
        student = sub.student
        staging_root = self.autograded / STAGING
        staging_root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{student}-", dir=staging_root))
        try:
            problems: list[str] = []
            with _one_transaction(gradebook):
                gradebook.update_or_create_student(student)
                timestamp = self.course.coursedir.get_existing_timestamp(str(sub.folder))
                if timestamp:
                    gradebook.update_or_create_submission(self.assignment, student, timestamp=timestamp)
                else:
                    gradebook.update_or_create_submission(self.assignment, student)
                for name in sub.missing:
                    problems.append(f"no submitted file {name}.ipynb: its cells score 0")
                    submitted = gradebook.find_submission_notebook(name, self.assignment, student)
                    for grade_row in submitted.grades:
                        grade_row.auto_score = 0
                        grade_row.needs_manual_grade = False
                if not sub.items:
                    problems.append("no notebook submitted")
                for item in sub.items.values():
                    assert item.event is not None
                    problems.extend(item.event.problems)
                    resources = nbgrader_steps.resources_for(student, self.assignment, item.notebook,
                                                             self.course.db_url)
                    nb = nbgrader_steps.score(item.nb, resources, self.course.config)
                    nb.metadata[METADATA_KEY] = {"fingerprint": sub.fingerprint}
                    text = nbformat.writes(nb)
                    # Text that UTF-8 cannot hold (a lone surrogate) must not make the write fail.
                    (staging / f"{item.notebook}.ipynb").write_bytes((text + "\n").encode("utf-8", "replace"))
                    os.chmod(staging / f"{item.notebook}.ipynb", 0o444)
                for path in _other_files(sub.folder, self.course):
                    _copy(path, staging / path.relative_to(sub.folder))
                for path in self.source_files:
                    _copy(path, staging / path.relative_to(self.source_dir))
            self.written.append(_folder_size(staging))
            dest = self.autograded / student / self.assignment
            _swap(staging, dest)
            self.state.record(self.assignment, student, sub.fingerprint, [i.notebook for i in sub.items.values()])
            self.unsaved = True  # saved by the caller: a full disk there stops the run, with this one written
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        cells = _cell_scores(gradebook, self.assignment, student)
        status = "problems" if problems else "graded"
        return Result(student, status=status, score=sum(cells.values()), max_score=self.max_score,
                      problems=problems, cells=cells)

    # --- faults of the machine ---

    def _guard(self, action: Callable[[], Any], writing: Path | None) -> Any:
        """``action()``, with a fault of the machine turned into :class:`RunStopped`."""
        try:
            return action()
        except (KeyboardInterrupt, RunStopped, GradeError):
            raise
        except Exception as error:
            fault = faults.environment_fault(error, gradebook=self.course.db_path, writing=writing,
                                             need=self._need())
            if fault is None:
                raise
            raise RunStopped(fault.message, fault.reason) from error

    def _need(self) -> int:
        """Bytes the rest of the run should need on disk (to say how much to free)."""
        left = sum(1 for s, _, _ in self.plan.work if s not in self.results) or 1
        if self.written:
            each = sum(self.written) / len(self.written)
        else:
            each = 2 * sum(_folder_size(folder) for _, folder, _ in self.plan.work[:5]) / min(5, len(self.plan.work))
        return int(each * left * 1.2) + (4 << 20)


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait for the end of the block (in the main thread; elsewhere signals
    never land anyway): a submission is written whole (gradebook, notebooks, state) and counted
    as written, or not at all. The signal is then delivered as it would have been."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def hold(signum: int, frame: object) -> None:
        caught.append(signum)

    previous = {number: signal.signal(number, hold) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)
        if caught:
            signal.raise_signal(caught[0])


@contextlib.contextmanager
def _one_transaction(gradebook: Gradebook) -> Iterator[None]:
    """nbgrader's API commits after every change; inside this block those commits only flush,
    and the block commits once at its end (or rolls everything back)."""
    session = gradebook.db

    class _Deferred:
        def __getattr__(self, name: str) -> Any:
            return getattr(session, name)

        @staticmethod
        def commit() -> None:
            session.flush()

    gradebook.db = _Deferred()
    try:
        yield
        gradebook.db = session
        session.commit()
    except BaseException:
        gradebook.db = session
        with contextlib.suppress(Exception):
            session.rollback()
        raise
    finally:
        gradebook.db = session


def _swap(staging: Path, dest: Path) -> None:
    """Put ``staging`` where ``dest`` is, replacing it (two renames; a crash between them leaves
    ``dest`` missing, which the next run grades again)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    for path in stale_files(dest.parent):
        shutil.rmtree(path, ignore_errors=True)
    old = None
    if dest.exists():
        old = dest.parent / f".{dest.name}.{os.getpid()}.tmp"
        os.rename(dest, old)
    os.rename(staging, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _rebuild_state(options: Options, root: Path, state: State, log: Log) -> None:
    """A damaged or missing state file, rebuilt from the gradebook and the graded notebooks.

    A submission counts as graded when the gradebook has scores for every autograded cell
    and each of its graded notebooks was made from the submission as it is now (the
    fingerprint in the notebook's metadata, or in a state file of the older version).
    """
    course = Course.load(root)
    autograded = course.root / "autograded"
    found = submissions(root, options.assignment, [])  # every student, whoever this run grades
    confirmed = 0
    with interpreter_on_path(), Gradebook(course.db_url, course.coursedir.course_id) as gradebook:
        try:
            known = gradebook.find_assignment(options.assignment)
        except MissingEntry:
            known = None
        for student, folder in found:
            if known is None:
                break
            now = fingerprint(folder)
            dest = autograded / student / options.assignment
            names = [nb.name for nb in known.notebooks if (dest / f"{nb.name}.ipynb").exists()]
            if not names or not _scores_complete(gradebook, options.assignment, student):
                continue
            if all(_made_from(dest / f"{name}.ipynb") == now for name in names) or state.legacy.get(student) == now:
                state.record(options.assignment, student, now, names)
                confirmed += 1
    rest = "; the others are graded now" if confirmed < len(found) else ""
    log(f"the state file {state.path} was {state.damaged}: rebuilt from the gradebook ({confirmed} of "
        f"{len(found)} submissions of {options.assignment} confirmed graded{rest})")
    state.legacy = {}
    try:
        state.save()
    except OSError as error:
        fault = faults.environment_fault(error, gradebook=course.db_path, writing=state.path)
        raise RunStopped(fault.message if fault else f"cannot write {state.path}: {error}",
                         fault.reason if fault else "error") from error


def _scores_complete(gradebook: Gradebook, assignment: str, student: str) -> bool:
    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return False
    for notebook in submission.notebooks:
        for grade_row in notebook.grades:
            if grade_row.auto_score is None and grade_row.manual_score is None and not grade_row.needs_manual_grade:
                return False
    return True


def _made_from(path: Path) -> str | None:
    try:
        meta = json.loads(path.read_bytes()).get("metadata", {}).get(METADATA_KEY, {})
    except (OSError, ValueError, AttributeError):
        return None
    return meta.get("fingerprint") if isinstance(meta, dict) else None


def _cell_scores(gradebook: Gradebook, assignment: str, student: str) -> dict[str, float]:
    submission = gradebook.find_submission(assignment, student)
    return {grade_row.name: float(grade_row.score) for nb in submission.notebooks for grade_row in nb.grades}


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    shutil.copy(source, target)


def _folder_size(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        with contextlib.suppress(OSError):
            if path.is_file():
                total += path.stat().st_size
    return total


def _last(items: list[str]) -> str:
    return items[-1] if items else "no worker said why"


def _encode(source_dir: Path, files: list[Path]) -> dict[str, str]:
    """The instructor's non-notebook files (data), for the submission's working folder."""
    return {str(p.relative_to(source_dir)): base64.b64encode(p.read_bytes()).decode() for p in files}
