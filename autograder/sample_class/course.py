"""Build a sample course folder: config, source, release, and the bundled class's submissions.

A rerun reuses the folder when nothing that decides a score has changed since the last
complete run: the course's source notebooks and ``nbgrader_config.py``, the grader's and the
kit's code (which also defines the sample class), and the grading options. Then only the
submissions ``autograder grade`` finds new, changed or not graded before are graded again.
Anything else rebuilds the folder from scratch and grades every submission.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from autograder.course import NOTEBOOKS, load_course
from autograder.grading.nbgrader_commands import generate_assignments, new_course
from autograder.sample_class import BROKEN, STUDENTS
from autograder.submissions import write_submissions

#: The file that marks a folder as a sample course (the next run may replace it), with the
#: fingerprint of the inputs of its last complete run.
MARKER = ".autograder-sample-course"


class NotACourse(ValueError):
    """The folder given as the course has no nbgrader_config.py or source/."""


@dataclass
class SampleCourse:
    """A sample course folder, ready to grade."""

    folder: Path
    assignments: list[str]
    fingerprint: str
    reused: bool  # the last complete run had the same inputs: grade only what changed

    def mark_complete(self) -> None:
        """Record that this course was graded completely with these inputs."""
        (self.folder / MARKER).write_text(json.dumps({"fingerprint": self.fingerprint}) + "\n")


def available_assignments(course_root: Path) -> list[str]:
    """The course's assignments (in order) whose source notebook exists."""
    return [
        a for a in load_course(course_root).assignments
        if (course_root / "source" / a / f"{NOTEBOOKS.get(a, a)}.ipynb").exists()
    ]


def _packages() -> list[Path]:
    import autograder
    import coursekit

    return [Path(autograder.__file__).resolve().parent, Path(coursekit.__file__).resolve().parent]


def fingerprint(course_root: Path, assignments: list[str], options: dict) -> str:
    """A digest of everything that decides the sample class's scores (see the module's docstring)."""
    digest = hashlib.sha256(json.dumps([assignments, options], sort_keys=True).encode())
    files = [course_root / "nbgrader_config.py"]
    files += [course_root / "source" / a / f"{NOTEBOOKS[a]}.ipynb" for a in assignments]
    for package in _packages():
        files += sorted(p for p in package.rglob("*") if p.suffix in (".py", ".json") and p.is_file())
    for path in files:
        digest.update(str(path).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _check_replaceable(destination: Path, course_root: Path) -> None:
    """Refuse to delete a folder that is not an earlier sample course (or empty)."""
    if not destination.is_dir():
        raise NotACourse(f"{destination} exists and is not a folder: choose another --out")
    earlier = (destination / MARKER).exists() or (
        (destination / "nbgrader_config.py").exists() and (destination / "submitted").is_dir()
        and not (destination / ".git").exists())
    if destination == course_root or destination in course_root.parents:
        earlier = False
    if any(destination.iterdir()) and not earlier:
        raise NotACourse(f"{destination} is not an earlier sample course and not empty: choose another --out "
                         "(the sample course replaces its folder)")


def _last_fingerprint(destination: Path) -> str | None:
    try:
        return json.loads((destination / MARKER).read_text()).get("fingerprint")
    except (OSError, ValueError, AttributeError):
        return None


def prepare_sample_course(course_root: Path, destination: Path, options: dict | None = None,
                          rebuild: bool = False) -> SampleCourse:
    """The sample course at ``destination``: reused when its inputs are unchanged, else built anew.

    ``options``: the grading options that change scores (they are part of the fingerprint).
    """
    course_root = Path(course_root).resolve()
    if not (course_root / "nbgrader_config.py").exists() or not (course_root / "source").is_dir():
        raise NotACourse(
            f"{course_root} is not the course folder (no nbgrader_config.py and source/ there); "
            "run from the repository root or pass --course-root"
        )
    assignments = [a for a in available_assignments(course_root) if a in STUDENTS]
    destination = Path(destination).resolve()
    digest = fingerprint(course_root, assignments, options or {})
    if not rebuild and destination.is_dir() and _last_fingerprint(destination) == digest \
            and (destination / "gradebook.db").exists():
        return SampleCourse(destination, assignments, digest, reused=True)
    build_sample_course(course_root, destination, assignments)
    return SampleCourse(destination, assignments, digest, reused=False)


def build_sample_course(course_root: Path, destination: Path, assignments: list[str] | None = None) -> list[str]:
    """Make ``destination`` a course holding the sample class's submissions; return its assignments.

    ``destination`` is replaced if it exists (only an earlier sample course, or an empty folder).
    """
    course_root = Path(course_root).resolve()
    if assignments is None:
        assignments = [a for a in available_assignments(course_root) if a in STUDENTS]
    destination = Path(destination).resolve()
    if destination.exists():
        _check_replaceable(destination, course_root)
        shutil.rmtree(destination)
    new_course(destination, course_root, assignments)
    (destination / MARKER).write_text(json.dumps({"fingerprint": None}) + "\n")  # incomplete until graded
    generate_assignments(destination, assignments)
    for assignment in assignments:
        notebook = destination / "source" / assignment / f"{NOTEBOOKS[assignment]}.ipynb"
        write_submissions(notebook, destination / "submitted", assignment, STUDENTS[assignment])
    for student, (assignment, text) in BROKEN.items():
        if assignment in assignments:
            folder = destination / "submitted" / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{NOTEBOOKS[assignment]}.ipynb").write_text(text)
    return assignments
