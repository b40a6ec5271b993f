"""The ``autograder`` typer application and its console; commands register on it from their modules."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(help="Tools for the PyTorch-fundamentals course.", no_args_is_help=True,
                  add_completion=False, rich_markup_mode="rich")
console = Console()


@app.callback()
def _main() -> None:
    """Tools for the PyTorch-fundamentals course."""


def error(message: str, code: int = 2) -> typer.Exit:
    """Print a one-line error and return the Exit to raise."""
    console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)
