"""The student kit on its own: built as a wheel, installed in a fresh venv without the instructor package.

There, every release notebook with the instructor's solutions filled in runs top to bottom
with every visible test passing; with the release stubs every visible test fails with its
message; and the answer key cannot be imported.

The fresh venv borrows the heavy libraries (torch, numpy, matplotlib, ipykernel) from the
project's .venv through a path entry, so the test takes seconds instead of a torch install;
that entry carries no ``.pth`` processing, so nothing installed *editable* there (the
``autograder`` package, the kit) is importable from the new venv: the kit comes from its wheel.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest

from autograder.course import NOTEBOOKS
from autograder.studentkit import expectations
from autograder.studentkit.handout import build_wheel, write_handout
from tests.conftest import ROOT, built_assignments

pytestmark = pytest.mark.xdist_group("student_kit")

_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[^\n]*\n?", re.M)


@pytest.fixture(scope="module")
def kit_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Python whose venv has the kit's wheel and not the instructor package."""
    tmp = tmp_path_factory.mktemp("kit-venv")
    wheel = build_wheel(tmp / "dist")
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(tmp / "venv")], check=True)
    python = tmp / "venv" / "bin" / "python"
    site = Path(subprocess.check_output([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                        text=True).strip())
    (site / "borrowed.pth").write_text(sysconfig.get_path("purelib") + "\n")  # torch & co., not editable installs
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--target", str(site), str(wheel)], check=True)
    return python


def _run(python: Path, code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    return subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=cwd, env=env)


def test_the_answer_key_cannot_be_imported_with_the_kit(kit_python, tmp_path):
    done = _run(kit_python, "import coursekit, coursekit.checks.tensors; print(coursekit.__file__)\n"
                            "import autograder", tmp_path)
    assert "ModuleNotFoundError: No module named 'autograder'" in done.stderr, done.stderr
    assert "site-packages/coursekit" in done.stdout


def test_the_kit_holds_no_answer_key():
    """No kit file imports the instructor package (outside comments and strings about it)."""
    kit = ROOT / "kit" / "coursekit"
    offenders = [p for p in kit.rglob("*.py")
                 if re.search(r"^\s*(from autograder(\.| )|import autograder)", p.read_text(), re.M)
                 and "_instructor_judge" not in p.read_text()]
    assert not offenders, offenders


def _notebook(assignment: str, solved: bool) -> nbformat.NotebookNode:
    """The release notebook, with the instructor's solutions put into its solution cells when ``solved``."""
    name = f"{NOTEBOOKS[assignment]}.ipynb"
    nb = nbformat.read(ROOT / "release" / assignment / name, as_version=4)
    if solved:
        source = nbformat.read(ROOT / "source" / assignment / name, as_version=4)
        answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
                   if c.metadata.get("nbgrader", {}).get("solution")}
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = _MARKERS.sub("", answers[grade_id])
    return nb


_RUNNER = r'''
import json, sys, traceback
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
plt.show = lambda *a, **k: None
cells = json.loads(sys.stdin.read())
namespace = {"__name__": "__main__"}
results = {}
for grade_id, source in cells:
    try:
        exec(compile(source, f"<cell {grade_id}>", "exec"), namespace)
        results[grade_id] = None
    except BaseException as error:
        results[grade_id] = f"{type(error).__name__}: {error}"
    plt.close("all")
print("RESULTS" + json.dumps(results))
'''


def _grade_cells(python: Path, nb: nbformat.NotebookNode, cwd: Path) -> dict[str, str | None]:
    """Run the notebook's code cells in order in ``python``; each grade cell's error (None: passed)."""
    cells = [(c.metadata.get("nbgrader", {}).get("grade_id") or f"cell{i}", c.source)
             for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    grade_ids = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                 if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"}
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["MPLBACKEND"] = "Agg"
    done = subprocess.run([python, "-c", _RUNNER], input=json.dumps(cells), capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULTS")), None)
    assert line is not None, done.stderr[-3000:]
    results = json.loads(line.removeprefix("RESULTS"))
    return {g: results[g] for g in grade_ids}


@pytest.mark.slow
@pytest.mark.parametrize("assignment", built_assignments())
def test_solved_release_notebook_passes_every_visible_test_with_the_kit_alone(kit_python, tmp_path, assignment):
    results = _grade_cells(kit_python, _notebook(assignment, solved=True), tmp_path)
    failed = {g: e for g, e in results.items() if e is not None}
    assert not failed, f"visible tests failed with the kit alone: {failed}"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", built_assignments())
def test_release_stubs_fail_every_visible_test_with_a_message(kit_python, tmp_path, assignment):
    results = _grade_cells(kit_python, _notebook(assignment, solved=False), tmp_path)
    assert all(e is not None for e in results.values()), results
    for grade_id, error in results.items():
        assert error.startswith(("CheckFailed", "NameError", "NotImplementedError")), (grade_id, error)
        assert "expected" in error or "NotImplementedError" in error or "NameError" in error, (grade_id, error)


@pytest.mark.parametrize("assignment", built_assignments())
def test_shipped_expectations_are_in_step_with_the_answer_key(assignment):
    """Every shipped expectation is what the judge computes today for its case."""
    from autograder import judges
    from coursekit.checks import wire

    path = expectations.path_for(assignment)
    if not path.exists():
        pytest.skip(f"{path.name} is not built yet")
    for key, entry in json.loads(path.read_text()).items():
        case = wire.decode(entry["case"])
        assert wire.key(entry["check"], case) == key
        fresh = wire.dumps(judges.expectation(entry["check"], case))
        assert fresh == wire.dumps(wire.decode(entry["expected"])), (
            f"{path.name}: {entry['check']} is out of step: run `python -m authoring.build {assignment}`")


def test_student_kit_command_writes_only_what_students_get(tmp_path):
    handout = write_handout(ROOT, tmp_path / "handout")
    names = {p.relative_to(tmp_path / "handout").as_posix() for p in (tmp_path / "handout").rglob("*") if p.is_file()}
    assert names == {"README.md", handout.wheel.name, *(f"{a}/{NOTEBOOKS[a]}.ipynb" for a in built_assignments())}
    for notebook in handout.notebooks:
        assert "BEGIN SOLUTION" not in notebook.read_text() and "HIDDEN TESTS" not in notebook.read_text()
    readme = handout.readme.read_text()
    assert "torch==2.13.0" in readme and handout.wheel.name in readme and "jupyter lab" in readme
