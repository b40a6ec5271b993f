"""One ``autograder grade`` run, without the command line: logging, workers, grading.

The typer command (``autograder.cli.grade``) and the sample class call :func:`grade_assignment`;
tests and benchmarks may too. It never prints: progress and problems go to the callbacks
and to the course's ``autograder.log``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading import batch, launch
from autograder.grading.pool import WORKER_LOG
from autograder.reports.summary import file_logger

LOG_NAME = "autograder.log"


@dataclass
class Run:
    """What one run did: a result per submission, and every problem logged."""

    results: list[batch.Result] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    log_path: Path | None = None


def course_logger(root: Path) -> tuple[logging.Logger, Path]:
    """The course's ``autograder.log``, which the workers' own stderr also goes to."""
    log_path = root / LOG_NAME
    logger = file_logger(log_path)
    WORKER_LOG.setLevel(logging.INFO)
    WORKER_LOG.propagate = False
    for handler in logger.handlers:
        if handler not in WORKER_LOG.handlers:
            WORKER_LOG.addHandler(handler)
    return logger, log_path


def grade_assignment(options: batch.Options, progress: Callable[[batch.Result], None] | None = None,
                     on_start: Callable[[int], None] | None = None) -> Run:
    """Grade ``options.assignment`` of the course at ``options.root``; raises batch.GradeError.

    ``on_start(count)`` is told how many submissions there are before grading starts.
    """
    root = Path(options.root).resolve()
    logger, log_path = course_logger(root)
    run = Run(log_path=log_path)

    def log(message: str) -> None:
        logger.warning(message)
        run.problems.append(message)

    if not options.sandboxed:
        log("grading WITHOUT a sandbox (--unsafe-no-sandbox): student code runs with your rights")
    count = launch.count_submissions(root, options.assignment, options.students)
    size = max(1, min(options.workers or os.cpu_count() or 1, count))
    # The sandboxes import torch while this process imports nbgrader (both take seconds).
    pool = launch.start_workers(root, options.assignment, size=size, sandboxed=options.sandboxed,
                                memory_gb=options.memory_gb, log=log, figures=options.figures) if count else None
    try:
        found = batch.submissions(root, options.assignment, options.students)
        if on_start is not None:
            on_start(len(found))
        run.results = batch.grade(options, progress=progress, log=log, workers=pool)
    finally:
        if pool is not None:
            pool.close()
    return run
