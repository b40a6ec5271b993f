"""A class's scores, read from the nbgrader gradebook, as a table for the terminal."""

from __future__ import annotations

from dataclasses import dataclass, field

from nbgrader.api import Gradebook, MissingEntry
from rich.table import Table


@dataclass
class StudentRow:
    """One student's scores: assignment -> (score, max), and the grade cells that lost points."""

    student: str
    scores: dict[str, tuple[float, float]] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(score for score, _ in self.scores.values())


def read_class(db_url: str, assignments: list[str]) -> list[StudentRow]:
    """Every student of the gradebook, with their score in each of ``assignments``."""
    rows = []
    with Gradebook(db_url) as gradebook:
        for student in gradebook.students:
            row = StudentRow(student.id)
            for assignment in assignments:
                try:
                    submission = gradebook.find_submission(assignment, student.id)
                except MissingEntry:
                    continue
                row.scores[assignment] = (float(submission.score), float(submission.max_score))
                for notebook in submission.notebooks:
                    row.lost += [
                        f"{_short(assignment)}:{grade.name.removeprefix('test_')}" for grade in notebook.grades
                        if grade.max_score and float(grade.score) < float(grade.max_score)
                    ]
            rows.append(row)
    return sorted(rows, key=lambda r: r.student)


def score_table(rows: list[StudentRow], assignments: list[str], title: str = "Scores") -> Table:
    """A rich table: a row per student, a column per assignment, the total, and the cells lost."""
    table = Table(title=title, caption="columns: " + ", ".join(assignments))
    table.add_column("student")
    for assignment in assignments:
        table.add_column(_short(assignment), justify="right")
    table.add_column("total", justify="right")
    table.add_column("lost points in")
    for row in rows:
        cells = []
        for assignment in assignments:
            if assignment in row.scores:
                score, most = row.scores[assignment]
                cells.append(f"{score:g}/{most:g}")
            else:
                cells.append("not graded")
        maximum = sum(most for _, most in row.scores.values())
        lost = ", ".join(row.lost) if row.lost else "-"
        table.add_row(row.student, *cells, f"{row.total:g}/{maximum:g}", lost)
    return table


def _short(assignment: str) -> str:
    """"03_single_neuron" -> "03": the table must fit a terminal."""
    return assignment.split("_", 1)[0]
