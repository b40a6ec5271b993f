"""The class report: mistakes counted by code (each corpus mistake reports the code its check raises),
CSV files that match the gradebook, and a page that opens in a browser with its plots and the
mistakes ranked (a screenshot is saved under ``test-artifacts/report/``)."""

from __future__ import annotations

import csv
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autograder.cli.main import app
from autograder.course import NOTEBOOKS
from autograder.feedback.messages import Message
from autograder.reports.class_report import analyse, write_assignment
from autograder.reports.outcomes import AssignmentOutcome, CellOutcome, StudentOutcome, read_assignment
from coursekit.assignments import BY_NAME
from tests.conftest import ROOT, built_assignments
from tests.corpus.registry import submissions_for

ASSIGNMENTS = [pytest.param(a, marks=pytest.mark.xdist_group(a)) for a in built_assignments()]
ARTIFACTS = ROOT / "test-artifacts" / "report"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _ported(assignment: str) -> bool:
    """Whether the assignment's checks run on the kit's engine (their failures carry mistake codes)."""
    try:
        module = importlib.import_module(f"coursekit.checks.{BY_NAME[assignment].module}")
    except ImportError:
        return False
    return bool(getattr(module, "HIDDEN", None))


# --- ranking, without a class -------------------------------------------------------------------

def _cell(grade_id: str, score: float, code: str | None = None) -> CellOutcome:
    message = Message(f"{grade_id}: values", "a", "b", f"cause of {code}", code) if code else None
    return CellOutcome("nb", grade_id, score, 2.0, message)


def test_mistakes_are_counted_by_code_and_ranked():
    outcome = AssignmentOutcome("01_x", [("nb", "test_a", 2.0), ("nb", "test_b", 2.0)], [
        StudentOutcome("ann", cells=[_cell("test_a", 0, "wrong_dtype"), _cell("test_b", 2)]),
        StudentOutcome("bob", cells=[_cell("test_a", 0, "wrong_dtype"), _cell("test_b", 0, "wrong_shape")]),
        StudentOutcome("cid", cells=[_cell("test_a", 0, "raised"), _cell("test_b", 2)]),
        StudentOutcome("dan", submitted=False),
    ])
    report = analyse(outcome)
    assert [(m.grade_id, m.code, m.students) for m in report.mistakes] == [
        ("test_a", "wrong_dtype", ["ann", "bob"]), ("test_a", "raised", ["cid"]), ("test_b", "wrong_shape", ["bob"])]
    assert report.failed == {"test_a": 3, "test_b": 1}
    assert report.mistakes[0].cause == "cause of wrong_dtype"


def test_the_command_needs_an_assignment_or_course(tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, ["report", "--root", str(tmp_path)]).exit_code == 2
    assert runner.invoke(app, ["report", "01_tensors", "--course", "--root", str(tmp_path)]).exit_code == 2


# --- the corpus --------------------------------------------------------------------------------

_CODES_SCRIPT = r"""
import json, sys, warnings
warnings.filterwarnings("ignore")
import matplotlib
matplotlib.use("Agg")
import nbformat
from autograder.feedback import messages

found = {}
for path, target in json.loads(sys.argv[1]):
    nb = nbformat.read(path, as_version=4)
    scope = {"__name__": "__main__"}
    code = None
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if not meta or (meta.get("grade") and not meta.get("solution") and grade_id != target):
            continue  # demos and other exercises' tests: a test cell needs only the setup and its solution
        try:
            exec(compile(cell.source, grade_id or "<cell>", "exec"), scope)
        except BaseException as error:  # like nbgrader: a failed cell does not stop the notebook
            if grade_id == target:
                code = getattr(error, "code", None) or messages.from_error(type(error).__name__, str(error)).code
        if grade_id == target:
            break
    found[f"{path}::{target}"] = code
print(json.dumps(found))
"""


