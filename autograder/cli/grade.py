"""``autograder grade``: grade a class into the nbgrader gradebook (see ``autograder.grading``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from autograder.cli.app import app, console, error


@app.command()
def grade(
    assignment: Annotated[str, typer.Argument(metavar="ASSIGNMENT",
                                              help="The assignment to grade, e.g. 03_single_neuron.")],
    root: Annotated[Path, typer.Option("--root", help="The course folder (holds nbgrader_config.py).")] = Path("."),
    student: Annotated[Optional[list[str]],  # noqa: UP045 - typer needs Optional here
                       typer.Option("--student", help="Grade only this student (repeatable).")] = None,
    workers: Annotated[int, typer.Option("--workers", min=0, help="Sandboxes in parallel (0: one per core).")] = 0,
    timeout: Annotated[float, typer.Option("--timeout", min=0,
                                           help="Seconds per cell (0: the course's Execute.timeout).")] = 0,
    memory: Annotated[float, typer.Option("--memory", min=0.1, help="Memory limit per submission, in GB.")] = 4.0,
    force: Annotated[bool, typer.Option("--force", is_flag=True,
                                        help="Regrade every submission, not only new or changed.")] = False,
    figures: Annotated[bool, typer.Option(
        "--figures/--no-figures", help="Draw plots into autograded/ (slower; scores never depend on them).")] = False,
    unsafe_no_sandbox: Annotated[bool, typer.Option(
        "--unsafe-no-sandbox", is_flag=True, help="Run student code without bubblewrap (trusted code only).")] = False,
) -> None:
    """Grade every submission of ASSIGNMENT into the nbgrader gradebook and autograded/."""
    from autograder.grading import batch, sandbox
    from autograder.grading.run import grade_assignment
    from autograder.reports.summary import summary_table

    root = root.resolve()
    if not unsafe_no_sandbox and sandbox.find_bwrap() is None:
        raise error(sandbox.INSTALL_HINT)
    if not (root / "submitted").is_dir():
        raise error(f"no submitted/ folder in {root}: run the command in the course folder or pass --root")
    options = batch.Options(assignment, root, list(student or []), workers, timeout or None, memory, force,
                            sandboxed=not unsafe_no_sandbox, figures=figures)
    with Progress(TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=console, transient=True) as bar:
        task = bar.add_task("", total=None)
        try:
            run = grade_assignment(
                options,
                progress=lambda r: bar.update(task, advance=1, description=f"{r.student}: {r.status}"),
                on_start=lambda count: bar.update(task, total=count))
        except batch.GradeError as problem:
            raise error(str(problem)) from None
    console.print(summary_table(assignment, run.results))
    if run.problems:
        console.print(f"{len(run.problems)} problem(s) logged in {run.log_path}")
        for message in run.problems[:10]:
            console.print(f"  - {message}", markup=False)
    failed = [r.student for r in run.results if r.status == "failed"]
    if failed:
        console.print(f"[bold red]{len(failed)} submission(s) could not be graded:[/] {', '.join(failed)}")
        raise typer.Exit(1)
