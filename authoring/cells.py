"""Small builders for nbgrader cells, so notebooks are written as Python, reviewed as diffs."""

from __future__ import annotations

from textwrap import dedent

import nbformat
from nbformat.notebooknode import NotebookNode

SCHEMA_VERSION = 3


def _text(source: str) -> str:
    return dedent(source).strip("\n")


def md(source: str) -> NotebookNode:
    """A markdown cell of prose."""
    return nbformat.v4.new_markdown_cell(_text(source))


def code(source: str) -> NotebookNode:
    """An ordinary code cell the student may run and change (demos, plots)."""
    return nbformat.v4.new_code_cell(_text(source))


def _nbgrader(cell: NotebookNode, grade_id: str, *, grade: bool, solution: bool, locked: bool,
              points: float | None = None) -> NotebookNode:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": SCHEMA_VERSION,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    cell.metadata["nbgrader"] = meta
    cell.id = grade_id.replace("_", "-")
    return cell


def setup(grade_id: str, source: str) -> NotebookNode:
    """A read-only code cell (imports, data); nbgrader restores it if it is changed."""
    return _nbgrader(code(source), grade_id, grade=False, solution=False, locked=True)


def solution(grade_id: str, source: str) -> NotebookNode:
    """A solution cell: the code between ### BEGIN/END SOLUTION becomes nbgrader's stub."""
    return _nbgrader(code(source), grade_id, grade=False, solution=True, locked=False)


def grade(grade_id: str, points: float, source: str) -> NotebookNode:
    """A locked grade cell with visible tests and, between markers, hidden tests."""
    return _nbgrader(code(source), grade_id, grade=True, solution=False, locked=True, points=points)


def notebook(cells: list[NotebookNode]) -> NotebookNode:
    """A notebook with the course's Python 3 kernel."""
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nb
