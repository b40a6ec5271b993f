"""nbgrader configuration of the PyTorch-fundamentals course.

Read by every `nbgrader` command run from this folder, and by `autograder grade`.
"""

c = get_config()  # noqa: F821  (nbgrader injects get_config)

c.CourseDirectory.course_id = "pytorch-fundamentals"
c.CourseDirectory.root = "."
c.CourseDirectory.db_url = "sqlite:///gradebook.db"

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
