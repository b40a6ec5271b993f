"""Gradescope: ``results.json`` for a graded submission, the whole in-container run, and the upload zip.

Gradescope runs an autograder zip's ``setup.sh`` once (building its image) and
``run_autograder`` once per submission, which must write ``/autograder/results/results.json``
(https://gradescope-autograders.readthedocs.io/en/latest/specs/): a top-level ``score``,
``execution_time``, ``output``, ``visibility``, ``stdout_visibility`` and a ``tests`` list of
``{name, number, score, max_score, status, output, tags, visibility}``.

Each grade cell is one test. Its ``output`` follows the course's feedback level
(``c.TeachingFeedback.level``) and the same rule as the feedback pages: the three-part
message, redacted, and never a line of the hidden tests (a test whose output would hold
one says only that it lost points). What the run prints (``stdout``) may name grader
problems, so it is hidden from students.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from autograder.feedback import DEFAULT_LEVEL, LEVELS
from autograder.feedback.hidden import HiddenTests
from autograder.reports.outcomes import AssignmentOutcome, StudentOutcome

GRADESCOPE_DIR = "gradescope"  # in the course: setup.sh and run_autograder
ASSIGNMENT_FILE = "assignment.txt"  # in the zip: the assignment it grades (else found from the notebook's name)
STUDENT = "student"  # the one submission's id in the course made for it


def test_output(cell: Any, level: str, hidden: HiddenTests | None = None) -> str:
    """A grade cell's ``output`` at ``level``: what a student may read."""
    if cell.passed:
        return "passed"
    lost = f"lost {cell.points - cell.score:g} of {cell.points:g} points"
    message = cell.message
    if level == "scores" or message is None:
        return lost
    text = message.text if level == "full" else message.text.rsplit("\n  mistake code:", 1)[0]
    if hidden is not None and hidden.find_leaks(text):
        return lost
    return f"{lost}\n\n{text}"


