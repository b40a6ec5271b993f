"""Stock ``nbgrader generate_feedback``, made to show what ``autograder feedback`` shows.

nbgrader's own feedback is the autograded notebook as HTML: every test cell with its
hidden tests and their seeds, and every output of the student's code, HTML and
JavaScript included (jupyter/nbgrader#917, #1363). The course registers this
preprocessor after ``GetGrades`` in ``nbgrader_config.py``::

    c.GenerateFeedback.preprocessors = [
        "nbgrader.preprocessors.GetGrades",
        "autograder.feedback.nbgrader.TeachingFeedback",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    ]
    c.TeachingFeedback.level = "messages"   # full | messages | scores

It replaces the notebook's cells with the page body of :mod:`autograder.feedback.page`
(the one output of one cell), so nbgrader's template only adds its header. Plots come from the
student's submitted notebook (nbgrader cannot run it again). A page that would hold a
line of the hidden tests fails for that student instead of being written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Enum

from autograder.feedback import DEFAULT_LEVEL, LEVELS, model, page


class TeachingFeedback(Preprocessor):
    """Feedback without hidden tests: the student's cells, a score and a message under each test."""

    enabled = Bool(True, help="Whether the page is rebuilt (nbgrader registers it without enabling it)."
                   ).tag(config=True)
    level = Enum(list(LEVELS), default_value=DEFAULT_LEVEL,
                 help="How much feedback shows under each test: 'full' (the visible test code, its output and "
                      "the message with its mistake code), 'messages' (the score and, for a lost point, what was "
                      "expected, what was found and the likely cause) or 'scores' (the score only). Hidden tests, "
                      "their seeds and their data are never shown.").tag(config=True)

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        from autograder.feedback.build import check_page
        from autograder.reports.outcomes import hidden_tests_of

        info = resources.get("nbgrader") or {}
        student, assignment, notebook = info["student"], info["assignment"], info["notebook"]
        scores = _scores(info["db_url"], assignment, student, notebook)
        course = self.config.CourseDirectory
        root = Path(str(course.get("root", "."))).resolve()
        submitted = root / str(course.get("submitted_directory", "submitted")) / student / assignment
        hidden = hidden_tests_of(nb)
        feedback = model.build(nb, scores, student=student, assignment=assignment, notebook=notebook,
                               level=self.level, hidden=hidden, submitted=_read(submitted / f"{notebook}.ipynb"))
        body = page.style() + page.body(feedback, str(course.get("course_id", "")))
        check_page(body, hidden)
        # One code cell without source whose one output is the page: nbconvert shows an HTML output as
        # it is (a raw cell's HTML goes through a sanitizer that drops images and styles).
        cell = nbformat.v4.new_code_cell("", metadata={"transient": {"remove_source": True}})
        cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": body})]
        nb.cells = [cell]
        return nb, resources


def _scores(db_url: str, assignment: str, student: str, notebook: str) -> dict[str, tuple[float, float]]:
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gradebook:
        found = gradebook.find_submission_notebook(notebook, assignment, student)
        return {g.name: (float(g.score or 0), float(g.max_score or 0)) for g in found.grades}


def _read(path: Path) -> Any:
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError, KeyError, AttributeError):
        return None
