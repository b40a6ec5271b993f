"""A graded class, read back: every grade cell's score and, for a lost point, its message and mistake code.

Scores come from the nbgrader gradebook (manual overrides win). Messages and mistake
codes come from the autograded notebooks: ``autograder grade`` (and stock nbgrader) leave
each failed grade cell's error there, and every check failure ends with its
``mistake code:`` line (:data:`coursekit.checks.expect.MISTAKE_LINE`); other errors get a
code of their own (:mod:`autograder.feedback.messages`). Messages are redacted with the
notebook's :class:`~autograder.feedback.hidden.HiddenTests`, like the students' feedback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from autograder.feedback import messages
from autograder.feedback.hidden import HiddenTests, strip_hidden
from autograder.feedback.model import grade_outcome, nbgrader_meta

NOT_GRADED = "not_graded"  # the autograded notebook is missing (the submission could not be graded)


@dataclass
class CellOutcome:
    """One grade cell of one student."""

    notebook: str
    grade_id: str
    score: float
    points: float
    message: messages.Message | None = None

    @property
    def passed(self) -> bool:
        return self.score >= self.points

    @property
    def code(self) -> str | None:
        if self.passed:
            return None
        return self.message.code if self.message is not None else NOT_GRADED


@dataclass
class StudentOutcome:
    """One student's submission of an assignment (``submitted`` False: none in the gradebook)."""

    student: str
    submitted: bool = True
    cells: list[CellOutcome] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(c.score for c in self.cells)

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.cells)

    def cell(self, grade_id: str) -> CellOutcome | None:
        return next((c for c in self.cells if c.grade_id == grade_id), None)


@dataclass
class AssignmentOutcome:
    """A whole class on one assignment."""

    assignment: str
    cells: list[tuple[str, str, float]]  # (notebook, grade_id, points), in notebook order
    students: list[StudentOutcome]
    hidden: dict[str, HiddenTests] = field(default_factory=dict)  # notebook -> its hidden tests

    @property
    def max_score(self) -> float:
        return sum(p for _, _, p in self.cells)

    @property
    def submitted(self) -> list[StudentOutcome]:
        return [s for s in self.students if s.submitted]


class NotGraded(RuntimeError):
    """The gradebook has no such assignment (the message says what to do)."""


def read_scores(db_url: str, assignment: str) -> tuple[list[tuple[str, str, float]], list[str],
                                                        dict[str, dict[str, dict[str, tuple[float, float]]]]]:
    """(grade cells, every student, student -> notebook -> grade_id -> (score, points)) from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    if db_url.startswith("sqlite:///") and not Path(db_url.removeprefix("sqlite:///")).exists():
        raise NotGraded(f"no gradebook at {db_url.removeprefix('sqlite:///')}: run the command in the course "
                        f"folder (or pass --root), after `autograder grade {assignment}`")
    with Gradebook(db_url) as gradebook:
        try:
            found = gradebook.find_assignment(assignment)
        except MissingEntry:
            raise NotGraded(f"the gradebook {db_url} has no assignment {assignment!r}: generate and grade it "
                            f"first (nbgrader generate_assignment {assignment}; autograder grade {assignment})"
                            ) from None
        order = {nb.name: i for i, nb in enumerate(found.notebooks)}
        # nbgrader records grade cells in notebook order when it generates the assignment.
        cells = [(nb.name, cell.name, float(cell.max_score or 0)) for nb in found.notebooks
                 for cell in nb.grade_cells]
        students = sorted(s.id for s in gradebook.students)
        scores: dict[str, dict[str, dict[str, tuple[float, float]]]] = {}
        for submission in found.submissions:
            per_notebook: dict[str, dict[str, tuple[float, float]]] = {}
            for notebook in sorted(submission.notebooks, key=lambda n: order.get(n.name, 0)):
                per_notebook[notebook.name] = {
                    grade.name: (float(grade.score or 0), float(grade.max_score or 0)) for grade in notebook.grades}
            scores[submission.student.id] = per_notebook
    return cells, students, scores


def read_assignment(root: Path, assignment: str, students: list[str] | None = None) -> AssignmentOutcome:
    """Every student of the gradebook on ``assignment``, with messages from ``autograded/``."""
    from autograder.grading import settings

    root = Path(root).resolve()
    config = settings.load_config(root)
    cells, everyone, scores = read_scores(settings.db_url(config, root), assignment)
    autograded_dir = root / str(config.CourseDirectory.get("autograded_directory", "autograded"))
    hidden_cache: dict[str, HiddenTests] = {}
    outcomes = []
    for student in students or everyone:
        if student not in scores:
            outcomes.append(StudentOutcome(student, submitted=False))
            continue
        outcome = StudentOutcome(student)
        for notebook, per_cell in scores[student].items():
            path = autograded_dir / student / assignment / f"{notebook}.ipynb"
            graded = _read(path)
            by_id = {nbgrader_meta(c).get("grade_id"): c for c in graded.cells} if graded is not None else {}
            hidden = hidden_tests_of(graded) if graded is not None else HiddenTests()
            hidden_cache.setdefault(notebook, hidden)
            for _, grade_id, _points in [c for c in cells if c[0] == notebook]:
                score, points = per_cell.get(grade_id, (0.0, _points))
                cell = by_id.get(grade_id)
                message = grade_outcome(cell, score, points, hidden) if cell is not None else None
                outcome.cells.append(CellOutcome(notebook, grade_id, score, points, message))
        outcomes.append(outcome)
    return AssignmentOutcome(assignment, cells, outcomes, hidden_cache)


_HIDDEN: dict[tuple[str, ...], HiddenTests] = {}


def hidden_tests_of(notebook: Any) -> HiddenTests:
    """The hidden tests of a graded notebook's grade cells (cached: every student has the same), and the
    numbers its own cells show (the student's data is theirs to see)."""
    sources = tuple(c.source for c in notebook.cells
                    if c.get("cell_type") == "code" and nbgrader_meta(c).get("grade"))
    if sources not in _HIDDEN:
        _HIDDEN[sources] = HiddenTests.of_sources(sources)
    return _HIDDEN[sources].seen_in("\n".join(strip_hidden(c.source, None) for c in notebook.cells))


def _read(path: Path) -> Any:
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError, AttributeError, KeyError):
        return None
