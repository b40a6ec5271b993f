"""``autograder student-kit DIR``: the folder an instructor hands to students."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from autograder.cli.app import app, console, error


@app.command("student-kit")
def student_kit(
    out: Annotated[Path, typer.Argument(metavar="DIR", help="A new, empty folder for the hand-out.")],
    root: Annotated[Path, typer.Option("--root", help="The course folder (holds release/).")] = Path("."),
) -> None:
    """Write the release notebooks, the course kit's wheel (no answers) and a README into DIR."""
    from autograder.studentkit.handout import HandoutError, write_handout

    try:
        handout = write_handout(root, out)
    except HandoutError as problem:
        raise error(str(problem)) from None
    size = handout.wheel.stat().st_size / 1024
    console.print(f"student kit: {handout.wheel} ({size:.0f} KiB), {len(handout.notebooks)} notebooks, "
                  f"set-up steps in {handout.readme}", highlight=False)
