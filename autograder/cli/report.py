"""``autograder report``: the class report of an assignment (or of the course), as HTML and CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from autograder.cli.app import app, console, error


@app.command()
def report(
    assignment: Annotated[Optional[str], typer.Argument(  # noqa: UP045 - typer needs Optional here
        metavar="ASSIGNMENT", help="The graded assignment, e.g. 01_tensors (omit with --course).")] = None,
    course: Annotated[bool, typer.Option("--course",
                                         help="Report on every graded assignment of the course.")] = False,
    root: Annotated[Path, typer.Option("--root", help="The course folder (holds nbgrader_config.py).")] = Path("."),
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        "--out", help="The folder to write (default: reports/ASSIGNMENT, or reports/course).")] = None,
) -> None:
    """Write a static HTML page (plots, failure rates, mistakes ranked, a row per student) and CSV files."""
    from autograder.reports.class_report import write_assignment, write_course
    from autograder.reports.outcomes import NotGraded

    if course == (assignment is not None):
        raise error("give an ASSIGNMENT, or --course for every assignment (not both)")
    try:
        written = write_course(root, out) if course else write_assignment(root, str(assignment), out)
    except NotGraded as problem:
        raise error(str(problem)) from None
    console.print(f"report: {written.page} ({written.graded} graded submission(s), {written.mistakes} distinct "
                  f"mistake(s), {written.seconds:.1f} s)", highlight=False)
    for path in written.files:
        console.print(f"        {path}", highlight=False)
