"""A graded notebook as the cells a student may see: their own work, and a verdict under each test.

:func:`build` takes the autograded notebook (outputs of the graded run, test cells as the
gradebook restored them), the gradebook's scores, and optionally the student's submitted
notebook and a hidden-test-free run of it (:mod:`autograder.feedback.render`), and returns
a :class:`NotebookFeedback` that holds nothing hidden:

- test cells show their visible part only (``full``), or only the verdict;
- a failed test shows the three-part message, redacted (:meth:`HiddenTests.redact`);
- outputs of the student's cells come from the hidden-test-free run when there is one;
  otherwise from the graded run, redacted for every cell after the first hidden test
  (the student's code may have kept hidden inputs and printed them there), with plots
  taken from the submitted notebook;
- only plain text and images (PNG, JPEG, SVG shown as an image) are kept: no HTML or
  JavaScript output of a student's code reaches the page.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

from nbformat.notebooknode import NotebookNode

from autograder.feedback import LEVELS, messages
from autograder.feedback.hidden import HiddenTests, has_hidden, strip_hidden, visible_part

FIGURE_TEXT = re.compile(r"^<Figure size \d+(?:\.\d+)?x\d+(?:\.\d+)? with [1-9]\d* Axes>$")  # 0 Axes: nothing to draw
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_IMAGES = ("image/png", "image/jpeg", "image/svg+xml")
_MAX_TEXT = 20_000  # characters of one output shown; the rest is cut
MISSING_PLOT = "(a plot: it is drawn when you run the notebook)"


@dataclass
class Output:
    """One output as shown: ``text`` (stdout, results), ``stderr``, ``error``, ``image`` or ``note``."""

    kind: str
    text: str = ""
    mime: str = ""  # images: image/png | image/jpeg | image/svg+xml
    data: str = ""  # images: base64


@dataclass
class Grade:
    """A grade cell's verdict."""

    grade_id: str
    score: float
    points: float
    message: messages.Message | None = None  # for a lost point, at levels full and messages

    @property
    def passed(self) -> bool:
        return self.score >= self.points


@dataclass
class Cell:
    """A cell as shown: ``markdown``, ``code`` (the student's and the notebook's own), ``test`` or ``raw``."""

    kind: str
    source: str = ""
    outputs: list[Output] = field(default_factory=list)
    grade: Grade | None = None
    show_source: bool = True
    collapsed: bool = False  # a test cell's visible code, folded away at level "messages"
    solution: bool = False  # a cell the student wrote in


@dataclass
class NotebookFeedback:
    """One student's notebook, ready for :mod:`autograder.feedback.page`."""

    student: str
    assignment: str
    notebook: str
    level: str
    cells: list[Cell]
    score: float
    max_score: float
    notes: list[str] = field(default_factory=list)

    @property
    def grades(self) -> list[Grade]:
        return [c.grade for c in self.cells if c.grade is not None]


def nbgrader_meta(cell: Any) -> dict[str, Any]:
    return dict((cell.get("metadata") or {}).get("nbgrader") or {})


def is_test_cell(cell: Any) -> bool:
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def grade_outcome(cell: Any, score: float, points: float, hidden: HiddenTests) -> messages.Message | None:
    """The message of a grade cell that lost points (redacted), or None when it got them all."""
    if score >= points:
        return None
    errors = [o for o in cell.get("outputs") or [] if o.get("output_type") == "error"]
    if errors:
        error = errors[-1]
        message = messages.from_error(str(error.get("ename", "Error")), str(error.get("evalue", "")))
    else:
        message = messages.without_output_error(score, points)
    return message.redacted(hidden.redact)


def build(autograded: NotebookNode, scores: dict[str, tuple[float, float]], *, student: str, assignment: str,
          notebook: str, level: str, hidden: HiddenTests, submitted: NotebookNode | None = None,
          rendered: dict[int, list[dict[str, Any]]] | None = None) -> NotebookFeedback:
    """The feedback of one graded notebook; ``scores``: grade_id -> (score, points), from the gradebook."""
    if level not in LEVELS:
        raise ValueError(f"unknown feedback level {level!r}: choose one of {', '.join(LEVELS)}")
    twins = _Twins(submitted)
    first_hidden = next((i for i, c in enumerate(autograded.cells) if is_test_cell(c) and has_hidden(c.source)),
                        len(autograded.cells))
    cells: list[Cell] = []
    notes: list[str] = []
    for index, cell in enumerate(autograded.cells):
        meta = nbgrader_meta(cell)
        kind = cell.get("cell_type")
        grade = None
        if meta.get("grade") and meta.get("grade_id") in scores:
            score, points = scores[meta["grade_id"]]
            message = grade_outcome(cell, score, points, hidden) if level != "scores" else None
            grade = Grade(meta["grade_id"], score, points, message)
        if kind == "markdown":
            cells.append(Cell("markdown", cell.source, grade=grade, solution=bool(meta.get("solution"))))
        elif kind == "raw":
            cells.append(Cell("raw", cell.source))
        elif kind == "code" and is_test_cell(cell):
            cells.append(_test_cell(cell, grade, level, hidden))
        elif kind == "code":
            after_hidden = index > first_hidden
            if rendered is not None and index in rendered:
                outputs = _outputs(rendered[index], redact=None, test=False)
            else:
                outputs = _outputs(cell.get("outputs") or [], redact=hidden.redact if after_hidden else None,
                                   test=False, drop_images=after_hidden)
            outputs = _fill_figures(outputs, twins.images(cell))
            if any(o.kind == "note" and o.text == MISSING_PLOT for o in outputs):
                notes.append("plots not drawn")
            cells.append(Cell("code", cell.source, outputs, grade, solution=bool(meta.get("solution"))))
    total = sum(s for s, _ in scores.values())
    most = sum(p for _, p in scores.values())
    return NotebookFeedback(student, assignment, notebook, level, cells, total, most, sorted(set(notes)))


