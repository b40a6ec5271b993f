"""Read scores out of an nbgrader gradebook."""

from __future__ import annotations

from nbgrader.api import Gradebook


def cell_scores(db_url: str, assignment: str, student: str) -> dict[str, float]:
    """grade_id -> score of every grade cell of a student's submission (manual overrides win)."""
    with Gradebook(db_url) as gradebook:
        submission = gradebook.find_submission(assignment, student)
        scores: dict[str, float] = {}
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                scores[grade.name] = float(grade.score)
        return scores


def max_scores(db_url: str, assignment: str) -> dict[str, float]:
    """grade_id -> points of every grade cell of an assignment."""
    with Gradebook(db_url) as gradebook:
        found = gradebook.find_assignment(assignment)
        return {cell.name: float(cell.max_score) for nb in found.notebooks for cell in nb.grade_cells}
