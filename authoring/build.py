"""Write source/ from the authoring modules and regenerate release/ with nbgrader.

Usage: python -m authoring.build [ASSIGNMENT ...]   (all when none is given)
"""

from __future__ import annotations

import importlib
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

from autograder.course import NOTEBOOKS
from autograder.grading.nbgrader_commands import generate_assignment, new_course
from autograder.studentkit import expectations
from coursekit.assignments import ASSIGNMENTS

ROOT = Path(__file__).resolve().parent.parent

#: assignment -> authoring module that defines ``CELLS`` (from the registry).
MODULES = {a.name: a.authoring_module for a in ASSIGNMENTS}


def write_source(assignment: str) -> Path:
    module = importlib.import_module(MODULES[assignment])
    from authoring.cells import notebook

    path = ROOT / "source" / assignment / f"{NOTEBOOKS[assignment]}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook(module.CELLS), path)
    return path


def write_release(assignment: str) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        course = new_course(Path(tmp), ROOT, [assignment])
        released = generate_assignment(course, assignment)
        target = ROOT / "release" / assignment
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(released, target)
    return target


def main(argv: list[str]) -> int:
    assignments = argv or [a for a in MODULES if importlib.util.find_spec(MODULES[a])]
    for assignment in assignments:
        print(f"{assignment}: {write_source(assignment).relative_to(ROOT)}", flush=True)
        print(f"{assignment}: {write_release(assignment).relative_to(ROOT)}", flush=True)
        print(f"{assignment}: {expectations.write(assignment).relative_to(ROOT)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
