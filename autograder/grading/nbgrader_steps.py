"""nbgrader's own autograde steps, minus execution, on one gradebook connection.

``nbgrader autograde`` runs, per notebook, the sanitize preprocessors (restore
test cells and their metadata from the gradebook), then Execute, then the
scoring preprocessors (drop ignored stderr, limit output, save grades, late
penalties). This module runs exactly those preprocessors with the course's
config; only Execute is replaced (by the sandboxed workers). Each nbgrader
preprocessor opens the gradebook itself; :func:`shared_gradebook` hands them one
open connection instead, so the database is opened once per run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    IgnorePattern,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)
from traitlets.config import Config

SANITIZE = (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata)
SCORE = (IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades, AssignLatePenalties,
         CheckCellMetadata)
_MODULES_OPENING_GRADEBOOKS = ("overwritecells", "overwritekernelspec", "saveautogrades", "latesubmissions")


class _Borrowed:
    """A gradebook a preprocessor may enter and leave without closing it."""

    def __init__(self, gradebook: Gradebook) -> None:
        self._gradebook = gradebook

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gradebook, name)

    def __enter__(self) -> Gradebook:
        return self._gradebook

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self._gradebook.db.rollback()


@contextlib.contextmanager
def shared_gradebook(gradebook: Gradebook) -> Iterator[None]:
    """While active, nbgrader's preprocessors use ``gradebook`` instead of opening their own."""
    import importlib

    modules = [importlib.import_module(f"nbgrader.preprocessors.{name}") for name in _MODULES_OPENING_GRADEBOOKS]
    saved = [module.Gradebook for module in modules]
    for module in modules:
        module.Gradebook = lambda *args, **kwargs: _Borrowed(gradebook)
    try:
        yield
    finally:
        for module, original in zip(modules, saved, strict=True):
            module.Gradebook = original


def resources_for(student: str, assignment: str, notebook: str, db_url: str) -> dict[str, Any]:
    """The resources dict nbgrader's converter builds for one notebook."""
    return {
        "unique_key": notebook,
        "output_files_dir": f"{notebook}_files",
        "nbgrader": {"student": student, "assignment": assignment, "notebook": notebook, "db_url": db_url},
    }


def _run(preprocessors: tuple[type, ...], nb: NotebookNode, resources: dict[str, Any],
         config: Config) -> tuple[NotebookNode, dict[str, Any]]:
    for cls in preprocessors:
        nb, resources = cls(config=config)(nb, resources)
    return nb, resources


def restore_roles(nb: NotebookNode, gradebook: Gradebook, notebook: str, assignment: str) -> None:
    """Give every cell with a known id back the role the gradebook has for it.

    nbgrader restores a test cell's source and points, but its checksum covers the
    ``grade``/``solution`` flags too: a submission that flips them makes stock nbgrader
    fail the whole notebook. Resetting them first grades it normally instead.
    """
    source = gradebook.find_notebook(notebook, assignment)
    cells = {cell.name: cell for cell in source.source_cells}
    grades = {cell.name for cell in source.grade_cells}
    solutions = {cell.name for cell in source.solution_cells}
    tasks = {cell.name for cell in source.task_cells}
    seen: set[str] = set()
    for cell in reversed(nb.cells):  # duplicates: keep the last, as DeduplicateIds does, but drop
        meta = cell.get("metadata", {}).get("nbgrader")  # the others' metadata entirely (an empty
        if isinstance(meta, dict) and "grade_id" in meta:  # dict crashes OverwriteCells)
            if meta["grade_id"] in seen:
                del cell.metadata["nbgrader"]
            else:
                seen.add(meta["grade_id"])
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if not isinstance(meta, dict):
            continue
        if meta.get("grade_id") not in cells:
            if meta.get("grade") or meta.get("solution") or meta.get("locked") or meta.get("task"):
                del cell.metadata["nbgrader"]  # an id the gradebook does not know: an ordinary cell
            continue
        name = meta["grade_id"]
        meta["grade"] = name in grades
        meta["solution"] = name in solutions
        meta["locked"] = bool(cells[name].locked)
        if name in tasks:
            meta["task"] = True
        else:
            meta.pop("task", None)


def sanitize(nb: NotebookNode, resources: dict[str, Any], config: Config,
             gradebook: Gradebook | None = None) -> NotebookNode:
    """nbgrader's sanitize step; then cells whose grade metadata nbgrader discarded become plain."""
    if gradebook is not None:
        info = resources["nbgrader"]
        restore_roles(nb, gradebook, info["notebook"], info["assignment"])
    nb, _ = _run(SANITIZE, nb, resources, config)
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta is not None and (utils.is_grade(cell) or utils.is_solution(cell)) and "grade_id" not in meta:
            del cell.metadata["nbgrader"]  # an id the gradebook does not know: ordinary cell
    return nb


def score(nb: NotebookNode, resources: dict[str, Any], config: Config) -> NotebookNode:
    """nbgrader's scoring step on an executed notebook (saves grades to the gradebook)."""
    nb, _ = _run(SCORE, nb, resources, config)
    return nb


def is_test_cell(cell: NotebookNode) -> bool:
    """An autograded test cell: a code grade cell that is not a student's answer."""
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)
