"""Grade a class: find submissions, sanitize, run them on the worker pool, score, write.

This is the coordinator: the only process that opens the gradebook (once) or
writes under ``autograded/``. Student code never runs here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry

from autograder.grading import judging, launch, nbgrader_steps, pool, settings

# nbgrader's own API warns about its lazy SQLAlchemy relationships on every new
# submission; the warning is about nbgrader's internals and says nothing to an instructor.
warnings.filterwarnings("ignore", message=r"Object of type <Submitted", module="nbgrader")

__all__ = ["GradeError", "Options", "Result", "grade", "submissions"]

STATE_FILE = ".autograder_state.json"


class GradeError(RuntimeError):
    """The class cannot be graded at all (the message says what to do)."""


@dataclass
class Result:
    """How one submission went."""

    student: str
    status: str = "graded"  # graded | skipped | failed | problems
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


@dataclass
class _Pending:
    """A sanitized notebook waiting for its outputs (``dest``: autograded/<student>/<assignment>)."""

    student: str
    notebook: str
    nb: NotebookNode
    dest: Path
    cells: dict[int, NotebookNode]
    problems: list[str] = field(default_factory=list)


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


def fingerprint(folder: Path) -> str:
    """A digest of every file of a submission (what a rerun compares)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _ignored(settings: Course) -> list[str]:
    return list(settings.coursedir.ignore)


def _other_files(folder: Path, settings: Course) -> list[Path]:
    if not folder.is_dir():
        return []
    return [Path(p) for p in utils.find_all_files(str(folder), _ignored(settings) + ["*.ipynb"])]


def grade(options: Options, progress: Progress | None = None, log: Log | None = None,
          workers: pool.Pool | None = None) -> list[Result]:
    """Grade the class; one :class:`Result` per submission (skipped ones included).

    ``workers``: a pool already started by :func:`launch.start_workers` (started here if None).
    """
    log = log or (lambda message: None)
    progress = progress or (lambda result: None)
    assignment = options.assignment
    found = submissions(options.root, assignment, options.students)
    if workers is None:
        workers = launch.start_workers(options.root, assignment, size=_pool_size(options, len(found)),
                                       sandboxed=options.sandboxed, memory_gb=options.memory_gb, log=log,
                                       figures=options.figures)
    try:
        return _grade(options, found, workers, progress, log)
    finally:
        workers.close()


def _pool_size(options: Options, submissions: int) -> int:
    return max(1, min(options.workers or os.cpu_count() or 1, submissions))


def _grade(options: Options, found: list[tuple[str, Path]], workers: pool.Pool, progress: Progress,
           log: Log) -> list[Result]:
    settings = Course.load(options.root)
    assignment = options.assignment
    if options.timeout:
        workers.timeout = options.timeout
    autograded = settings.root / "autograded"
    state_path = autograded / STATE_FILE
    state: dict[str, str] = json.loads(state_path.read_text()) if state_path.exists() else {}
    source_dir = settings.root / "source" / assignment
    source_files = _other_files(source_dir, settings)
    results: dict[str, Result] = {}
    pending: dict[str, _Pending] = {}
    open_jobs: dict[str, list[str]] = {}

    with Gradebook(settings.db_url, settings.coursedir.course_id) as gradebook:
        try:
            known = gradebook.find_assignment(assignment)
        except MissingEntry:
            raise GradeError(f"the gradebook {settings.db_url} has no assignment {assignment!r}: run "
                             f"`nbgrader generate_assignment {assignment}` in {settings.root} first") from None
        notebooks = [nb.name for nb in known.notebooks]
        max_score = float(known.max_score)
        work = _select(found, notebooks, autograded, assignment, state, options.force, results, max_score)
        jobs = []
        with nbgrader_steps.shared_gradebook(gradebook):
            for student, folder in work:
                fresh = _prepare(student, folder, assignment, notebooks, settings, gradebook, autograded,
                                 source_dir, source_files, log)
                if isinstance(fresh, Result):
                    fresh.max_score = max_score
                    results[student] = fresh
                    progress(fresh)
                    continue
                results[student] = Result(student, max_score=max_score)
                open_jobs[student] = []
                for item in fresh:
                    job_id = f"{student}/{item.notebook}"
                    pending[job_id] = item
                    open_jobs[student].append(job_id)
                    job = pool.Job(job_id, [
                        {"index": i, "source": c.source, "test": nbgrader_steps.is_test_cell(c)}
                        for i, c in item.cells.items()], files=_encode(source_dir, source_files))
                    jobs.append(job)
                    workers.submit(job)
            _collect(workers, len(jobs), pending, open_jobs, results, dict(work), state, settings, gradebook,
                     progress, log)
    autograded.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps(state, indent=1, sort_keys=True))
    return [results[s] for s, _ in found]


