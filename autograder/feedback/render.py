"""Run students' notebooks again, without their hidden tests, to draw plots for their feedback.

``autograder grade`` does not draw plots unless asked (``--figures``): they never change a
score. Feedback shows them: each notebook runs once more in the grader's sandboxed workers,
with plots drawn and every hidden-test block removed from its test cells, so that nothing
of this run (text or picture) can hold hidden data. The page then takes the outputs of the
student's own cells from this run.

A notebook whose graded run hit a timeout or killed its kernel is not run again (it would
cost the same time for nothing); its page keeps the graded run's outputs, redacted.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nbformat.notebooknode import NotebookNode

from autograder.feedback.hidden import visible_part
from autograder.feedback.model import is_test_cell

#: Errors of a graded run that mean "do not run this notebook again".
STOPPED = {"TimeoutError", "CellFailed", "KernelDied", "WorkerDied"}


def worth_rendering(notebook: NotebookNode) -> bool:
    """False when the graded run of ``notebook`` timed out or lost its kernel."""
    for cell in notebook.cells:
        for output in cell.get("outputs") or []:
            if output.get("output_type") == "error" and output.get("ename") in STOPPED:
                return False
    return True


def job_cells(notebook: NotebookNode) -> list[dict[str, Any]]:
    """The code cells to run: test cells with their hidden blocks removed."""
    cells = []
    for index, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code":
            continue
        test = is_test_cell(cell)
        cells.append({"index": index, "source": visible_part(cell.source) if test else cell.source, "test": test})
    return cells


def instructor_files(root: Path, assignment: str) -> dict[str, str]:
    """The assignment's data files beside its notebooks (what grading copies next to each submission)."""
    folder = Path(root) / "source" / assignment
    files: dict[str, str] = {}
    if not folder.is_dir():
        return files
    for path in sorted(folder.rglob("*")):
        if (path.is_file() and path.suffix != ".ipynb" and ".ipynb_checkpoints" not in path.parts
                and "__pycache__" not in path.parts):
            files[str(path.relative_to(folder))] = base64.b64encode(path.read_bytes()).decode()
    return files


class Renderer:
    """Sandboxed workers started early (they import torch while the caller reads the class)."""

    def __init__(self, root: Path, assignment: str, *, count: int, workers: int, sandboxed: bool,
                 memory_gb: float, log: Callable[[str], None]) -> None:
        import os

        from autograder.grading import launch

        self.root, self.assignment, self.log = Path(root).resolve(), assignment, log
        size = max(1, min(workers or os.cpu_count() or 1, count))
        self.pool = launch.start_workers(self.root, assignment, size=size, sandboxed=sandboxed,
                                         memory_gb=memory_gb, log=log, figures=True)

    def run(self, notebooks: dict[str, NotebookNode]) -> dict[str, dict[int, list[dict[str, Any]]] | None]:
        """key -> cell index -> outputs, for each notebook (None where the run did not finish cleanly)."""
        from autograder.grading import pool

        files = instructor_files(self.root, self.assignment)
        results: dict[str, dict[int, list[dict[str, Any]]] | None] = {}
        for key, notebook in notebooks.items():
            results[key] = {}
            self.pool.submit(pool.Job(key, job_cells(notebook), files=files))
        done = 0
        while done < len(notebooks):
            event = self.pool.events.get()
            outputs = results.get(event.job_id)
            if not event.done:
                if outputs is not None and event.index is not None:
                    outputs[event.index] = list(event.outputs)
                continue
            done += 1
            if event.status != "ok":
                self.log(f"{event.job_id}: its plots could not be drawn ({event.status}: "
                         + "; ".join(event.problems) + ")")
                results[event.job_id] = None
        return results

    def close(self) -> None:
        self.pool.close()
