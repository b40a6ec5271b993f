"""``autograder student-kit DIR``: what an instructor hands to students, and nothing more.

DIR gets the release notebooks (``DIR/<assignment>/<notebook>.ipynb``), the student kit
as a wheel (built from the installed ``coursekit`` package: data, demos, probes, visible
checks and their shipped expectations; never the answer key), and a README with the
set-up steps.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import coursekit
from coursekit.assignments import ASSIGNMENTS

#: Names that must never appear in the kit's wheel (the answer key and the judges).
FORBIDDEN = ("autograder/", "reference/", "judges/")


class HandoutError(RuntimeError):
    """The hand-out cannot be written (the message says what to do)."""


@dataclass
class Handout:
    wheel: Path
    notebooks: list[Path]
    readme: Path


def _kit_project(tmp: Path) -> Path:
    """A buildable copy of the installed kit (works for editable and regular installs)."""
    package = Path(coursekit.__file__).resolve().parent
    project = tmp / "kit"
    shutil.copytree(package, project / "coursekit", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    here = package.parent / "pyproject.toml"
    if here.exists() and "pytorch-fundamentals-kit" in here.read_text():
        shutil.copy(here, project / "pyproject.toml")
        for extra in ("README.md",):
            if (package.parent / extra).exists():
                shutil.copy(package.parent / extra, project / extra)
    else:
        raise HandoutError("the kit's pyproject.toml is not next to the installed coursekit package: "
                           "install the course with `pip install -e kit -e .` from its repository")
    return project


def build_wheel(out: Path) -> Path:
    """The kit's wheel in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        project = _kit_project(Path(tmp))
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                               "--wheel-dir", str(out), str(project)], capture_output=True, text=True)
        if done.returncode != 0:
            raise HandoutError(f"could not build the kit's wheel: {done.stderr.strip()[-500:]}")
    wheels = sorted(out.glob("pytorch_fundamentals_kit-*.whl"))
    if not wheels:
        raise HandoutError("pip built no wheel for the kit")
    wheel = wheels[-1]
    with zipfile.ZipFile(wheel) as archive:
        bad = [n for n in archive.namelist() if any(f in n for f in FORBIDDEN)]
    if bad:
        wheel.unlink()
        raise HandoutError(f"the kit's wheel would hold instructor files: {bad[:3]}")
    return wheel


README = """# PyTorch fundamentals: your notebooks

This folder holds the course's exercise notebooks, one folder per assignment, and
`{wheel}`, the course kit your notebooks import (data, plots, and the checks that
tell you whether an exercise is right).

## Set up once

```bash
python3 -m venv .venv                            # Python 3.10 or newer
.venv/bin/pip install torch==2.13.0 numpy        # or the GPU build of torch you need
.venv/bin/pip install {wheel} jupyterlab
.venv/bin/jupyter lab                            # opens in your browser
```

(On Windows: `.venv\\Scripts\\pip` and `.venv\\Scripts\\jupyter`.)

## Work on an assignment

Open `<assignment>/<notebook>.ipynb` in JupyterLab, read each section and run its
cells from the top (Shift+Enter). Replace `raise NotImplementedError()` in each
exercise with your code, then run the test cell under it: `✓` means it passed; a
failure says what was expected, what your code gave, and the likely cause.

The grader runs more tests on data you have not seen: write general code, not code
that fits the notebook's numbers. Hand in the notebook as your course asks.

Assignments, in order: {assignments}
"""


def write_handout(root: Path, out: Path) -> Handout:
    """Write the hand-out of the course at ``root`` into ``out`` (release notebooks, wheel, README)."""
    root, out = Path(root).resolve(), Path(out).resolve()
    if out == root or root in out.parents and out.parent == root and out.name in ("source", "release"):
        raise HandoutError(f"{out} is the course folder itself: choose an empty folder for the hand-out")
    if out.exists() and any(out.iterdir()):
        raise HandoutError(f"{out} is not empty: choose a new folder (the hand-out must hold nothing else)")
    notebooks = []
    for assignment in ASSIGNMENTS:
        source = root / "release" / assignment.name / f"{assignment.notebook}.ipynb"
        if not source.exists():
            continue
        target = out / assignment.name / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, target)
        notebooks.append(target)
    if not notebooks:
        raise HandoutError(f"no release notebooks in {root / 'release'}: run `nbgrader generate_assignment` first")
    wheel = build_wheel(out)
    readme = out / "README.md"
    readme.write_text(README.format(wheel=wheel.name, assignments=", ".join(p.parent.name for p in notebooks)))
    return Handout(wheel, notebooks, readme)
