"""Run stock nbgrader commands on a course folder, with errors that say what to do."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from unittest import mock


class NbgraderFailed(RuntimeError):
    """An nbgrader command exited with an error."""


def run_nbgrader(args: list[str], course_root: Path, timeout: float | None = None) -> str:
    """Run ``nbgrader ARGS`` in ``course_root`` with this Python; return its log.

    The kernel runs with this interpreter too (its folder leads PATH), so the
    notebooks see the same torch and autograder as the caller.
    """
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")
    command = [sys.executable, "-m", "nbgrader", *args]
    done = subprocess.run(
        command, cwd=course_root, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    log = done.stdout + done.stderr
    if done.returncode != 0:
        raise NbgraderFailed(f"`nbgrader {' '.join(args)}` failed in {course_root}:\n{log[-4000:]}")
    return log


def new_course(destination: Path, course_root: Path, assignments: list[str]) -> Path:
    """A fresh course folder at ``destination``: the config and the given source assignments."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy(course_root / "nbgrader_config.py", destination / "nbgrader_config.py")
    for assignment in assignments:
        shutil.copytree(course_root / "source" / assignment, destination / "source" / assignment,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return destination


def generate_assignment(course_root: Path, assignment: str) -> Path:
    """``nbgrader generate_assignment`` (also records the assignment in the gradebook)."""
    run_nbgrader(["generate_assignment", assignment, "--force"], course_root)
    return course_root / "release" / assignment


def generate_assignments(course_root: Path, assignments: list[str]) -> None:
    """``nbgrader generate_assignment --force`` of several assignments, in this process.

    The same nbgrader code as the command, through nbgrader's own API: one import of
    nbgrader instead of one Python per assignment (seconds each on a small machine).
    """
    import nbgrader.api
    from nbgrader.apps import NbGraderAPI

    from autograder.grading.settings import load_config

    # A new gradebook is stamped with the newest migration, which nbgrader asks of an
    # `alembic` process (found on PATH, seconds to start); ask alembic's API here instead.
    with _interpreter_on_path(), mock.patch.object(nbgrader.api, "get_alembic_version", alembic_head):
        api = NbGraderAPI(config=load_config(course_root))
        results = {a: api.generate_assignment(a, force=True, create=True) for a in assignments}
    for assignment, done in results.items():
        if not done.get("success"):
            raise NbgraderFailed(f"`nbgrader generate_assignment {assignment}` failed in {course_root}:\n"
                                 f"{(done.get('error') or '')[-3000:]}{(done.get('log') or '')[-1000:]}")


def alembic_head() -> str:
    """The newest gradebook migration of the installed nbgrader (what `alembic heads` prints)."""
    import nbgrader
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(Path(nbgrader.__file__).parent / "alembic")).get_current_head()


@contextlib.contextmanager
def _interpreter_on_path() -> Iterator[None]:
    """This interpreter's folder (a venv's bin/) first on PATH for the block, as `run_nbgrader` does."""
    before = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), before])
    try:
        yield
    finally:
        os.environ["PATH"] = before


def autograde(course_root: Path, assignment: str, students: list[str] | None = None,
              force: bool = True) -> str:
    """Stock ``nbgrader autograde`` of the submissions under ``course_root/submitted``."""
    args = ["autograde", assignment]
    if force:
        args.append("--force")
    for student in students or []:
        args.append(f"--student={student}")
    return run_nbgrader(args, course_root)
