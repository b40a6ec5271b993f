"""The README's student and instructor sections work as written, from a fresh copy with nothing activated.

The commands are the README's own code blocks (marked ``<!-- readme-test: NAME -->``), run
with bash in a temporary copy of the repository: the files ``git`` would commit from this
working tree (``git ls-files --cached --others --exclude-standard``: a clone at HEAD when the
tree is clean, the work in progress otherwise), with no virtual environment activated and
no ``.venv/bin`` on PATH. ``python3`` is the interpreter ``.venv`` was made from.

Where a fresh install would be too slow for the suite, the test says so and substitutes:

- ``.venv`` of the copy is a link to this checkout's ``.venv`` (``./scripts/setup.sh`` is not
  run; its packages are installed in editable mode from this checkout);
- the student's ``pip install torch==2.13.0 numpy`` is replaced by a path to this
  checkout's installed packages (without the course's own two packages), so that the
  student's ``pip install pytorch_fundamentals_kit-*.whl jupyterlab`` installs the kit from
  the hand-out's wheel for real and finds everything else installed;
- the student's ``jupyter lab`` is replaced by running the notebook headless in the
  student's environment (the browser tests drive JupyterLab itself).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest

from autograder.submissions import Submission, build_notebook
from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("readme")]

BLOCK = re.compile(r"<!-- readme-test: ([\w-]+) -->\s*\n```bash\n(.*?)```", re.S)
ASSIGNMENT, NOTEBOOK = "01_tensors", "tensors.ipynb"
#: Installed distributions the student's environment must not borrow from this checkout.
OWN = ("pytorch_fundamentals", "__editable__", "_pytorch_fundamentals", "autograder", "coursekit", "pip", "setuptools",
       "_distutils_hack", "distutils-precedence")


def readme_blocks() -> dict[str, list[str]]:
    """name -> the command lines of each marked bash block of the README."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return {name: [line for line in body.splitlines() if line.strip()] for name, body in BLOCK.findall(text)}


BLOCKS = readme_blocks()


def _block(name: str) -> list[str]:
    assert name in BLOCKS, f"README.md has no block marked <!-- readme-test: {name} --> (found {sorted(BLOCKS)})"
    return BLOCKS[name]


def _plain_env(base: Path) -> dict[str, str]:
    """This environment without any virtual environment: no VIRTUAL_ENV, no venv's bin/ on PATH.

    ``python3`` is the interpreter this checkout's ``.venv`` was made from (first on PATH).
    """
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "NBGRADER_EXCHANGE")}
    here = Path(sys.prefix)
    path = [p for p in env.get("PATH", "").split(os.pathsep)
            if p and not Path(p, "activate").exists() and not Path(p).resolve().is_relative_to(here.resolve())]
    bin_dir = base / "python-bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "python3").unlink(missing_ok=True)
    (bin_dir / "python3").symlink_to(Path(getattr(sys, "_base_executable", sys.executable)))
    env["PATH"] = os.pathsep.join([str(bin_dir), *path])
    env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"
    return env


