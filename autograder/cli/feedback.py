"""``autograder feedback``: a feedback page per student and notebook, with nothing hidden on it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from autograder.cli.app import app, console, error


@app.command()
def feedback(
    assignment: Annotated[str, typer.Argument(metavar="ASSIGNMENT", help="The graded assignment, e.g. 01_tensors.")],
    root: Annotated[Path, typer.Option("--root", help="The course folder (holds nbgrader_config.py).")] = Path("."),
    student: Annotated[Optional[list[str]],  # noqa: UP045 - typer needs Optional here
                       typer.Option("--student", help="Only this student (repeatable).")] = None,
    level: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--level", help="full | messages | scores (default: the course's c.TeachingFeedback.level, "
                        "else messages).")] = None,
    render: Annotated[bool, typer.Option(
        "--render/--no-render",
        help="Run each notebook again without its hidden tests, in the sandbox, to draw its plots "
             "(default). --no-render takes plots from the submitted notebooks.")] = True,
    workers: Annotated[int, typer.Option("--workers", min=0, help="Sandboxes in parallel (0: one per core).")] = 0,
    unsafe_no_sandbox: Annotated[bool, typer.Option(
        "--unsafe-no-sandbox", help="Draw plots without bubblewrap (trusted code only).")] = False,
) -> None:
    """Write feedback/<student>/ASSIGNMENT/<notebook>.html for every graded submission of ASSIGNMENT."""
    from autograder.feedback import LEVELS
    from autograder.feedback.build import generate
    from autograder.grading import sandbox
    from autograder.reports.outcomes import NotGraded

    if level is not None and level not in LEVELS:
        raise error(f"--level must be one of {', '.join(LEVELS)}")
    if render and not unsafe_no_sandbox and sandbox.find_bwrap() is None:
        raise error(sandbox.INSTALL_HINT + " (or pass --no-render: plots then come from the submitted notebooks)")
    with console.status("[bold]writing feedback"):
        try:
            run = generate(root, assignment, students=list(student or []), level=level, render=render,
                           sandboxed=not unsafe_no_sandbox, workers=workers)
        except NotGraded as problem:
            raise error(str(problem)) from None
    table = Table(title=f"autograder feedback {assignment} (level: {run.level})")
    for column in ("student", "notebook", "score", "plots", "page"):
        table.add_column(column, justify="right" if column == "score" else "left", overflow="fold")
    for page in run.written:
        table.add_row(page.student, page.notebook, f"{page.score:g} / {page.max_score:g}", page.plots or "-",
                      str(page.path.relative_to(Path(root).resolve())))
    table.caption = f"{len(run.written)} page(s) in {run.seconds:.1f} s"
    console.print(table)
    for message in run.problems:
        console.print(f"[yellow]problem:[/] {message}", highlight=False)
    if run.problems:
        raise typer.Exit(1)
