"""``autograder grade``: grade a class into the nbgrader gradebook (see ``autograder.grading``).

Exit status: 0 when every submission was graded (or skipped), 1 when some could not be
(nothing was written for them; a rerun tries again), 2 when the class could not be graded
or the run stopped on a fault of the machine (the message says what to do), 130 after Ctrl-C.
"""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from autograder.cli.app import app, console, error

#: Problems printed under the table (all of them are in autograder.log).
SHOWN_PROBLEMS = 10


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
    force: Annotated[bool, typer.Option("--force",
                                        help="Regrade every submission, not only new or changed.")] = False,
    figures: Annotated[bool, typer.Option(
        "--figures/--no-figures", help="Draw plots into autograded/ (slower; scores never depend on them).")] = False,
    unsafe_no_sandbox: Annotated[bool, typer.Option(
        "--unsafe-no-sandbox", help="Run student code without bubblewrap (trusted code only).")] = False,
    dask: Annotated[Optional[str], typer.Option(  # noqa: UP045 - typer needs Optional here
        "--dask", metavar="ADDRESS", help="Run the sandboxes on a Dask cluster: its scheduler (tcp://host:8786), "
                                          "or local:N for N one-thread workers on this machine.")] = None,
    gpu: Annotated[bool, typer.Option("--gpu", help=(
        "With --dask: each submission asks for a worker with a GPU resource (--resources GPU=1)."))] = False,
) -> None:
    """Grade every submission of ASSIGNMENT into the nbgrader gradebook and autograded/."""
    from autograder.grading import plan, sandbox
    from autograder.grading.run import LOG_NAME, grade_assignment
    from autograder.reports.summary import summary_table

    root = root.resolve()
    if gpu and not dask:
        raise error("--gpu asks a Dask cluster for GPU workers: give its scheduler with --dask")
    remote = bool(dask) and not str(dask).startswith("local:")  # bubblewrap is then needed on the workers only
    if not unsafe_no_sandbox and not remote and sandbox.find_bwrap() is None:
        raise error(sandbox.INSTALL_HINT)
    if not (root / "submitted").is_dir():
        raise error(f"no submitted/ folder in {root}: run the command in the course folder or pass --root")
    options = plan.Options(assignment, root, list(student or []), workers, timeout or None, memory, force,
                           sandboxed=not unsafe_no_sandbox, figures=figures)
    previous = signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops as cleanly as Ctrl-C
    try:
        with Progress(TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("{task.description}"), console=console, transient=True) as bar:
            task = bar.add_task("", total=None)
            run = grade_assignment(
                options,
                progress=lambda r: bar.update(task, advance=1, description=f"{r.student}: {r.status}"),
                on_start=lambda count: bar.update(task, total=count), dask=dask, gpu=gpu)
    except plan.GradeError as problem:
        raise error(str(problem)) from None
    except KeyboardInterrupt:
        raise error("interrupted (Ctrl-C): run the same command again to grade the rest", 130) from None
    except Exception as bug:  # noqa: BLE001 - one line here, the traceback in the log
        logging.getLogger(f"autograder.grade.{root / LOG_NAME}").exception("internal error")
        raise error(f"the grader failed: {type(bug).__name__}: {bug} (traceback in {root / LOG_NAME})") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    if run.results:
        console.print(summary_table(assignment, run.results))
    unlogged = _log_failure(run.log_path)
    if run.problems:
        logged = f"logged in {run.log_path}" if not unlogged else f"({run.log_path} could not be written: {unlogged})"
        console.print(f"{len(run.problems)} problem(s) {logged}:", highlight=False)
        for message in run.problems[:SHOWN_PROBLEMS]:
            console.print(f"  - {message}", markup=False, highlight=False)
        if len(run.problems) > SHOWN_PROBLEMS:
            console.print(f"  ... and {len(run.problems) - SHOWN_PROBLEMS} more"
                          + ("" if unlogged else f" in {run.log_path}"), highlight=False)
    not_done = [r.student for r in run.results if r.status == "not graded"]
    if run.stopped is not None:
        done = sum(r.status in ("graded", "problems") for r in run.results)
        console.print(f"[bold red]stopped:[/] {run.stopped}", highlight=False)
        where = "" if run.stopped.reason == "interrupted" or unlogged else f" (details in {run.log_path})"
        console.print(f"{done} submission(s) graded and written; {len(not_done)} not graded: run the same command "
                      f"again to grade them{where}.", highlight=False)
        raise typer.Exit(130 if run.stopped.reason == "interrupted" else 2)
    failed = [r.student for r in run.results if r.status == "failed"]
    if failed:
        console.print(f"[bold red]{len(failed)} submission(s) could not be graded:[/] {', '.join(failed)}. "
                      "Nothing was written for them; run the same command again once the cause is fixed.",
                      highlight=False)
        raise typer.Exit(1)


def _log_failure(path: Path | None) -> str | None:
    """Why the run's log could not be written (a full disk, a read-only folder), or None."""
    from autograder.reports.summary import file_logger

    if path is None:
        return None
    return next((h.failed for h in file_logger(path).handlers if getattr(h, "failed", None)), None)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
