"""One ``autograder grade`` run, without the command line: logging, the lock, workers, grading.

The typer command (``autograder.cli.grade``) and the sample class call :func:`grade_assignment`;
tests and benchmarks may too. It never prints: progress and problems go to the callbacks
and to the course's ``autograder.log``.

A rerun with nothing new to grade is decided before anything heavy is imported or started
(no sandbox, no nbgrader): it takes a fraction of a second.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading import launch
from autograder.grading.plan import Options, Result, RunStopped, course_lock, make_plan
from autograder.grading.pool import WORKER_LOG
from autograder.grading.state import State
from autograder.reports.summary import file_logger

LOG_NAME = "autograder.log"
#: Loggers of the libraries the coordinator runs (nbgrader's API logs whole tracebacks on
#: every database error): they go to autograder.log, never to the terminal.
QUIET_LOGGERS = ("tornado.application", "traitlets", "nbgrader", "sqlalchemy")


@dataclass
class Run:
    """What one run did: a result per submission, and every problem logged."""

    results: list[Result] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    log_path: Path | None = None
    #: Why the run stopped before the end (None: it did not); the rerun grades the rest.
    stopped: RunStopped | None = None


def course_logger(root: Path) -> tuple[logging.Logger, Path]:
    """The course's ``autograder.log``, which the workers' own stderr also goes to."""
    log_path = root / LOG_NAME
    logger = file_logger(log_path)
    for name in (WORKER_LOG.name, *QUIET_LOGGERS):
        other = logging.getLogger(name)
        if name == WORKER_LOG.name:
            other.setLevel(logging.INFO)
        other.propagate = False
        for handler in logger.handlers:
            if handler not in other.handlers:
                other.addHandler(handler)
    return logger, log_path


def grade_assignment(options: Options, progress: Callable[[Result], None] | None = None,
                     on_start: Callable[[int], None] | None = None, dask: str | None = None,
                     gpu: bool = False) -> Run:
    """Grade ``options.assignment`` of the course at ``options.root``.

    ``dask``: run the submissions on a Dask cluster (a scheduler's address, or ``local:N``)
    instead of this machine's cores; ``gpu``: each asks the cluster for a ``GPU`` resource.

    Raises ``GradeError`` (``CourseBusy`` among them) when nothing could be done; a run that
    stopped part way (Ctrl-C, a full disk, ...) returns with :attr:`Run.stopped` set.
    ``on_start(count)`` is told how many submissions will be graded before grading starts.
    """
    root = Path(options.root).resolve()
    logger, log_path = course_logger(root)
    run = Run(log_path=log_path)

    def log(message: str) -> None:
        logger.warning(message)
        run.problems.append(message)

    if not options.sandboxed:
        log("grading WITHOUT a sandbox (--unsafe-no-sandbox): student code runs with your rights")
    found: list[str] = []
    workers = None
    try:
        with course_lock(root):
            state = State.load(root / "autograded")
            plan = make_plan(options, state)
            found = [student for student, _ in plan.found]
            if on_start is not None:
                on_start(len(plan.found) if state.damaged else len(plan.work))
            if not state.damaged and not plan.work:
                run.results = [Result(student, status="skipped") for student, _ in plan.found]
                return run
            if dask:  # the same warm sandboxes on a Dask cluster (autograder.grading.executors)
                from autograder.grading import executors

                workers = executors.start(root, options.assignment, size=plan.pool_size(options),
                                          sandboxed=options.sandboxed, memory_gb=options.memory_gb, log=log,
                                          figures=options.figures,
                                          output=(options.cell_output, options.notebook_output),
                                          processes=options.processes, dask=dask, gpu=gpu)
            elif not state.damaged:  # the sandboxes import torch while this process imports nbgrader
                workers = launch.start_workers(root, options.assignment, size=plan.pool_size(options),
                                               sandboxed=options.sandboxed, memory_gb=options.memory_gb, log=log,
                                               figures=options.figures,
                                               output=(options.cell_output, options.notebook_output),
                                               processes=options.processes)
            from autograder.grading import batch

            run.results = batch.grade(options, progress=progress, log=log, workers=workers, plan=plan)
    except RunStopped as stopped:
        run.results = stopped.results or [Result(student, status="not graded") for student in found]
        run.stopped = stopped
        logger.error("the run stopped: %s", stopped, exc_info=stopped)
    except KeyboardInterrupt:
        if workers is not None:
            workers.abort()
        run.stopped = RunStopped("interrupted (Ctrl-C) before grading started", "interrupted")
        run.results = [Result(student, status="not graded") for student in found]
    return run
