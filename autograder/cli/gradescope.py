"""``autograder gradescope``: Gradescope's results.json, the in-container run, and the upload zip."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from autograder.cli.app import app, console, error


@app.command()
def gradescope(
    assignment: Annotated[Optional[str], typer.Argument(  # noqa: UP045 - typer needs Optional here
        metavar="ASSIGNMENT", help="The assignment, e.g. 01_tensors.")] = None,
    root: Annotated[Path, typer.Option("--root", help="The course folder (holds nbgrader_config.py).")] = Path("."),
    student: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--student", help="Whose graded submission (default: the gradebook's only student).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Where to write results.json.")] = Path("results.json"),
    submission: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        "--submission", help="Grade the notebook in this folder first, in a fresh course made from --root "
                             "(what gradescope/run_autograder does in Gradescope's container).")] = None,
    zip_path: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        "--zip", help="Instead, write the autograder zip to upload to Gradescope (for ASSIGNMENT, or any "
                      "assignment of the course, found from the notebook's name).")] = None,
    sandbox: Annotated[Optional[bool], typer.Option(  # noqa: UP045
        "--sandbox/--no-sandbox", help="With --submission: run the student's code in bubblewrap "
                                       "(default: when it works here).")] = None,
) -> None:
    """Write Gradescope's results.json (tests: name, score, max_score, status, output, visibility)."""
    from autograder.reports import gradescope as gs
    from autograder.reports.outcomes import NotGraded, read_assignment

    root = root.resolve()
    if zip_path is not None:
        try:
            written = gs.build_zip(root, zip_path, assignment)
        except FileNotFoundError as problem:
            raise error(str(problem)) from None
        console.print(f"Gradescope autograder zip: {written} ({written.stat().st_size / 1e6:.1f} MB); upload it "
                      "as the assignment's autograder (Ubuntu base image)", highlight=False)
        return
    if submission is not None:
        results = gs.grade_submission(root, submission, assignment=assignment, sandboxed=sandbox,
                                      log=lambda m: console.print(m, markup=False, highlight=False))
    else:
        if assignment is None:
            raise error("give the ASSIGNMENT (or --submission DIR, or --zip FILE)")
        try:
            outcome = read_assignment(root, assignment)
        except NotGraded as problem:
            raise error(str(problem)) from None
        graded = [s.student for s in outcome.submitted]
        if student is None:
            if len(graded) != 1:
                raise error(f"{len(graded)} students have a graded submission: pass --student")
            student = graded[0]
        if student not in graded:
            raise error(f"no graded submission of {assignment} for {student}")
        results = gs.results_for(outcome, student, level=gs.course_level(root))
    path = gs.write(results, out)
    console.print(f"results: {path} (score {results['score']:g}, {len(results['tests'])} tests)", highlight=False)
