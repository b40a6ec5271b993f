"""Judge the hidden tests of an executed notebook, in the coordinator (outside the sandbox).

The kernel's hidden checks only observe: each leaves its observations as an output
of its test cell (MIME type ``engine.OBSERVATION_MIME``). Here they are taken out of
the notebook, judged against the answer key by :mod:`autograder.judges`, and a cell
whose hidden tests fail gets the three-part message as an error output, which
nbgrader's scoring then counts as a failed cell. Observations in any other cell, or
ones the cell's source did not ask for, are removed and earn nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode

from autograder import judges
from autograder.grading import nbgrader_steps
from coursekit.checks.engine import OBSERVATION_MIME
from coursekit.checks.expect import CheckFailed


def _is_observation(output: Any) -> bool:
    return output.get("output_type") == "display_data" and OBSERVATION_MIME in (output.get("data") or {})


def error_output(failure: CheckFailed) -> NotebookNode:
    """A failed check as Jupyter shows an error: the message, no traceback through the checker."""
    lines = str(failure).splitlines() or ["CheckFailed"]
    return nbformat.from_dict({"output_type": "error", "ename": "CheckFailed", "evalue": str(failure),
                               "traceback": [f"CheckFailed: {lines[0]}", *lines[1:]]})


def judge_notebook(cells: Iterable[NotebookNode], log: Callable[[str], None] = lambda m: None) -> list[str]:
    """Judge every grade cell's hidden tests in place; the grader-side problems met (not the student's)."""
    problems: list[str] = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        outputs = list(cell.get("outputs") or [])
        records = [json.loads(json.dumps(o["data"][OBSERVATION_MIME])) for o in outputs if _is_observation(o)]
        cell.outputs = [o for o in outputs if not _is_observation(o)]
        if not nbgrader_steps.is_test_cell(cell):
            continue
        if any(o.get("output_type") == "error" for o in cell.outputs):
            continue  # the cell failed in the kernel already (a visible test, a timeout)
        if not records and not judges.hidden_calls(cell.source):
            continue
        try:
            failure = judges.judge_cell(cell.source, records)
        except CheckFailed as error:
            failure = error
        except Exception as error:  # noqa: BLE001 - a bug of the judge is never the student's fault
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "?")
            problems.append(f"the judge failed on {grade_id}: {type(error).__name__}: {error}")
            log(problems[-1])
            failure = CheckFailed(f"the grader could not judge this cell ({type(error).__name__}); "
                                  "your instructor has been told", "judge_error")
        if failure is not None:
            cell.outputs.append(error_output(failure))
    return problems
