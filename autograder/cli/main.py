"""``autograder``: the instructor's command line (one sub-command per job).

Add a command by defining a function decorated with ``@app.command()`` here or
in a module imported at the bottom of this file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(help="Tools for the PyTorch-fundamentals course.", no_args_is_help=True,
                  add_completion=False)
console = Console()


@app.callback()
def _main() -> None:
    """Tools for the PyTorch-fundamentals course."""


@app.command()
def grade(
    assignment: Annotated[str, typer.Argument(help="The assignment to grade, e.g. 03_single_neuron.")],
    root: Annotated[Path, typer.Option("--root", help="The course folder (holds nbgrader_config.py).")] = Path("."),
    student: Annotated[Optional[list[str]],  # noqa: UP045 - typer needs Optional here
                       typer.Option("--student", help="Grade only this student (repeatable).")] = None,
    workers: Annotated[int, typer.Option("--workers", min=0, help="Sandboxes in parallel (0: one per core).")] = 0,
    timeout: Annotated[float, typer.Option("--timeout", min=0,
                                           help="Seconds per cell (0: the course's Execute.timeout).")] = 0,
    memory: Annotated[float, typer.Option("--memory", min=0.1, help="Memory limit per submission, in GB.")] = 4.0,
    force: Annotated[bool, typer.Option("--force", help="Regrade every submission, not only new or changed.")] = False,
    figures: Annotated[bool, typer.Option(
        "--figures/--no-figures", help="Draw plots into autograded/ (slower; scores never depend on them).")] = False,
    unsafe_no_sandbox: Annotated[bool, typer.Option(
        "--unsafe-no-sandbox", help="Run student code without bubblewrap (trusted code only).")] = False,
) -> None:
    """Grade every submission of ASSIGNMENT into the nbgrader gradebook and autograded/."""
    from autograder.grading import launch, sandbox
    from autograder.reports.summary import file_logger

    root = root.resolve()
    if not unsafe_no_sandbox and sandbox.find_bwrap() is None:
        console.print(f"[bold red]error:[/] {sandbox.INSTALL_HINT}")
        raise typer.Exit(2)
    if not (root / "submitted").is_dir():
        console.print(f"[bold red]error:[/] no submitted/ folder in {root}: run the command in the course "
                      "folder or pass --root")
        raise typer.Exit(2)
    log_path = root / "autograder.log"
    logger = file_logger(log_path)
    import logging

    from autograder.grading.pool import WORKER_LOG

    WORKER_LOG.setLevel(logging.INFO)
    WORKER_LOG.propagate = False
    for handler in logger.handlers:
        if handler not in WORKER_LOG.handlers:
            WORKER_LOG.addHandler(handler)
    problems: list[str] = []

    def log(message: str) -> None:
        logger.warning(message)
        problems.append(message)

    if unsafe_no_sandbox:
        log("grading WITHOUT a sandbox (--unsafe-no-sandbox): student code runs with your rights")
    students = list(student or [])
    count = launch.count_submissions(root, assignment, students)
    size = max(1, min(workers or os.cpu_count() or 1, count))
    # The sandboxes import torch while this process imports nbgrader (both take seconds).
    pool = launch.start_workers(root, assignment, size=size, sandboxed=not unsafe_no_sandbox,
                                memory_gb=memory, log=log, figures=figures) if count else None
    try:
        _grade(assignment, root, students, workers, timeout, memory, force, unsafe_no_sandbox, pool, log, figures)
    finally:
        if pool is not None:
            pool.close()
    if problems:
        console.print(f"{len(problems)} problem(s) logged in {log_path}")
        for message in problems[:10]:
            console.print(f"  - {message}", markup=False)


def _grade(assignment: str, root: Path, students: list[str], workers: int, timeout: float, memory: float,
           force: bool, unsafe: bool, pool: object, log: Callable[[str], None], figures: bool = False) -> None:
    from autograder.grading import batch
    from autograder.reports.summary import summary_table

    options = batch.Options(assignment, root, students, workers, timeout or None, memory, force,
                            sandboxed=not unsafe, figures=figures)
    try:
        found = batch.submissions(root, assignment, students)
    except batch.GradeError as error:
        console.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(2) from None
    with Progress(TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=console, transient=True) as bar:
        task = bar.add_task("", total=len(found))

        def progress(result: batch.Result) -> None:
            bar.update(task, advance=1, description=f"{result.student}: {result.status}")

        try:
            results = batch.grade(options, progress=progress, log=log, workers=pool)  # type: ignore[arg-type]
        except batch.GradeError as error:
            console.print(f"[bold red]error:[/] {error}")
            raise typer.Exit(2) from None
    console.print(summary_table(assignment, results))
    failed = [r.student for r in results if r.status == "failed"]
    if failed:
        console.print(f"[bold red]{len(failed)} submission(s) could not be graded:[/] {', '.join(failed)}")
        raise typer.Exit(1)


# Commands defined in their own modules register themselves on ``app`` when imported.
from autograder.cli import sample_class as _sample_class  # noqa: E402,F401

if __name__ == "__main__":
    app()
