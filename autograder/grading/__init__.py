"""Grading: wrappers around nbgrader's commands, and the fast batch grader.

The batch grader (``autograder grade``), one job per module:

- ``batch``: the coordinator. It finds submissions, runs nbgrader's sanitize and
  scoring steps, and is the only writer of the gradebook and ``autograded/``.
- ``nbgrader_steps``: nbgrader's own preprocessors without Execute, on one gradebook connection.
- ``launch`` / ``pool``: start the sandboxed workers early, hand them jobs, read their results.
- ``sandbox``: the bubblewrap command line.
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
