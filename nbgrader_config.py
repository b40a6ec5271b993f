"""nbgrader configuration of the PyTorch-fundamentals course.

Read by every `nbgrader` command run from this folder, and by `autograder grade`.
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821  (nbgrader injects get_config)

# nbgrader runs `alembic` by name when it creates the gradebook: find the one installed
# beside this Python, so that `.venv/bin/nbgrader ...` works without activating the venv.
if os.path.dirname(sys.executable) not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])

#: The course folder: this file's folder, absolute (nbgrader warns about a relative root).
COURSE = Path(__file__).resolve().parent

c.CourseDirectory.course_id = "pytorch-fundamentals"
c.CourseDirectory.root = str(COURSE)
c.CourseDirectory.db_url = f"sqlite:///{COURSE / 'gradebook.db'}"

# The exchange: `nbgrader release_assignment` puts assignments there, students'
# `fetch_assignment` and `submit` read and write it, `collect` brings the submissions
# into submitted/. By default it is exchange/ in the course folder (one machine, one
# user: trying the workflow, or a course whose students share this machine); on a
# shared server set NBGRADER_EXCHANGE to a folder every user can write, such as
# /srv/nbgrader/exchange, here and in the students' own nbgrader_config.py.
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE") or str(COURSE / "exchange")
if not os.path.isdir(c.Exchange.root):  # the formgrader warns when it is missing
    try:
        os.makedirs(c.Exchange.root)
        os.chmod(c.Exchange.root, 0o777)  # what release_assignment would set: everyone may submit
    except OSError:
        pass  # a read-only course folder: release_assignment says what is wrong

# The assignments, in teaching order (see docs/contract.md; the list itself lives in
# kit/coursekit/assignments.py, which a test keeps in step with this one).
# nbgrader itself has no such list; `autograder` reads it from here.
c.Course.assignments = [
    "01_tensors",
    "02_autograd",
    "03_single_neuron",
    "04_training_loop",
    "05_devices_checkpoints",
    "06_resume",
]

# Training cells run a few hundred small epochs: 60 s a cell is generous on one
# CPU core and still stops an endless loop.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True

# A student who deletes a test cell gets it back, graded, instead of a cell
# left for manual grading.
c.OverwriteCells.add_missing_cells = True

# Stock nbgrader scores any stderr output of a grade cell as a failure; a
# warning (a UserWarning from torch, a DeprecationWarning) must not cost points.
# Errors are "error" outputs, not stderr, so they still cost the cell.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(?i)warn"

# Feedback (`nbgrader generate_feedback` and `autograder feedback` show the same page):
# the student's cells and outputs with their plots, and under each test its score and, for
# a lost point, what was expected, what was found and the likely cause. Never the hidden
# tests, their seeds or their data (stock nbgrader shows all three). How much to show:
# "full" (also the visible test code and its output), "messages" or "scores" (scores only).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.feedback.nbgrader.TeachingFeedback",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.TeachingFeedback.level = "messages"
