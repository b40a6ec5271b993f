"""Feedback for students after grading: their own notebook, a score and a lesson under each test.

One HTML page per student and notebook, written by ``autograder feedback`` or by stock
``nbgrader generate_feedback`` (the course registers :class:`~autograder.feedback.nbgrader.TeachingFeedback`
in ``nbgrader_config.py``); both build the same page with :mod:`autograder.feedback.page`.

What a page never shows (:mod:`autograder.feedback.hidden`): the source of a hidden-test
block, its seeds, or the hidden data. A failure on hidden data says which kind of case
failed and what the student's function did there. How much is shown is the instructor's
choice (``c.TeachingFeedback.level``): ``full``, ``messages`` (the default) or ``scores``.

- ``hidden``: what the hidden tests of a notebook are, and a redactor for their data.
- ``messages``: a failed grade cell's output as a three-part message and a mistake code.
- ``model``: a graded notebook as the cells a student may see, at a level.
- ``page``: that model as one self-contained HTML page.
- ``render``: the student's notebook run again without hidden tests, to draw its plots.
- ``build``: the whole class (``autograder feedback``); ``nbgrader``: the stock preprocessor.
"""

LEVELS = ("full", "messages", "scores")
DEFAULT_LEVEL = "messages"
