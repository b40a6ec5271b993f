"""``autograder sample-class``: the main job's demo, a bundled class graded end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from autograder.cli.app import app, console, error
from autograder.cli.grade import grade


@app.command("sample-class")
def sample_class(
    out: Annotated[Path, typer.Option("--out", help="Where to build the sample course (replaced).")] = Path(
        "sample-course"),
    course_root: Annotated[Path, typer.Option("--course-root", help="The course folder with source/.")] = Path("."),
    workers: Annotated[int, typer.Option("--workers", min=0, help="Sandboxes in parallel (0: one per core).")] = 0,
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="Seconds per cell.")] = 10,
    unsafe_no_sandbox: Annotated[bool, typer.Option(
        "--unsafe-no-sandbox", help="Run student code without bubblewrap (trusted code only).")] = False,
) -> None:
    """Grade the bundled sample class (right, wrong and broken submissions) into a SQLite gradebook."""
    from autograder.reports.class_scores import read_class, score_table
    from autograder.sample_class.course import NotACourse, build_sample_course

    try:
        assignments = build_sample_course(course_root, out)
    except NotACourse as problem:
        raise error(str(problem)) from None
    out = out.resolve()
    console.print(f"sample course: {out} ({len(assignments)} assignments)")
    could_not_grade = 0
    for assignment in assignments:
        try:
            grade(assignment, root=out, student=None, workers=workers, timeout=timeout, memory=4.0, force=True,
                  figures=False, unsafe_no_sandbox=unsafe_no_sandbox)
        except typer.Exit as stop:
            if stop.exit_code == 2:
                raise
            could_not_grade += 1
    db_url = f"sqlite:///{out / 'gradebook.db'}"
    console.print(score_table(read_class(db_url, assignments), assignments, title="Sample class"))
    console.print(f"gradebook: {out / 'gradebook.db'}   feedback: nbgrader generate_feedback ASSIGNMENT "
                  f"(run in {out})")
    if could_not_grade:
        console.print(f"{could_not_grade} assignment(s) had a submission that could not be graded "
                      "(expected here: eve's file is not a notebook); see autograder.log")
