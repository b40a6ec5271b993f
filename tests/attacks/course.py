"""A tiny self-contained course for grader tests: one notebook, four test cells, 7 points.

Built from code (not from source/), so the grader's tests do not wait on the real notebooks.
Its test cells are written like the course's: they import what they use, call
``coursekit.checks.expect`` and raise AssertionError subclasses.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.grading.nbgrader_commands import generate_assignment

ASSIGNMENT = "ps1"
NOTEBOOK = "problems"

POINTS = {"test_slope": 2.0, "test_double": 3.0, "test_half": 1.0, "test_noisy": 1.0}

#: solution grade_id -> the instructor's answer.
ANSWERS = {
    "slope": "def slope():\n    ### BEGIN SOLUTION\n    return 5.1\n    ### END SOLUTION",
    "double": "def double(t):\n    ### BEGIN SOLUTION\n    return t * 2\n    ### END SOLUTION",
    "half": "def half(x):\n    ### BEGIN SOLUTION\n    return x / 2\n    ### END SOLUTION",
    "noisy": ("def noisy():\n    ### BEGIN SOLUTION\n    import warnings\n"
              "    warnings.warn('this API is deprecated', DeprecationWarning, stacklevel=2)\n"
              "    warnings.warn('a harmless UserWarning')\n    return 1\n    ### END SOLUTION"),
}

TESTS = {
    "test_slope": "assert abs(slope() - 5.1) < 0.2, 'the slope is off'",
    "test_double": ("import torch\nfrom coursekit.checks.expect import expect_close\n"
                    "expect_close(double(torch.tensor([1.0, 2.0])), torch.tensor([2.0, 4.0]), 'double')\n"
                    "assert torch.allclose(double(torch.ones(2)), torch.full((2,), 2.0))"),
    "test_half": "import math\nassert math.isclose(half(3.0), 1.5)",
    "test_noisy": "assert noisy() == 1",
}

#: Wrong answers, one per solution cell.
WRONG = {
    "slope": "def slope():\n    return 1.0",
    "double": "def double(t):\n    return t",
    "half": "def half(x):\n    return x",
    "noisy": "def noisy():\n    return 2",
}


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float = 0.0) -> dict:
    meta = {"grade": grade, "solution": solution, "locked": locked, "grade_id": grade_id,
            "schema_version": 3}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook() -> nbformat.NotebookNode:
    cells = [new_markdown_cell("# Problem set 1"), new_code_cell("import math\nimport torch")]
    for solution, test in zip(ANSWERS, TESTS, strict=True):
        cells.append(new_code_cell(ANSWERS[solution], metadata=_meta(solution, grade=False, solution=True,
                                                                    locked=False)))
        cells.append(new_code_cell(TESTS[test], metadata=_meta(test, grade=True, solution=False, locked=True,
                                                              points=POINTS[test])))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


CONFIG = '''c = get_config()
c.CourseDirectory.course_id = "grader-tests"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
c.Execute.timeout = {timeout}
c.Execute.interrupt_on_timeout = True
c.OverwriteCells.add_missing_cells = True
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(?i)warn"
'''


def make_course(root: Path, timeout: int = 5) -> Path:
    """A course folder with the released assignment (and its gradebook entry)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(CONFIG.format(timeout=timeout))
    source = root / "source" / ASSIGNMENT
    source.mkdir(parents=True, exist_ok=True)
    nbformat.write(source_notebook(), source / f"{NOTEBOOK}.ipynb")
    (source / "data.txt").write_text("instructor data\n")
    generate_assignment(root, ASSIGNMENT)
    return root


def released(root: Path) -> nbformat.NotebookNode:
    return nbformat.read(root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)


def answered(root: Path, edits: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """The release notebook with every answer filled in, then ``edits`` (grade_id -> source)."""
    nb = released(root)
    edits = {**ANSWERS, **(edits or {})}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in edits:
            cell.source = edits[grade_id]
    return nb


def submit(root: Path, student: str, nb: nbformat.NotebookNode | str, files: dict[str, str] | None = None) -> Path:
    """Put a submission at submitted/<student>/<assignment>/ (a str is written as raw text)."""
    folder = root / "submitted" / student / ASSIGNMENT
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    path = folder / f"{NOTEBOOK}.ipynb"
    if isinstance(nb, str):
        path.write_text(nb)
    else:
        nbformat.write(nb, path)
    for name, text in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def full(**lost: float) -> dict[str, float]:
    """Every test's points, except those named (test_x=0.0)."""
    return {**POINTS, **lost}