def _test_cell(cell: NotebookNode, grade: Grade | None, level: str, hidden: HiddenTests) -> Cell:
    if level == "scores":
        return Cell("test", "", [], grade, show_source=False)
    if level == "messages":
        return Cell("test", visible_part(cell.source), [], grade, collapsed=True)
    outputs = [o for o in cell.get("outputs") or [] if o.get("output_type") != "error"]
    return Cell("test", strip_hidden(cell.source), _outputs(outputs, redact=hidden.redact, test=True,
                                                              drop_images=True), grade)


def _outputs(raw: list[dict[str, Any]], *, redact: Any, test: bool, drop_images: bool = False) -> list[Output]:
    """Outputs as shown: text and images only, every text through ``redact`` when given."""
    shown: list[Output] = []

    def text(value: Any) -> str:
        value = "".join(value) if isinstance(value, list) else str(value or "")
        value = _ANSI.sub("", value)
        if len(value) > _MAX_TEXT:
            value = value[:_MAX_TEXT] + "\n... (cut)"
        return redact(value) if redact is not None else value

    for output in raw:
        kind = output.get("output_type")
        if kind == "stream":
            value = text(output.get("text"))
            if value:
                shown.append(Output("stderr" if output.get("name") == "stderr" else "text", value))
        elif kind in ("display_data", "execute_result"):
            data = output.get("data") or {}
            image = None if drop_images else _image(data)
            if image is not None:
                shown.append(image)
                continue
            plain = text(data.get("text/plain", ""))
            if FIGURE_TEXT.match(plain.strip()):
                shown.append(Output("figure", plain.strip()))
            elif plain:
                shown.append(Output("text", plain))
        elif kind == "error":
            ename, evalue = str(output.get("ename", "Error")), text(output.get("evalue", ""))
            lines = [] if test else [text(line) for line in output.get("traceback") or []]
            lines = [line for line in lines if line.strip()]
            body = "\n".join(lines) if lines and f"{ename}" in lines[-1] else f"{ename}: {evalue}"
            shown.append(Output("error", body))
    return shown


def _image(data: dict[str, Any]) -> Output | None:
    for mime in _IMAGES:
        value = data.get(mime)
        if not value:
            continue
        value = "".join(value) if isinstance(value, list) else str(value)
        if mime == "image/svg+xml":  # shown through <img>: its scripts never run
            return Output("image", mime=mime, data=base64.b64encode(value.encode()).decode())
        try:
            raw = base64.b64decode(value.replace("\n", ""), validate=True)
        except (binascii.Error, ValueError):
            continue
        magic = b"\x89PNG" if mime == "image/png" else b"\xff\xd8"
        if raw.startswith(magic):
            return Output("image", mime=mime, data=base64.b64encode(raw).decode())
    return None


def _fill_figures(outputs: list[Output], images: list[Output]) -> list[Output]:
    """Each ``<Figure ...>`` placeholder replaced by the next image of the student's own run."""
    spare = list(images)
    filled = []
    for output in outputs:
        if output.kind != "figure":
            filled.append(output)
        elif spare:
            filled.append(spare.pop(0))
        else:
            filled.append(Output("note", MISSING_PLOT))
    return filled


class _Twins:
    """The submitted notebook's cells, found by cell id, grade id or source."""

    def __init__(self, submitted: NotebookNode | None) -> None:
        self.by_id: dict[str, Any] = {}
        self.by_grade: dict[str, Any] = {}
        self.by_source: dict[str, Any] = {}
        for cell in (submitted.cells if submitted is not None else []):
            if cell.get("cell_type") != "code":
                continue
            if cell.get("id"):
                self.by_id.setdefault(cell["id"], cell)
            grade_id = nbgrader_meta(cell).get("grade_id")
            if grade_id:
                self.by_grade.setdefault(grade_id, cell)
            self.by_source.setdefault(cell.get("source", ""), cell)

    def find(self, cell: Any) -> Any:
        grade_id = nbgrader_meta(cell).get("grade_id")
        for twin in (self.by_grade.get(grade_id) if grade_id else None, self.by_id.get(cell.get("id")),
                     self.by_source.get(cell.get("source", ""))):
            if twin is not None and twin.get("source", "") == cell.get("source", ""):
                return twin
        return None

    def images(self, cell: Any) -> list[Output]:
        twin = self.find(cell)
        if twin is None:
            return []
        found = []
        for output in twin.get("outputs") or []:
            if output.get("output_type") in ("display_data", "execute_result"):
                image = _image(output.get("data") or {})
                if image is not None:
                    found.append(image)
        return found
