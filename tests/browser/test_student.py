"""A student's first hour with 01_tensors, in JupyterLab in headless Chromium.

Open the release notebook, run it, answer an exercise wrongly and read the three-part
message, answer it rightly and see the ✓ line, solve the rest, and validate (nbgrader's
Validate button, which runs ``nbgrader validate`` on the saved file).
"""

from __future__ import annotations

import re
import shutil
import time

import nbformat
import pytest

from tests.browser.lab import ROOT, JupyterLab, NotebookPage, Steps, chromium_page

#: One browser at a time on a small machine (the other xdist worker runs other tests).
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

ASSIGNMENT, NOTEBOOK = "01_tensors", "tensors.ipynb"
EXERCISES = ["to_batch", "stack_features", "add_batch_dim", "linear_forward", "mse"]
WRONG_TO_BATCH = "def to_batch(values):\n    return torch.tensor(values).reshape(-1, 1)\n"


def model_answers() -> dict[str, str]:
    """grade_id -> the instructor's solution cell, without nbgrader's solution markers."""
    nb = nbformat.read(ROOT / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
    answers = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            lines = [line for line in cell.source.splitlines() if "### BEGIN SOLUTION" not in line
                     and "### END SOLUTION" not in line]
            answers[meta["grade_id"]] = "\n".join(lines) + "\n"
    return answers


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    folder = tmp_path_factory.mktemp("student")
    (folder / ASSIGNMENT).mkdir()
    shutil.copy(ROOT / "release" / ASSIGNMENT / NOTEBOOK, folder / ASSIGNMENT / NOTEBOOK)
    server = JupyterLab(folder, tmp_path_factory.mktemp("student-jupyter")).start()
    yield server
    server.stop()


def wait_for_output(nb: NotebookPage, cell, pattern: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = nb.output(cell)
        if re.search(pattern, text):
            return text
        time.sleep(0.2)
    raise AssertionError(f"no output matching {pattern!r} within {timeout:g} s; the cell shows:\n{nb.output(cell)}")


def test_a_student_runs_answers_and_validates_the_release_notebook(lab):
    answers = model_answers()
    assert set(answers) == set(EXERCISES)
    started = time.monotonic()
    with chromium_page() as page:
        steps = Steps(page, "student")
        nb = NotebookPage(page)
        with steps.step("open the release notebook"):
            nb.open(lab, f"{ASSIGNMENT}/{NOTEBOOK}")
            assert "Tensors" in page.locator(".jp-Notebook .jp-MarkdownCell").first.inner_text()
        test_cells = {name: nb.cell(f"check.{name}({name}") for name in EXERCISES}
        solution_cells = {name: nb.cell(f"def {name}(") for name in EXERCISES}

        with steps.step("run all cells: the first exercise is still a stub"):
            nb.menu("Run", "Run All Cells")
            text = wait_for_output(nb, test_cells["to_batch"], "NotImplementedError")
            nb.show(test_cells["to_batch"])
            assert "✓" not in text

        with steps.step("a wrong answer: expected, found, likely cause"):
            nb.type_into(solution_cells["to_batch"], WRONG_TO_BATCH)
            nb.run(solution_cells["to_batch"])
            text = nb.run(test_cells["to_batch"])
            nb.show(test_cells["to_batch"])
            for part in ("expected:", "found:", "likely cause:", "int64", "float32"):
                assert part in text, f"the failure does not say {part!r}:\n{text}"
            for noise in ("Traceback", "coursekit/", 'File "', "----> "):
                assert noise not in text, f"the failure shows a traceback through the checker ({noise!r}):\n{text}"

        with steps.step("the right answer: the check passes"):
            nb.type_into(solution_cells["to_batch"], answers["to_batch"])
            nb.run(solution_cells["to_batch"])
            text = nb.run(test_cells["to_batch"])
            nb.show(test_cells["to_batch"])
            assert "✓ to_batch" in text, text
            assert "Error" not in text, text

        with steps.step("every exercise answered, run all: every check passes"):
            for name in EXERCISES[1:]:
                nb.type_into(solution_cells[name], answers[name])
            nb.menu("Run", "Run All Cells")
            for name in EXERCISES:
                wait_for_output(nb, test_cells[name], f"✓ {name}")
            nb.show(test_cells["mse"])

        with steps.step("save and validate with nbgrader's Validate button"):
            nb.save()
            page.locator(".validate-button").first.click()
            dialog = page.locator(".jp-Dialog")
            dialog.wait_for(timeout=90_000)
            dialog.get_by_text("Success! Your notebook passes all the tests.").wait_for(timeout=90_000)

        with steps.step("close the dialog"):
            dialog.get_by_role("button").last.click()
            dialog.wait_for(state="detached")

    saved = nbformat.read(lab.folder / ASSIGNMENT / NOTEBOOK, as_version=4)
    stubs = [cell.metadata["nbgrader"]["grade_id"] for cell in saved.cells
             if cell.metadata.get("nbgrader", {}).get("solution") and "NotImplementedError" in cell.source]
    assert not stubs, f"the saved notebook still has stubs in {stubs}"
    print(f"student test: {time.monotonic() - started:.1f} s in the browser; screenshots in {steps.folder}")