def codes_in_process(course: Path, assignment: str, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(student, grade cell) -> the mistake code the check raises when the notebook runs in one plain Python."""
    notebook = f"{NOTEBOOKS[assignment]}.ipynb"
    jobs = [(str(course / "submitted" / student / assignment / notebook), cell) for student, cell in wanted]
    done = subprocess.run([sys.executable, "-c", _CODES_SCRIPT, json.dumps(jobs)], capture_output=True, text=True,
                          timeout=900, check=True, env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin",
                                                         "HOME": str(course)}, cwd=course)
    raw = json.loads(done.stdout.strip().splitlines()[-1])
    return {(Path(key.split("::")[0]).parts[-3], key.split("::")[1]): code for key, code in raw.items()}


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_corpus_mistake_reports_the_code_its_check_raises(graded_corpus, assignment):
    if not _ported(assignment):
        pytest.skip(f"{assignment}: checks not on the kit's engine yet (no mistake codes)")
    graded = graded_corpus(assignment)
    outcome = read_assignment(graded.course, assignment)
    wrong = [s for s in submissions_for(assignment) if s.loses]
    reported = {(s.student, cell): outcome_code(outcome, s.student, cell) for s in wrong for cell in s.loses}
    expected = codes_in_process(graded.course, assignment, sorted(reported))
    assert reported == expected
    assert all(code and code != "unclassified" for code in reported.values()), reported
    for submission in wrong:  # a corpus entry may also name its code
        named = getattr(submission, "code", None)
        if named:
            assert {reported[submission.student, cell] for cell in submission.loses} == {named}, submission.student


def outcome_code(outcome: AssignmentOutcome, student: str, grade_id: str) -> str | None:
    found = next(s for s in outcome.students if s.student == student)
    cell = found.cell(grade_id)
    return cell.code if cell is not None else None


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_csv_files_match_the_gradebook(graded_corpus, assignment, tmp_path):
    graded = graded_corpus(assignment)
    written = write_assignment(graded.course, assignment, tmp_path / "report")
    with open(tmp_path / "report" / "scores.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    with open(tmp_path / "report" / "mistakes.csv", newline="") as handle:
        mistakes = list(csv.DictReader(handle))
    students = sorted(p.name for p in (graded.course / "submitted").iterdir() if p.is_dir())
    assert sorted(rows) == students
    lost = set()
    for student in students:
        scores = graded.scores(student)
        assert {cell: float(rows[student][cell]) for cell in scores} == scores, student
        lost |= {(student, cell) for cell, score in scores.items() if score < graded.points[cell]}
    assert {(m["student"], m["grade_cell"]) for m in mistakes} == lost
    assert all(m["mistake_code"] for m in mistakes)
    assert written.graded == len(students)


def missing_browser() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "Playwright is not installed: run ./scripts/setup.sh --test"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: apt-get install chromium"
    return None


def open_in_browser(page: Path, screenshot: Path) -> dict:
    """Open ``page`` from disk in headless Chromium; what it shows, and its console errors."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # git-ignored (/test-artifacts/)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            view = browser.new_page(viewport={"width": 1200, "height": 900})
            errors: list[str] = []
            view.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            view.on("pageerror", lambda e: errors.append(str(e)))
            view.goto(page.as_uri())
            view.wait_for_load_state("load")
            shown = view.evaluate("""() => ({
                images: [...document.images].map(i => ({alt: i.alt, ok: i.complete && i.naturalWidth > 0})),
                mistakes: [...document.querySelectorAll('#mistakes ol.mistakes > li')].map(li => li.innerText),
                rows: document.querySelectorAll('#students tbody tr').length,
                external: [...document.querySelectorAll('[src],[href]')].map(e => e.getAttribute('src')
                    || e.getAttribute('href')).filter(u => /^(https?:)?\\/\\//.test(u)),
            })""")
            view.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    shown["errors"] = errors
    return shown


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_report_opens_from_disk_with_its_plots_and_the_mistakes_ranked(graded_corpus, assignment, tmp_path):
    reason = missing_browser()
    if reason:
        pytest.skip(reason)
    graded = graded_corpus(assignment)
    written = write_assignment(graded.course, assignment, tmp_path / "report")
    shown = open_in_browser(written.page, ARTIFACTS / f"{assignment}.png")
    assert shown["errors"] == [] and shown["external"] == []
    assert len(shown["images"]) == 3 and all(i["ok"] for i in shown["images"]), shown["images"]
    students = len([p for p in (graded.course / "submitted").iterdir() if p.is_dir()])
    assert shown["rows"] == students
    counts = [int(text.split(" of ", 1)[0]) for text in shown["mistakes"]]
    assert counts and counts == sorted(counts, reverse=True)
    assert all(f" of {students} students" in text for text in shown["mistakes"])
    by_cell = {}
    for submission in submissions_for(assignment):
        for cell in submission.loses:
            by_cell.setdefault(cell.removeprefix("test_"), set()).add(submission.student)
    assert {text.split(" lost points in ", 1)[1].split(" with ", 1)[0] for text in shown["mistakes"]} >= set(by_cell)


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_course_report_covers_every_graded_assignment(graded_corpus, assignment, tmp_path):
    graded = graded_corpus(assignment)
    result = CliRunner().invoke(app, ["report", "--course", "--root", str(graded.course), "--out",
                                      str(tmp_path / "course")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "course" / "index.html").read_text()
    assert f'href="{assignment}/index.html"' in page and "most common first" in page
    assert (tmp_path / "course" / assignment / "index.html").exists()
    header = (tmp_path / "course" / "scores.csv").read_text().splitlines()[0].split(",")
    assert header == ["student", assignment, "total", "max_score"]
