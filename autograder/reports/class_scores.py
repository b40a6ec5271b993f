"""A class's scores, read from the nbgrader gradebook, as tables that fit an 80-column terminal.

Two tables: :func:`assignment_table` (one assignment: each submission's score, status and the
grade cells it lost, or why it could not be graded) and :func:`score_table` (the class: a row
per student, a column per assignment, the total and the cells lost). Both list every student
who handed something in, including those that could not be graded, with the reason.

Assignment columns are short ("01" for "01_tensors") and explained in the caption; cell
names lose their ``test_`` prefix and wrap at word boundaries instead of being cut.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from rich import box
from rich.table import Table

#: Widths that keep a table within 80 columns: long student ids fold, cell names stay whole.
STUDENT_WIDTH = 16
LOST_WIDTH = 24

#: What a score cell shows for a submission that could not be graded, and for none at all.
NOT_GRADED = "!"
NO_SUBMISSION = "-"


@dataclass
class StudentRow:
    """One student: assignment -> (score, max), the cells that lost points, and what could not be graded."""

    student: str
    scores: dict[str, tuple[float, float]] = field(default_factory=dict)
    lost: dict[str, list[str]] = field(default_factory=dict)  # assignment -> grade cells below full points
    problems: dict[str, str] = field(default_factory=dict)  # assignment -> why it could not be graded

    @property
    def total(self) -> float:
        return sum(score for score, _ in self.scores.values())


def lost_cells(scores: dict[str, float], points: dict[str, float]) -> list[str]:
    """The grade cells (in ``points`` order, without ``test_``) that scored below their points."""
    return [short_cell(cell) for cell, most in points.items() if most and scores.get(cell, 0.0) < most]


def short_cell(grade_id: str) -> str:
    return grade_id.removeprefix("test_")


def short_assignment(assignment: str) -> str:
    """"03_single_neuron" -> "03": the table must fit a terminal (the caption names them in full)."""
    return assignment.split("_", 1)[0]


def read_class(db_url: str, assignments: list[str], submitted: Path | None = None,
               problems: dict[tuple[str, str], str] | None = None) -> list[StudentRow]:
    """Every student with their score in each of ``assignments``, sorted by name.

    ``submitted``: the course's ``submitted/`` folder; a student who handed in an assignment
    that is not in the gradebook (the file could not be read, say) is listed with a problem.
    ``problems``: (student, assignment) -> why it could not be graded (from the grading run).
    """
    problems = dict(problems or {})
    rows: dict[str, StudentRow] = {}
    with Gradebook(db_url) as gradebook:
        for student in gradebook.students:
            row = rows.setdefault(student.id, StudentRow(student.id))
            for assignment in assignments:
                try:
                    submission = gradebook.find_submission(assignment, student.id)
                except MissingEntry:
                    continue
                row.scores[assignment] = (float(submission.score), float(submission.max_score))
                cells = [(g.name, float(g.score), float(g.max_score or 0)) for nb in submission.notebooks
                         for g in nb.grades]
                lost = [short_cell(name) for name, score, most in cells if most and score < most]
                if lost:
                    row.lost[assignment] = lost
    handed_in = set(problems)
    if submitted is not None and submitted.is_dir():
        handed_in |= {(p.parent.name, p.name) for p in submitted.glob("*/*") if p.is_dir()}
    for student, assignment in sorted(handed_in):
        if assignment not in assignments:
            continue
        row = rows.setdefault(student, StudentRow(student))
        if (student, assignment) in problems:
            row.scores.pop(assignment, None)
            row.lost.pop(assignment, None)
            row.problems[assignment] = problems[student, assignment]
        elif assignment not in row.scores:
            row.problems[assignment] = "not graded yet, or could not be graded: see autograder.log"
    return sorted(rows.values(), key=lambda r: r.student)


def _lost_text(row: StudentRow, assignments: Iterable[str]) -> str:
    """One line per assignment that lost points: "03 train_model, take_order" (or why it was not graded)."""
    parts = []
    for assignment in assignments:
        if assignment in row.problems:
            parts.append(f"{short_assignment(assignment)} not graded: {row.problems[assignment]}")
        elif row.lost.get(assignment):
            parts.append(f"{short_assignment(assignment)} " + ", ".join(row.lost[assignment]))
    return "\n".join(parts) or "-"


def _table(title: str | None, caption: str | None) -> Table:
    return Table(title=title, caption=caption, box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True,
                 caption_justify="left", title_justify="left")


def score_table(rows: list[StudentRow], assignments: list[str], title: str = "Scores") -> Table:
    """A row per student, a column per assignment, the total, and the cells lost (or why not graded)."""
    names = ", ".join(f"{short_assignment(a)} {a}" for a in assignments)
    caption = (f"{names}. {NOT_GRADED}: handed in but could not be graded; {NO_SUBMISSION}: not handed in. "
               "Cells are the grade cells without their test_ prefix.")
    maxima = _maxima(rows, assignments)
    table = _table(title, caption)
    table.add_column("student", overflow="fold", max_width=STUDENT_WIDTH)
    for assignment in assignments:
        most = maxima.get(assignment)
        header = short_assignment(assignment) + (f"\n/{most:g}" if most is not None else "")
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("total", justify="right", no_wrap=True)
    table.add_column("lost points in", overflow="fold", min_width=LOST_WIDTH)
    for row in rows:
        cells = []
        for assignment in assignments:
            if assignment in row.scores:
                score, most = row.scores[assignment]
                cells.append(f"{score:g}" if most == maxima.get(assignment) else f"{score:g}/{most:g}")
            else:
                cells.append(NOT_GRADED if assignment in row.problems else NO_SUBMISSION)
        maximum = sum(most for _, most in row.scores.values())
        total = f"{row.total:g}/{maximum:g}" if row.scores else NO_SUBMISSION
        style = "red" if row.problems else None
        table.add_row(row.student, *cells, total, _lost_text(row, assignments), style=style)
    return table


def _maxima(rows: list[StudentRow], assignments: list[str]) -> dict[str, float]:
    """assignment -> its points, where every graded submission has the same (the usual case)."""
    found: dict[str, set[float]] = {}
    for row in rows:
        for assignment, (_, most) in row.scores.items():
            found.setdefault(assignment, set()).add(most)
    return {a: next(iter(v)) for a, v in found.items() if len(v) == 1 and a in assignments}


@dataclass
class Outcome:
    """How one submission of an assignment went (what :func:`assignment_table` shows)."""

    student: str
    status: str  # graded | problems | failed | skipped
    score: float | None = None
    max_score: float | None = None
    lost: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


STATUS_STYLES = {"graded": "green", "skipped": "dim", "problems": "yellow", "failed": "bold red"}


def outcomes(results: Iterable, points: dict[str, float]) -> list[Outcome]:
    """Outcomes from ``autograder.grading.batch.Result`` objects and the assignment's points per cell."""
    found = []
    for result in results:
        graded = result.status in ("graded", "problems") or (result.status == "skipped" and bool(result.cells))
        most = result.max_score or sum(points.values())
        found.append(Outcome(result.student, result.status,
                             result.score if graded else None, most if graded else None,
                             lost_cells(result.cells, points) if graded else [], list(result.problems)))
    return found


def assignment_table(assignment: str, rows: list[Outcome]) -> Table:
    """One assignment: a row per submission with its score, status, and the cells lost or the problem."""
    counts = {status: sum(r.status == status for r in rows) for status in STATUS_STYLES}
    caption = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    table = _table(assignment, caption)
    table.add_column("student", overflow="fold", max_width=STUDENT_WIDTH)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("lost points in / problems", overflow="fold", min_width=LOST_WIDTH)
    for row in rows:
        score = NO_SUBMISSION if row.score is None else f"{row.score:g}/{row.max_score:g}"
        text = ", ".join(row.lost) if row.lost else ("-" if row.score is not None else "")
        if row.problems:
            problems = "; ".join(row.problems[:2]) + (" ..." if len(row.problems) > 2 else "")
            text = f"{text}; {problems}" if text and text != "-" else problems
        style = STATUS_STYLES.get(row.status, "")
        table.add_row(row.student, score, f"[{style}]{row.status}[/]", text)
    return table
