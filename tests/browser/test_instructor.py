"""An instructor opens the formgrader in JupyterLab (headless Chromium) and sees the class's scores.

The course: 01_tensors generated, the sample class's submissions of it graded by
``autograder grade`` (sandboxed where bubblewrap is installed), JupyterLab started in the
course folder as the README says.
"""

from __future__ import annotations

import shutil
import time

import pytest

from autograder.grading import batch
from autograder.grading.nbgrader_commands import generate_assignments, new_course
from autograder.sample_class import STUDENTS
from autograder.submissions import write_submissions
from tests.browser.lab import ROOT, JupyterLab, NotebookPage, Steps, chromium_page

#: One browser at a time on a small machine (the other xdist worker runs other tests).
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

ASSIGNMENT, NOTEBOOK = "01_tensors", "tensors"


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    course = new_course(tmp_path_factory.mktemp("instructor") / "course", ROOT, [ASSIGNMENT])
    generate_assignments(course, [ASSIGNMENT])
    write_submissions(course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", course / "submitted", ASSIGNMENT,
                      STUDENTS[ASSIGNMENT])
    options = batch.Options(ASSIGNMENT, course, force=True, workers=2, sandboxed=shutil.which("bwrap") is not None)
    results = {r.student: r for r in batch.grade(options)}
    assert all(r.status == "graded" for r in results.values()), {s: r.problems for s, r in results.items()}
    return course, {s: r.score for s, r in results.items()}


@pytest.fixture(scope="module")
def lab(graded_course, tmp_path_factory):
    course, _ = graded_course
    server = JupyterLab(course, tmp_path_factory.mktemp("instructor-jupyter")).start()
    yield server
    server.stop()


def test_the_formgrader_lists_the_class_and_its_scores(lab, graded_course):
    _, scores = graded_course
    started = time.monotonic()
    with chromium_page() as page:
        steps = Steps(page, "instructor")
        nb = NotebookPage(page)
        with steps.step("open JupyterLab in the course folder"):
            page.goto(f"{lab.url}/lab")
            page.locator("#jp-menu-panel").wait_for()
            page.locator(".jp-DirListing-item", has_text="nbgrader_config.py").wait_for()

        with steps.step("Nbgrader menu, Formgrader: the assignment, and no exchange warning"):
            nb.menu("Nbgrader", "Formgrader")
            frame = page.frame_locator("iframe").first
            row = frame.locator("table.dataTable tbody tr", has_text=ASSIGNMENT)
            row.wait_for()
            assert row.locator("td.num-submissions").inner_text().strip() == str(len(scores)), row.inner_text()
            warnings = frame.locator(".alert-warning:visible")
            assert warnings.count() == 0, f"the formgrader warns: {warnings.all_inner_texts()}"

        with steps.step("Manage Students: every student with their score"):
            frame.get_by_role("link", name="Manage Students").click()
            table = frame.locator("table.dataTable")
            for student, score in scores.items():
                row = table.locator("tbody tr", has=frame.locator("td.id", has_text=student))
                row.wait_for()
                found = row.locator("td.score").inner_text().strip()
                assert found == f"{score:g} / 10", f"{student}: {found!r}, expected {score:g} / 10"

        with steps.step("the assignment's submissions, scored"):
            frame.get_by_role("link", name="Manual Grading").click()
            frame.get_by_role("link", name=ASSIGNMENT).click()
            frame.get_by_role("link", name=NOTEBOOK).click()
            table = frame.locator("table.dataTable")
            table.locator("tbody td.score").first.wait_for()
            found = sorted(table.locator("tbody td.score").all_inner_texts())
            assert found == sorted(f"{score:g} / 10" for score in scores.values()), found
    print(f"instructor test: {time.monotonic() - started:.1f} s in the browser; screenshots in {steps.folder}")
