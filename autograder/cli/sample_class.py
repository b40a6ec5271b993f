"""``autograder sample-class``: the main job's demo, a bundled class graded end to end."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from autograder.cli.app import app, console, error


@app.command("sample-class")
def sample_class(
    out: Annotated[Path, typer.Option("--out", metavar="DIR",
                                      help="Where to build the sample course (replaced on every run).")] = Path(
        "sample-course"),
    course_root: Annotated[Path, typer.Option("--course-root", metavar="DIR",
                                              help="The course folder with source/.")] = Path("."),
    workers: Annotated[int, typer.Option("--workers", metavar="N", min=0,
                                         help="Sandboxes in parallel (0: one per core).")] = 0,
    timeout: Annotated[float, typer.Option("--timeout", metavar="S", min=1, help="Seconds per cell.")] = 10,
    unsafe_no_sandbox: Annotated[bool, typer.Option(
        "--unsafe-no-sandbox", metavar="", help="Run student code without bubblewrap (trusted code only).")] = False,
    force: Annotated[bool, typer.Option(
        "--force", metavar="", help="Build the course anew and grade every submission, even if nothing changed.")
    ] = False,
) -> None:
    """Grade the bundled sample class (right, wrong and broken submissions) into a SQLite gradebook.

    A rerun with the same notebooks, grader and options reuses the course of the last run and
    grades only what changed (nothing, usually); --force grades everything again.
    """
    from autograder.grading import plan, sandbox
    from autograder.grading.gradebook import cell_scores, max_scores
    from autograder.grading.run import grade_assignment
    from autograder.reports.class_scores import assignment_table, outcomes, read_class, score_table
    from autograder.sample_class.course import NotACourse, prepare_sample_course

    started = time.monotonic()
    if not unsafe_no_sandbox and sandbox.find_bwrap() is None:
        raise error(sandbox.INSTALL_HINT)
    try:
        course = prepare_sample_course(course_root, out, {"timeout": timeout, "sandboxed": not unsafe_no_sandbox},
                                       rebuild=force)
    except NotACourse as problem:
        raise error(str(problem)) from None
    out, assignments = course.folder, course.assignments
    db_url = f"sqlite:///{out / 'gradebook.db'}"
    console.print(f"sample course: {out} ({len(assignments)} assignments)", highlight=False)
    if course.reused:
        console.print("nothing changed since its last run (notebooks, grader, options): grading only what is new; "
                      "--force grades everything again", highlight=False)
    failed: dict[tuple[str, str], str] = {}
    logged = 0
    for assignment in assignments:
        options = plan.Options(assignment, out, [], workers, timeout, 4.0, force=not course.reused,
                               sandboxed=not unsafe_no_sandbox, figures=False)
        began = time.monotonic()
        with Progress(TextColumn(f"[bold]grading {assignment}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=True) as bar:
            task = bar.add_task("", total=None)
            try:
                run = grade_assignment(options, progress=lambda _, t=task: bar.update(t, advance=1),
                                       on_start=lambda count, t=task: bar.update(t, total=count))
            except plan.GradeError as problem:
                raise error(str(problem)) from None
            except KeyboardInterrupt:
                raise error("interrupted (Ctrl-C): run the same command again to finish", 130) from None
        if run.stopped is not None:
            raise error(f"stopped: {run.stopped} (details in {run.log_path}); run the same command again",
                        130 if run.stopped.reason == "interrupted" else 2)
        logged += len(run.problems)
        for result in run.results:
            result.problems = [_brief(problem, out) for problem in result.problems]
            if result.status == "skipped":  # unchanged: its scores are the gradebook's
                result.cells = cell_scores(db_url, assignment, result.student)
                result.score = sum(result.cells.values())
            if result.status == "failed":
                failed[result.student, assignment] = result.problems[0] if result.problems else "see autograder.log"
        table = assignment_table(assignment, outcomes(run.results, max_scores(db_url, assignment)))
        table.title = f"{assignment} ({time.monotonic() - began:.1f} s)"
        console.print(table)
    course.mark_complete()
    rows = read_class(db_url, assignments, out / "submitted", failed)
    console.print(score_table(rows, assignments, title="Sample class"))
    console.print(f"gradebook: {out / 'gradebook.db'}", highlight=False)
    console.print(f"feedback: run `nbgrader generate_feedback ASSIGNMENT` in {out}", highlight=False)
    if logged:
        console.print(f"{logged} problem(s) logged in {out / 'autograder.log'}", highlight=False)
    if failed:
        names = ", ".join(sorted({student for student, _ in failed}))
        console.print(f"could not be graded: {names} (expected here: eve's file is not a notebook)", highlight=False)
    console.print(f"done in {time.monotonic() - started:.0f} s", highlight=False)


def _brief(problem: str, course: Path) -> str:
    """A problem without the course's own path, shortened for a table cell."""
    text = problem.replace(f"{course}/", "")
    return text if len(text) <= 120 else text[:117] + "..."
