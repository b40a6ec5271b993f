"""Grading: wrappers around nbgrader's commands, and the fast batch grader.

The batch grader (``autograder grade``), one job per module:

- ``run``: one run (logging, the course lock, what to grade, then workers and ``batch``).
- ``plan``: light: the options, the results, the course lock, and which submissions to grade
  (a rerun with nothing new ends here, without nbgrader or a sandbox).
- ``state``: the state file and atomic writes. ``faults``: a full disk, a locked or
  read-only gradebook, told in one or two lines.
- ``batch``: the coordinator. It runs nbgrader's sanitize and scoring steps, retries what
  is not the student's fault, and is the only writer of the gradebook (one transaction per
  submission) and ``autograded/`` (a staging folder renamed into place).
- ``nbgrader_steps``: nbgrader's own preprocessors without Execute, on one gradebook connection.
- ``launch`` / ``pool``: start the sandboxed workers early, hand them jobs, read their results.
- ``sandbox``: the bubblewrap command line. ``limits``: the limits each sandbox enforces
  (the pids cgroup among them).
- ``zygote``: the warm worker in a sandbox. It forks one child per submission and
  enforces timeouts and the reply protocol.
- ``kernel`` / ``guard``: inside the child. They run cells like ipykernel and run
  test cells on restored state.
- ``protocol``: the frames they all exchange. ``settings``: the course's nbgrader config.
"""

import sys

# jsonschema, under nbformat, builds a large grammar when it is imported if the optional
# rfc3987_syntax package is there (about 2.5 s of CPU here), only to check IRI strings,
# which notebooks never hold. The grader imports nbformat in every command: skip it.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
