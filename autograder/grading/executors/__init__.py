"""Executors: what runs the submissions' code cells for the coordinator (``batch``).

The coordinator hands each notebook of each submission to an executor as a
:class:`~autograder.grading.pool.Job` and reads :class:`~autograder.grading.pool.Event`
objects back; it alone writes the gradebook and ``autograded/``. An executor has:

- ``submit(job)``: run it (in any order, on any machine);
- ``events``: a ``queue.Queue`` of events (each cell's outputs, then the job's ``done``);
- ``timeout``: seconds per cell (the coordinator may set it before submitting);
- ``alive()``: whether it can still finish the jobs it was given;
- ``ever_ready`` and ``start_errors``: whether any sandbox started, and why not;
- ``close()`` (after the last event) and ``abort()`` (now, whatever is running).

Two of them:

- the local pool (:class:`autograder.grading.pool.Pool`, started by
  :func:`autograder.grading.launch.start_workers`): warm sandboxes on this machine's cores,
  the default;
- :class:`autograder.grading.executors.dask.DaskExecutor`: the same warm sandboxes on the
  workers of a Dask cluster (``autograder grade --dask tcp://scheduler:8786``, or
  ``--dask local:N`` for a cluster of N one-thread workers on this machine).

:func:`start` starts either one with the same arguments.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from autograder.grading import limits
from autograder.grading.pool import Event, Job


class Executor(Protocol):
    """What ``batch.grade`` needs of whatever runs the jobs."""

    events: queue.Queue[Event]
    timeout: float
    ever_ready: bool
    start_errors: list[str]

    def submit(self, job: Job) -> None: ...

    def alive(self) -> bool: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


def start(root: Path, assignment: str, *, size: int, sandboxed: bool, memory_gb: float,
          log: Callable[[str], None], figures: bool = False,
          output: tuple[int, int] = (limits.CELL_OUTPUT, limits.NOTEBOOK_OUTPUT),
          processes: int = limits.PROCESSES, dask: str | None = None, gpu: bool = False) -> Executor:
    """A started executor: the local pool of ``size`` workers, or (``dask``: a scheduler's address,
    or ``local:N``) the workers of a Dask cluster; ``gpu``: each job asks Dask for a ``GPU``."""
    if dask:
        from autograder.grading.executors.dask import start_dask

        return start_dask(root, assignment, dask, sandboxed=sandboxed, memory_gb=memory_gb, log=log,
                          figures=figures, output=output, processes=processes, gpu=gpu)
    if gpu:
        raise ValueError("--gpu asks a Dask cluster for GPU workers: it needs --dask")
    from autograder.grading import launch

    return launch.start_workers(root, assignment, size=size, sandboxed=sandboxed, memory_gb=memory_gb, log=log,
                                figures=figures, output=output, processes=processes)
