"""release/ is exactly what `nbgrader generate_assignment` makes of source/ today."""

from __future__ import annotations

import pytest

from autograder.course import NOTEBOOKS
from autograder.grading.nbgrader_commands import generate_assignment, new_course
from tests.conftest import ROOT, built_assignments, read_notebook


def _cells(nb):
    return [(c.cell_type, c.source, c.get("metadata", {}).get("nbgrader")) for c in nb.cells]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", built_assignments())
def test_release_matches_a_fresh_generate_assignment(tmp_path, assignment):
    course = new_course(tmp_path, ROOT, [assignment])
    fresh = generate_assignment(course, assignment)
    name = f"{NOTEBOOKS[assignment]}.ipynb"
    committed = ROOT / "release" / assignment / name
    assert committed.exists(), f"{committed} is missing: run `python -m authoring.build {assignment}`"
    assert _cells(read_notebook(committed)) == _cells(read_notebook(fresh / name)), (
        f"release/{assignment} is out of step with source/: run `python -m authoring.build {assignment}`"
    )
    extra = {p.name for p in (ROOT / "release" / assignment).iterdir()} ^ {p.name for p in fresh.iterdir()}
    assert not extra, f"files differ between release/{assignment} and a fresh release: {sorted(extra)}"


@pytest.mark.parametrize("assignment", built_assignments())
def test_release_holds_no_solution_or_hidden_test(assignment):
    text = (ROOT / "release" / assignment / f"{NOTEBOOKS[assignment]}.ipynb").read_text()
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text


@pytest.mark.parametrize("assignment", built_assignments())
def test_authoring_modules_match_source(assignment):
    """source/ was written from authoring/ (edit authoring/, then rebuild)."""
    import importlib

    from authoring.build import MODULES
    from authoring.cells import notebook

    module = importlib.import_module(MODULES[assignment])
    built = notebook(module.CELLS)
    committed = read_notebook(ROOT / "source" / assignment / f"{NOTEBOOKS[assignment]}.ipynb")
    assert _cells(built) == _cells(committed), (
        f"source/{assignment} differs from {MODULES[assignment]}: run `python -m authoring.build {assignment}`"
    )
