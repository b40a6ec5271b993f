"""Submissions with known mistakes, and the exact grade cells each must lose.

Each assignment has a module here with ``SUBMISSIONS``; see ``autograder.submissions``.
"""

from autograder.submissions import Submission, build_notebook, right, write_submissions, wrong

__all__ = ["Submission", "build_notebook", "right", "write_submissions", "wrong"]
