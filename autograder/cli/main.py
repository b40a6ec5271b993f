"""``autograder``: the instructor's command line, one module per command.

Add a command in its own module under ``autograder/cli/`` with ``@app.command()`` and
import it here.
"""

from __future__ import annotations

from autograder.cli import feedback, grade, gradescope, report, sample_class, student_kit  # noqa: F401 - they register their commands
from autograder.cli.app import app

__all__ = ["app"]

if __name__ == "__main__":
    app()
