"""The course's nbgrader settings, read the way nbgrader reads them.

Reading the config needs only traitlets (fast); :func:`course_directory` imports
nbgrader itself, which takes seconds, so callers can start the workers first.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from traitlets.config import Config, PyFileConfigLoader


def load_config(root: Path) -> Config:
    """The traitlets config of the course folder ``root`` (its ``nbgrader_config.py``, if any)."""
    root = Path(root).resolve()
    config = Config()
    config_file = root / "nbgrader_config.py"
    if config_file.exists():
        config.merge(PyFileConfigLoader(config_file.name, path=str(root)).load_config())
    config.CourseDirectory.root = str(root)
    return config


def db_url(config: Config, root: Path) -> str:
    """The gradebook URL nbgrader would use, made absolute against ``root``.

    nbgrader resolves a relative sqlite path against the folder it runs in: the course root.
    """
    url = config.CourseDirectory.get("db_url") or f"sqlite:///{Path(root).resolve() / 'gradebook.db'}"
    return absolute_db_url(str(url), Path(root).resolve())


def cell_timeout(config: Config) -> float:
    """Seconds a cell may run (nbgrader's ``Execute.timeout``; 30 when unset, like nbgrader)."""
    value = config.Execute.get("timeout", 30)
    return float(value) if value and value > 0 else 30.0


def course_directory(config: Config) -> Any:
    """nbgrader's ``CourseDirectory`` for this config (imports nbgrader: slow)."""
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory(config=config)


def absolute_db_url(url: str, root: Path) -> str:
    """``sqlite:///relative.db`` against ``root``; other URLs unchanged."""
    prefix = "sqlite:///"
    if url.startswith(prefix):
        path = url[len(prefix):]
        if path and not os.path.isabs(path) and path != ":memory:":
            return prefix + str((root / path).resolve())
    return url
