"""The ``autograder`` typer application and its console; commands register on it from their modules."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from typer.core import TyperCommand


class PlainHelpCommand(TyperCommand):
    """``--help`` without typer's type noise: ``ASSIGNMENT``, not ``{ASSIGNMENT}``; flags without ``<bool>``."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in super().collect_usage_pieces(ctx)]

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        for param in params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        return params


app = typer.Typer(help="Tools for the PyTorch-fundamentals course.", no_args_is_help=True,
                  add_completion=False, rich_markup_mode="rich")
_command = app.command


def _plain_command(*args: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("cls", PlainHelpCommand)
    return _command(*args, **kwargs)


app.command = _plain_command  # type: ignore[method-assign]  # every command gets the plain help
console = Console()


@app.callback()
def _main() -> None:
    """Tools for the PyTorch-fundamentals course."""


def error(message: str, code: int = 2) -> typer.Exit:
    """Print a one-line error and return the Exit to raise."""
    console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)