def _collect(workers: pool.Pool, count: int, pending: dict[str, _Pending], open_jobs: dict[str, list[str]],
             results: dict[str, Result], folders: dict[str, Path], state: dict[str, str], settings: Course,
             gradebook: Gradebook, progress: Progress, log: Log) -> None:
    """Put the workers' outputs into the notebooks; score each submission when its last job ends."""
    done = 0
    while done < count:
        event = workers.events.get()
        item = pending[event.job_id]
        if not event.done:
            cell = item.cells.get(event.index) if event.index is not None else None
            if cell is not None:
                cell.outputs = [nbformat.from_dict(o) for o in event.outputs]
                cell.execution_count = event.execution_count
            continue
        done += 1
        student = item.student
        result = results[student]
        item.problems.extend(event.problems)
        if event.status != "ok":
            log(f"{student}: {event.status}: " + "; ".join(event.problems))
        open_jobs[student].remove(event.job_id)
        if event.status == "failed":  # never ran: nothing to score
            result.status = "failed"
            result.problems.extend(item.problems)
        else:
            judge_problems = judging.judge_notebook(item.cells.values(), log)
            if judge_problems:  # the grader's fault, not the student's: nothing written, a rerun retries
                result.status = "failed"
                result.problems.extend(item.problems + judge_problems)
            else:
                _finish(item, result, settings, gradebook, log)
        if open_jobs[student]:
            continue
        if result.status != "failed":
            state[student] = fingerprint(folders[student])
            result.cells = _cell_scores(gradebook, item.dest.name, student)
            result.score = sum(result.cells.values())
            if result.problems:
                result.status = "problems"
        progress(result)


def _select(found: list[tuple[str, Path]], notebooks: list[str], autograded: Path, assignment: str,
            state: dict[str, str], force: bool, results: dict[str, Result],
            max_score: float) -> list[tuple[str, Path]]:
    """The submissions to grade now: all with ``force``, else the new and the changed ones."""
    work = []
    for student, folder in found:
        dest = autograded / student / assignment
        complete = all((dest / f"{nb}.ipynb").exists() for nb in notebooks)
        if force or not complete or state.get(student) != fingerprint(folder):
            work.append((student, folder))
        else:
            results[student] = Result(student, status="skipped", max_score=max_score)
    return work


def _prepare(student: str, folder: Path, assignment: str, notebooks: list[str], settings: Course,
             gradebook: Gradebook, autograded: Path, source_dir: Path, source_files: list[Path],
             log: Log) -> list[_Pending] | Result:
    """Read and sanitize a submission's notebooks, record it in the gradebook, lay out its folder."""
    read: dict[str, NotebookNode] = {}
    for name in notebooks:
        path = folder / f"{name}.ipynb"
        if not path.exists():
            continue
        try:
            read[name] = nbformat.read(path, as_version=4)
        except Exception as error:  # noqa: BLE001 - any unreadable notebook fails this student only
            message = f"cannot read {path}: {type(error).__name__}: {error}"
            log(f"{student}: {message}")
            return Result(student, status="failed", problems=[message])
    dest = autograded / student / assignment
    try:
        gradebook.update_or_create_student(student)
        timestamp = settings.coursedir.get_existing_timestamp(str(folder))
        if timestamp:
            gradebook.update_or_create_submission(assignment, student, timestamp=timestamp)
        else:
            gradebook.update_or_create_submission(assignment, student)
        for name in notebooks:
            if name not in read:
                log(f"{student}: no submitted file {name}.ipynb: its cells score 0")
                submitted = gradebook.find_submission_notebook(name, assignment, student)
                for grade in submitted.grades:
                    grade.auto_score = 0
                    grade.needs_manual_grade = False
                gradebook.db.commit()
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        for path in _other_files(folder, settings):
            _copy(path, dest / path.relative_to(folder))
        for path in source_files:
            _copy(path, dest / path.relative_to(source_dir))
        items = []
        for name, nb in read.items():
            resources = nbgrader_steps.resources_for(student, assignment, name, settings.db_url)
            nb = nbgrader_steps.sanitize(nb, resources, settings.config, gradebook)
            cells = {i: c for i, c in enumerate(nb.cells) if c.cell_type == "code"}
            items.append(_Pending(student, name, nb, dest, cells))
    except Exception as error:  # noqa: BLE001 - one broken submission must not stop the class
        gradebook.db.rollback()
        message = f"could not prepare the submission: {type(error).__name__}: {error}"
        log(f"{student}: {message}")
        return Result(student, status="failed", problems=[message])
    if not items:
        return Result(student, status="graded", problems=["no notebook submitted"])
    return items


def _finish(item: _Pending, result: Result, settings: Course, gradebook: Gradebook, log: Log) -> None:
    """Score an executed notebook with nbgrader's preprocessors and write it to autograded/."""
    result.problems.extend(item.problems)
    resources = nbgrader_steps.resources_for(item.student, item.dest.name, item.notebook,
                                             settings.db_url)
    try:
        nb = nbgrader_steps.score(item.nb, resources, settings.config)
        target = item.dest / f"{item.notebook}.ipynb"
        nbformat.write(nb, target)
        os.chmod(target, 0o444)
    except Exception as error:  # noqa: BLE001
        gradebook.db.rollback()
        message = f"could not score {item.notebook}: {type(error).__name__}: {error}"
        log(f"{item.student}: {message}")
        result.status = "failed"
        result.problems.append(message)
        target = item.dest / f"{item.notebook}.ipynb"
        if target.exists():
            target.unlink()


def _cell_scores(gradebook: Gradebook, assignment: str, student: str) -> dict[str, float]:
    submission = gradebook.find_submission(assignment, student)
    return {grade.name: float(grade.score) for nb in submission.notebooks for grade in nb.grades}


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    shutil.copy(source, target)


def _encode(source_dir: Path, files: list[Path]) -> dict[str, str]:
    """The instructor's non-notebook files (data), for the submission's working folder."""
    return {str(p.relative_to(source_dir)): base64.b64encode(p.read_bytes()).decode() for p in files}
