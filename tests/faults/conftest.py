"""Classes of ``01_tensors`` submissions for fault injection, and what every fault test checks.

The course is generated once per test session (``nbgrader generate_assignment``, shared by the
xdist workers through a file lock) and copied for each class. A submission is the instructor's
notebook (10 points), with extra cells: what a fault test varies is what those cells do, or
what happens to the grader meanwhile.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from autograder.grading import sandbox
from autograder.grading.gradebook import cell_scores
from autograder.grading.nbgrader_commands import generate_assignment, new_course

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENT = "01_tensors"
NOTEBOOK = "tensors"
FULL = 10.0
VENV_BIN = Path(sys.executable).parent

needs_bwrap = pytest.mark.skipif(sandbox.find_bwrap() is None, reason="bubblewrap (bwrap) is not installed")


def _can_mount() -> str | None:
    """Why tmpfs and bind mounts cannot be made here (None: they can)."""
    if os.geteuid() != 0:
        return "needs root (to mount a small tmpfs or a read-only bind mount)"
    probe = Path(f"/tmp/autograder-mount-probe-{os.getpid()}")
    probe.mkdir(exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)], capture_output=True)
    if done.returncode != 0:
        probe.rmdir()
        return f"cannot mount here: {done.stderr.decode().strip()}"
    subprocess.run(["umount", str(probe)], check=False)
    probe.rmdir()
    return None


_MOUNT_PROBLEM = _can_mount()
needs_mounts = pytest.mark.skipif(_MOUNT_PROBLEM is not None, reason=str(_MOUNT_PROBLEM))


def _template_key() -> str:
    """A digest of what the template is made of: a changed source or config makes a new one."""
    digest = hashlib.sha256()
    for path in (ROOT / "nbgrader_config.py", *sorted((ROOT / "source" / ASSIGNMENT).rglob("*"))):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated 01_tensors course without submissions (built once for all xdist workers, and
    kept between test sessions while its source and config stay the same)."""
    shared = tmp_path_factory.getbasetemp().parent
    if os.environ.get("PYTEST_XDIST_WORKER"):  # .../pytest-N/popen-gwK: share across the session's workers
        shared = shared.parent
    course = shared / f"faults-template-{_template_key()}"
    with open(shared / "faults-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (course / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").exists():
            shutil.rmtree(course, ignore_errors=True)
            building = shared / f"faults-template-building-{os.getpid()}"
            new_course(building, ROOT, [ASSIGNMENT])
            generate_assignment(building, ASSIGNMENT)
            building.rename(course)
    return course


def session_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this test session shared by all its xdist workers (``.../pytest-N``)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def once_per_session(tmp_path_factory: pytest.TempPathFactory, name: str,
                     make: Callable[[Path], dict]) -> tuple[Path, dict]:
    """``make(folder)`` run once for the whole session, whichever xdist worker asks first; its
    folder and the JSON it returned. (``--dist loadgroup`` should keep a module's tests on one
    worker, but pytest 9.2 broke it: pytest-xdist issue 1386.)"""
    shared = session_folder(tmp_path_factory)
    folder, done = shared / name, shared / f"{name}.json"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            done.write_text(json.dumps(make(folder)))
    return folder, json.loads(done.read_text())


def reference() -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)


def with_cells(*sources: str, after: str = "to_batch") -> nbformat.NotebookNode:
    """The instructor's notebook with ``sources`` as new cells after the ``after`` solution cell."""
    nb = reference()
    at = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == after)
    for offset, source in enumerate(sources, start=1):
        nb.cells.insert(at + offset, new_code_cell(source))
    return nb


def make_class(where: Path, template: Path, students: dict[str, nbformat.NotebookNode | str]) -> Path:
    """A copy of the template course at ``where`` with these submissions."""
    shutil.copytree(template, where, symlinks=True)
    for student, nb in students.items():
        submit(where, student, nb)
    return where


def submit(root: Path, student: str, nb: nbformat.NotebookNode | str) -> None:
    folder = root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{NOTEBOOK}.ipynb"
    if isinstance(nb, str):
        path.write_text(nb)
    else:
        nbformat.write(nb, path)


def score(root: Path, student: str) -> float:
    return sum(cell_scores(f"sqlite:///{root / 'gradebook.db'}", ASSIGNMENT, student).values())


def scores(root: Path) -> dict[str, float]:
    """Total score of every student the gradebook has a submission of."""
    with sqlite3.connect(root / "gradebook.db") as db:
        students = [row[0] for row in db.execute("SELECT DISTINCT student_id FROM submitted_assignment")]
    return {student: score(root, student) for student in students}


def null_rows(root: Path) -> int:
    """Grade rows without any score (``nbgrader export`` shows them as 0): never any."""
    with sqlite3.connect(root / "gradebook.db") as db:
        return db.execute("SELECT count(*) FROM grade WHERE auto_score IS NULL AND manual_score IS NULL").fetchone()[0]


def assert_consistent(root: Path) -> None:
    """No score-less rows; every graded notebook in autograded/ has its gradebook rows, and back."""
    assert null_rows(root) == 0
    state = root / "autograded" / ".autograder_state.json"
    if state.exists():
        json.loads(state.read_text())  # never half-written
    graded = {p.parent.parent.name for p in (root / "autograded").glob(f"*/{ASSIGNMENT}/{NOTEBOOK}.ipynb")}
    assert graded <= set(scores(root)), graded - set(scores(root))
    leftovers = [p for p in (root / "autograded").rglob("*") if p.name.endswith(".tmp")]
    assert not leftovers, leftovers


def autograder_cli(root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 600,
                   prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    """``.venv/bin/autograder grade 01_tensors --root ROOT ARGS`` in a subprocess."""
    command = [*(prefix or []), str(VENV_BIN / "autograder"), "grade", ASSIGNMENT, "--root", str(root), *args]
    env = {**(os.environ if env is None else env), "COLUMNS": "400"}  # rich wraps at 80 columns otherwise
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=root, check=False)


def cpu_seconds_of(action: Callable[[], object]) -> float:
    """CPU seconds the subprocesses started by ``action`` used (a loaded machine stretches wall time)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    action()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def wait_for(condition: Callable[[], object], timeout: float = 120, every: float = 0.05) -> object:
    """Poll ``condition`` until it is truthy (its value), or fail the test after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {condition}")


def graded_students(root: Path) -> list[str]:
    """Students with a graded notebook in autograded/ now."""
    return sorted(p.parent.parent.name for p in (root / "autograded").glob(f"*/{ASSIGNMENT}/{NOTEBOOK}.ipynb"))


def processes_under(pid: int) -> list[int]:
    """Every descendant of ``pid``."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [p for p, pp in parents.items() if pp == parent]
        found += children
        frontier += children
    return found


def command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def kernel_children(worker_pid: int) -> dict[int, str]:
    """pid -> student of the submission processes (forked children of a zygote) in a worker's sandbox."""
    python = sys.executable.encode()
    found = {}
    for pid in processes_under(worker_pid):
        try:
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            folder = os.readlink(f"/proc/{pid}/cwd")  # its working folder: /tmp/autograder-work/job-<student>/...
        except (OSError, ValueError, IndexError):
            continue
        if command_line(pid).startswith(python) and command_line(parent).startswith(python) and "/job-" in folder:
            found[pid] = folder.split("/job-", 1)[1].split("/")[0]
    return found
