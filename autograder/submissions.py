"""Submissions made from the instructor's notebook by replacing solution cells.

The test corpus (``tests/corpus``) and the bundled sample class describe each
student as edits to the source notebook (a mistake, or a correct answer written
another way) plus the grade cells that must score 0, so they stay in step with
the notebooks whenever these change.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from textwrap import dedent

import nbformat
from nbformat.notebooknode import NotebookNode


@dataclass(frozen=True)
class Submission:
    """A student's notebook: the reference with ``edits`` (grade_id -> code) applied."""

    student: str
    edits: dict[str, str]
    loses: frozenset[str] = field(default_factory=frozenset)
    why: str = ""
    #: Cells that may score 0 or full, by timing (a thread of the student's racing the tests).
    may_lose: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "loses", frozenset(self.loses))
        object.__setattr__(self, "may_lose", frozenset(self.may_lose))


def wrong(student: str, cell: str, code: str, loses: set[str] | None = None, why: str = "") -> Submission:
    """A submission with one solution cell replaced, losing that cell's test by default."""
    return Submission(student, {cell: dedent(code).strip()}, loses or {f"test_{cell}"}, why)


def right(student: str, edits: dict[str, str], why: str = "") -> Submission:
    """A correct answer in another style: loses nothing."""
    return Submission(student, {k: dedent(v).strip() for k, v in edits.items()}, frozenset(), why)


def build_notebook(source: NotebookNode, submission: Submission) -> NotebookNode:
    """The submitted notebook: the source notebook with the edited solution cells."""
    nb = copy.deepcopy(source)
    found = set()
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in submission.edits:
            cell.source = submission.edits[grade_id]
            found.add(grade_id)
    missing = set(submission.edits) - found
    if missing:
        raise KeyError(f"{submission.student}: no cells {sorted(missing)} in the notebook")
    return nb


def write_submissions(source_notebook: Path, submitted: Path, assignment: str,
                      submissions: list[Submission]) -> None:
    """Write each submission to ``submitted/<student>/<assignment>/<notebook>``."""
    source = nbformat.read(source_notebook, as_version=4)
    for submission in submissions:
        folder = submitted / submission.student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(build_notebook(source, submission), folder / source_notebook.name)
