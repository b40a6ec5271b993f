"""The course's assignments, as the contract names them, and where to find them."""

from __future__ import annotations

from pathlib import Path

from traitlets import List, Unicode
from traitlets.config import Configurable, PyFileConfigLoader

from coursekit.assignments import ASSIGNMENTS

#: assignment folder -> notebook name (without .ipynb), in teaching order (from the registry).
NOTEBOOKS: dict[str, str] = {a.name: a.notebook for a in ASSIGNMENTS}


class Course(Configurable):
    """Course settings nbgrader has no place for, read from ``nbgrader_config.py``."""

    assignments = List(Unicode(), default_value=list(NOTEBOOKS)).tag(config=True)


def load_course(root: Path) -> Course:
    """The course settings of the course folder ``root`` (defaults when it has no config)."""
    config_file = Path(root) / "nbgrader_config.py"
    if not config_file.exists():
        return Course()
    config = PyFileConfigLoader(config_file.name, path=str(config_file.parent)).load_config()
    return Course(config=config)


def notebook_name(assignment: str) -> str:
    """The notebook file name (without .ipynb) of an assignment of the contract."""
    try:
        return NOTEBOOKS[assignment]
    except KeyError:
        known = ", ".join(NOTEBOOKS)
        raise ValueError(f"unknown assignment {assignment!r}; the course has {known}") from None