def results_for(outcome: AssignmentOutcome, student: str, *, level: str = DEFAULT_LEVEL,
                execution_time: float | None = None) -> dict[str, Any]:
    """Gradescope's results for ``student``'s submission of ``outcome``'s assignment."""
    if level not in LEVELS:
        raise ValueError(f"unknown feedback level {level!r}: choose one of {', '.join(LEVELS)}")
    found = next((s for s in outcome.students if s.student == student), None)
    if found is None or not found.submitted:
        return not_graded(outcome, "No graded submission was found.", execution_time)
    tests = []
    for number, cell in enumerate(_ordered(found, outcome), start=1):
        test: dict[str, Any] = {
            "name": cell.grade_id.removeprefix("test_"),
            "number": str(number),
            "score": cell.score,
            "max_score": cell.points,
            "status": "passed" if cell.passed else "failed",
            "output": test_output(cell, level, outcome.hidden.get(cell.notebook)),
            "output_format": "text",
            "tags": [outcome.assignment, cell.notebook],
            "visibility": "visible",
        }
        if not cell.passed and cell.code:
            test["extra_data"] = {"mistake_code": cell.code}
        tests.append(test)
    lost = [t for t in tests if t["status"] == "failed"]
    summary = (f"Score: {found.score:g} / {found.max_score:g}. "
               + ("Every test passed." if not lost else
                  f"{len(lost)} test{'s' if len(lost) > 1 else ''} lost points"
                  + (": each says what was expected, what your code did and the likely cause."
                     if level != "scores" else "."))
               + " Tests also run on data you have not seen, so write general code.")
    results: dict[str, Any] = {
        "score": found.score,
        "output": summary,
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    if execution_time is not None:
        results["execution_time"] = max(0, round(execution_time))
    return results


def not_graded(outcome: AssignmentOutcome | None, why: str, execution_time: float | None = None) -> dict[str, Any]:
    """Results that give no points and say why (the reason never holds grader internals)."""
    tests = [{"name": grade_id.removeprefix("test_"), "number": str(i), "score": 0.0, "max_score": points,
              "status": "failed", "output": "not graded", "tags": [outcome.assignment, notebook],
              "visibility": "visible"}
             for i, (notebook, grade_id, points) in enumerate(outcome.cells if outcome else [], start=1)]
    results: dict[str, Any] = {"score": 0.0, "output": f"Your submission could not be graded. {why}",
                               "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden",
                               "tests": tests}
    if execution_time is not None:
        results["execution_time"] = max(0, round(execution_time))
    return results


def _ordered(student: StudentOutcome, outcome: AssignmentOutcome) -> list[Any]:
    order = {grade_id: i for i, (_, grade_id, _) in enumerate(outcome.cells)}
    return sorted(student.cells, key=lambda c: order.get(c.grade_id, len(order)))


def write(results: dict[str, Any], path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def course_level(root: Path) -> str:
    from autograder.feedback.build import course_level as level_of
    from autograder.grading import settings

    return level_of(settings.load_config(root))


# --- the run inside Gradescope's container ------------------------------------------------------

def sandbox_works() -> bool:
    """Whether bubblewrap can make a sandbox here (Gradescope's containers may refuse namespaces)."""
    from autograder.grading import sandbox

    bwrap = sandbox.find_bwrap()
    if bwrap is None:
        return False
    try:
        done = subprocess.run([bwrap, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "true"],
                              capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def find_assignment(course: Path, notebooks: list[Path], given: str | None = None) -> str:
    """The assignment a submission is for: ``given``, the zip's assignment.txt, or its notebook's name."""
    from autograder.course import NOTEBOOKS

    if given:
        return given
    marker = course.parent / ASSIGNMENT_FILE
    if marker.exists() and marker.read_text().strip():
        return marker.read_text().strip()
    by_notebook = {nb: a for a, nb in NOTEBOOKS.items()}
    for path in notebooks:
        if path.stem in by_notebook:
            return by_notebook[path.stem]
    known = ", ".join(f"{nb}.ipynb" for nb in by_notebook)
    raise ValueError(f"no notebook of the course in the submission (expected one of {known})")


def grade_submission(course: Path, submission: Path, *, assignment: str | None = None,
                     workdir: Path | None = None, sandboxed: bool | None = None,
                     log: Any = print) -> dict[str, Any]:
    """Grade the notebook in ``submission`` with the course at ``course``; Gradescope's results.

    The course is made afresh in ``workdir`` (a temporary folder, removed after, by default).
    """
    started = time.perf_counter()
    course, submission = Path(course).resolve(), Path(submission).resolve()
    notebooks = sorted(p for p in submission.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    try:
        assignment = find_assignment(course, notebooks, assignment)
    except ValueError as problem:
        return not_graded(None, str(problem) + ".", time.perf_counter() - started)
    temporary = workdir is None
    workdir = Path(workdir or tempfile.mkdtemp(prefix="gradescope-"))
    try:
        return _grade_in(course, workdir, assignment, notebooks, sandboxed, log, started)
    finally:
        if temporary:
            shutil.rmtree(workdir, ignore_errors=True)


def _grade_in(course: Path, workdir: Path, assignment: str, notebooks: list[Path], sandboxed: bool | None,
              log: Any, started: float) -> dict[str, Any]:
    from autograder.course import NOTEBOOKS
    from autograder.grading import batch
    from autograder.grading.nbgrader_commands import generate_assignment, new_course
    from autograder.grading.run import grade_assignment
    from autograder.reports.outcomes import read_assignment

    expected = f"{NOTEBOOKS[assignment]}.ipynb"
    chosen = next((p for p in notebooks if p.name == expected), notebooks[0] if len(notebooks) == 1 else None)
    work = new_course(workdir / "course", course, [assignment])
    generate_assignment(work, assignment)
    if chosen is None:
        outcome = read_assignment(work, assignment, students=[STUDENT])
        return not_graded(outcome, f"Submit the notebook {expected}.", time.perf_counter() - started)
    folder = work / "submitted" / STUDENT / assignment
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(chosen, folder / expected)
    if sandboxed is None:
        sandboxed = sandbox_works()
    if not sandboxed:
        log("WARNING: bubblewrap cannot make a sandbox in this container: the submission runs without one")
    run = grade_assignment(batch.Options(assignment, work, force=True, workers=1, sandboxed=sandboxed))
    for message in run.problems:
        log(f"problem: {message}")
    outcome = read_assignment(work, assignment, students=[STUDENT])
    if any(r.status == "failed" for r in run.results):
        return not_graded(outcome, f"Check that {expected} opens in Jupyter and runs top to bottom.",
                          time.perf_counter() - started)
    return results_for(outcome, STUDENT, level=course_level(course), execution_time=time.perf_counter() - started)


# --- the zip an instructor uploads --------------------------------------------------------------

_COURSE_FILES = ["pyproject.toml", "README.md", "nbgrader_config.py"]
_COURSE_TREES = ["autograder", "kit"]
_SKIP = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache"}


def build_zip(root: Path, target: Path, assignment: str | None = None) -> Path:
    """The autograder zip for Gradescope: setup.sh and run_autograder at its root, the course in course/."""
    root, target = Path(root).resolve(), Path(target).resolve()
    scripts = root / GRADESCOPE_DIR
    for name in ("setup.sh", "run_autograder"):
        if not (scripts / name).exists():
            raise FileNotFoundError(f"{scripts / name} is missing: the course ships it in {GRADESCOPE_DIR}/")
    assignments = [assignment] if assignment else None
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("setup.sh", "run_autograder"):
            _add(archive, scripts / name, name, executable=True)
        if assignment:
            archive.writestr(ASSIGNMENT_FILE, assignment + "\n")
        for name in _COURSE_FILES:
            if (root / name).exists():
                _add(archive, root / name, f"course/{name}")
        trees = [root / t for t in _COURSE_TREES]
        for folder in ("source", "release"):
            trees += [root / folder / a for a in assignments] if assignments else [root / folder]
        for tree in trees:
            for path in sorted(tree.rglob("*")):
                relative = path.relative_to(root)
                if path.is_file() and not (_SKIP & set(relative.parts)) and not any(
                        part.endswith(".egg-info") for part in relative.parts) and path.suffix != ".pyc":
                    _add(archive, path, f"course/{relative.as_posix()}")
    return target


def _add(archive: zipfile.ZipFile, path: Path, name: str, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.external_attr = (0o755 if executable else 0o644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, path.read_bytes())
