"""Build a sample course folder: config, source, release, and the bundled class's submissions."""

from __future__ import annotations

import shutil
from pathlib import Path

from autograder.course import NOTEBOOKS, load_course
from autograder.grading.nbgrader_commands import generate_assignment, new_course
from autograder.sample_class import BROKEN, STUDENTS
from autograder.submissions import write_submissions


class NotACourse(ValueError):
    """The folder given as the course has no nbgrader_config.py or source/."""


def available_assignments(course_root: Path) -> list[str]:
    """The course's assignments (in order) whose source notebook exists."""
    return [
        a for a in load_course(course_root).assignments
        if (course_root / "source" / a / f"{NOTEBOOKS.get(a, a)}.ipynb").exists()
    ]


def build_sample_course(course_root: Path, destination: Path) -> list[str]:
    """Make ``destination`` a course holding the sample class's submissions; return its assignments.

    ``destination`` is replaced if it exists, so a rerun starts clean.
    """
    course_root = Path(course_root).resolve()
    if not (course_root / "nbgrader_config.py").exists() or not (course_root / "source").is_dir():
        raise NotACourse(
            f"{course_root} is not the course folder (no nbgrader_config.py and source/ there); "
            "run from the repository root or pass --course-root"
        )
    assignments = [a for a in available_assignments(course_root) if a in STUDENTS]
    if destination.exists():
        shutil.rmtree(destination)
    new_course(destination, course_root, assignments)
    for assignment in assignments:
        generate_assignment(destination, assignment)
        notebook = destination / "source" / assignment / f"{NOTEBOOKS[assignment]}.ipynb"
        write_submissions(notebook, destination / "submitted", assignment, STUDENTS[assignment])
    for student, (assignment, text) in BROKEN.items():
        if assignment in assignments:
            folder = destination / "submitted" / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{NOTEBOOKS[assignment]}.ipynb").write_text(text)
    return assignments
