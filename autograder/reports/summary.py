"""The summary table printed after ``autograder grade``, and the problem log file."""

from __future__ import annotations

import logging
from pathlib import Path

from rich.table import Table

from autograder.grading.plan import Result

STYLES = {"graded": "green", "problems": "yellow", "failed": "bold red", "not graded": "red", "skipped": "dim"}


def summary_table(assignment: str, results: list[Result]) -> Table:
    """One row per submission: score, status, and the first problem if any."""
    table = Table(title=f"autograder grade {assignment}")
    table.add_column("student")
    table.add_column("score", justify="right")
    table.add_column("status")
    table.add_column("problems", overflow="fold")
    for result in results:
        style = STYLES.get(result.status, "")
        score = "-" if result.status in ("failed", "skipped", "not graded") else \
            f"{result.score:g} / {result.max_score:g}"
        problems = "; ".join(result.problems[:2]) + (" ..." if len(result.problems) > 2 else "")
        table.add_row(result.student, score, f"[{style}]{result.status}[/]", problems)
    counts = {status: sum(r.status == status for r in results) for status in STYLES}
    table.caption = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    return table


class QuietFileHandler(logging.FileHandler):
    """A log file that never interrupts the run: when it cannot be written (a full disk, a
    read-only folder) the line is dropped and :attr:`failed` says why, instead of logging's
    ``--- Logging error ---`` and a traceback on the terminal."""

    failed: str | None = None

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        import sys

        error = sys.exc_info()[1]
        self.failed = f"{type(error).__name__}: {error}" if error is not None else "unknown error"
        try:
            if self.stream is not None:
                self.stream.close()
        except OSError:
            pass
        self.stream = None  # type: ignore[assignment]  (reopened at the next line)


def file_logger(path: Path) -> logging.Logger:
    """A logger appending timestamped lines to ``path`` (the run's problem log), opened on its first line."""
    logger = logging.getLogger(f"autograder.grade.{path}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if not logger.handlers:
        handler = QuietFileHandler(path, encoding="utf-8", delay=True)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
    return logger