def run_lines(lines: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    """Run README lines with bash (stop at the first error); return what they printed."""
    script = "set -euo pipefail\n" + "\n".join(lines) + "\n"
    done = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"these README lines failed in {cwd}:\n{script}\n--- output ---\n{log[-4000:]}"
    assert "not absolute" not in log, log
    return log


def _substitute(lines: list[str], startswith: str, replacement: str) -> list[str]:
    found = [line for line in lines if line.startswith(startswith)]
    assert found, f"the README block no longer has a line starting {startswith!r}: update this test"
    return [replacement if line.startswith(startswith) else line for line in lines]


def _answers() -> dict[str, str]:
    nb = nbformat.read(ROOT / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: "\n".join(
        line for line in c.source.splitlines() if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)
        for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """A fresh copy of the repository after the README's instructor-release block."""
    base = tmp_path_factory.mktemp("readme")
    clone = base / "clone"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    (clone / ".venv").symlink_to(ROOT / ".venv")  # instead of ./scripts/setup.sh (see the module's docstring)
    env = _plain_env(base)
    lines = _substitute(_block("instructor-release"), "./scripts/setup.sh", "true  # .venv: linked by the test")
    log = run_lines(lines, clone, env)
    return clone, env, log


def test_the_instructor_section_releases_grades_and_exports(released):
    clone, env, _ = released
    if shutil.which("bwrap") is None:
        pytest.skip("`autograder grade` as written needs bubblewrap (./scripts/setup.sh installs it as root)")
    assert (clone / "release" / ASSIGNMENT / NOTEBOOK).exists()
    assert (clone / "exchange" / "pytorch-fundamentals" / "outbound" / ASSIGNMENT / NOTEBOOK).exists()
    # Two students hand in from their own machines: the README's "put each file at submitted/..." path.
    released_nb = nbformat.read(clone / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    wrong = {"to_batch": "def to_batch(values):\n    return torch.tensor(values).reshape(-1, 1)"}
    for student, edits in {"ada": {}, "ben": wrong}.items():
        folder = clone / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(build_notebook(released_nb, Submission(student, {**_answers(), **edits})), folder / NOTEBOOK)

    run_lines(_block("instructor-grade"), clone, env)

    rows = {row["student_id"]: row for row in csv.DictReader((clone / "grades.csv").open())}
    assert {s: float(r["score"]) for s, r in rows.items()} == {"ada": 10.0, "ben": 8.0}
    for student in ("ada", "ben"):
        assert (clone / "feedback" / student / ASSIGNMENT / "tensors.html").exists()


def _student_site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages"))
    assert found, f"no site-packages in {venv}"
    return found[0]


def _borrow_installed_packages(student_venv: Path, shelf: Path) -> None:
    """Instead of `pip install torch numpy`: this checkout's installed packages, minus the course's own."""
    shelf.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if entry.name.startswith(OWN) or entry.suffix in (".pth", ".egg-link"):
            continue
        (shelf / entry.name).symlink_to(entry)
    (_student_site_packages(student_venv) / "_borrowed_from_the_test.pth").write_text(f"{shelf}\n")


def test_the_student_section_works_from_the_hand_out(released):
    clone, env, _ = released
    handout = clone / "handout"
    assert sorted(p.name for p in handout.glob("*.whl")), "autograder student-kit made no wheel"
    assert (handout / ASSIGNMENT / NOTEBOOK).exists()
    lines = _block("student")
    handout_readme = (handout / "README.md").read_text()
    for line in lines:
        command = line.split("#", 1)[0].strip()
        if "*.whl" not in command:
            assert command in handout_readme, f"the hand-out's README does not say `{command}` as README.md does"

    create, torch_line, kit_line, lab_line = lines
    run_lines([create], handout, env)
    _borrow_installed_packages(handout / ".venv", clone.parent / "borrowed")  # instead of torch_line
    assert torch_line.startswith(".venv/bin/pip install torch")
    run_lines([kit_line], handout, env)
    assert lab_line.startswith(".venv/bin/jupyter lab")

    python = str(handout / ".venv" / "bin" / "python")
    where = run_lines([f"{python} -c 'import coursekit; print(coursekit.__file__)'"], handout, env)
    assert str(_student_site_packages(handout / ".venv")) in where, f"coursekit not from the wheel: {where}"
    no_key = subprocess.run([python, "-c", "import autograder"], cwd=handout, env=env, capture_output=True)
    assert no_key.returncode != 0, "the student's environment can import the answer key (autograder)"

    # Instead of `jupyter lab`: the student answers every exercise and runs the notebook, headless.
    notebook = handout / ASSIGNMENT / NOTEBOOK
    nbformat.write(build_notebook(nbformat.read(notebook, as_version=4), Submission("student", _answers())), notebook)
    run_lines([f"{python} -m nbconvert --to notebook --execute --inplace {ASSIGNMENT}/{NOTEBOOK}"],
              handout, env)
    outputs = "\n".join(o.get("text", "") for c in nbformat.read(notebook, as_version=4).cells
                        if c.cell_type == "code" for o in c.get("outputs", []))
    for name in _answers():
        assert f"✓ {name}" in outputs, f"the check of {name} did not pass in the student's environment:\n{outputs}"
