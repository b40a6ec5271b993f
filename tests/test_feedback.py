"""Feedback pages teach without leaking: the student's cells, plots and a message under each lost test,
and no line of a hidden-test block, no seed and no value of the hidden data.

The corpus of every built assignment is graded once (``graded_corpus``, shared with
``test_corpus.py``); ``autograder feedback`` and stock ``nbgrader generate_feedback`` (with the
course's ``TeachingFeedback`` preprocessor) then write its pages. A small class of students who
try to leak the hidden data (print their inputs, keep them and print them in a later cell,
raise with them) is graded on top.
"""

from __future__ import annotations

import html
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent

import nbformat
import pytest

from autograder.course import NOTEBOOKS
from autograder.feedback import hidden as hidden_mod
from autograder.feedback import messages, model, page
from autograder.feedback.hidden import MASK, HiddenTests, strip_hidden
from autograder.grading import sandbox
from autograder.grading.nbgrader_commands import run_nbgrader
from tests.conftest import ROOT, built_assignments, grade_class
from tests.corpus import Submission

ASSIGNMENTS = [pytest.param(a, marks=pytest.mark.xdist_group(a)) for a in built_assignments()]
#: Stock nbgrader runs the same page builder: one assignment shows the preprocessor is wired in.
FIRST = ASSIGNMENTS[:1]
SANDBOXED = sandbox.find_bwrap() is not None


# --- what "leaks nothing" means, checked independently of the redactor --------------------------

@dataclass
class Secrets:
    """Every hidden literal of a notebook, found from its source (not from autograder.feedback)."""

    lines: set[str]
    seeds: set[int]
    floats: set[float]
    int_runs: list[list[int]]
    visible_text: str  # the release notebook: what the student has anyway


def secrets_of(assignment: str) -> Secrets:
    from autograder import judges

    source = nbformat.read(ROOT / "source" / assignment / f"{NOTEBOOKS[assignment]}.ipynb", as_version=4)
    release = (ROOT / "release" / assignment / f"{NOTEBOOKS[assignment]}.ipynb").read_text()
    lines, seeds, floats, runs = set(), set(), set(), []
    for cell in source.cells:
        for block in re.findall(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", cell.source, re.S):
            lines.update(line.strip() for line in block.splitlines() if line.strip())
            seeds.update(int(n) for n in re.findall(r"\b\d+\b", block))
        for call, seed in judges.hidden_calls(cell.source):
            try:
                cases = judges.hidden_check(call).cases(seed)
            except Exception:  # noqa: BLE001 - a check not ported yet: its lines and seeds are still checked
                continue
            for values in _numbers(cases):
                floats.update(v for v in values if not float(v).is_integer())
                ints = [int(v) for v in values if float(v).is_integer()]
                if len(ints) >= 3 and len(ints) == len(values):
                    runs.append(ints)
    return Secrets(lines, seeds, floats, runs, release)


def _numbers(value):
    import torch

    if isinstance(value, torch.Tensor):
        yield value.detach().double().flatten().tolist()
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "kind":
                yield from _numbers(item)
    elif isinstance(value, (list, tuple)):
        if value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            yield [float(v) for v in value]
        else:
            for item in value:
                yield from _numbers(item)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield [float(value)]


def visible_text(page_html: str) -> str:
    """What a reader of the page sees: no styles, no tags (so no image data), entities decoded."""
    text = re.sub(r"<style.*?</style>|<script.*?</script>", " ", page_html, flags=re.S)
    text = re.sub(r"</?(?:span|code|b|i|em|strong|a)\b[^>]*>", "", text)  # inline: no space added
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def leaks(text: str, secrets: Secrets, raw: str | None = None, data_only: bool = False) -> list[str]:
    """Every hidden literal found in ``text`` (the visible text; ``raw``: the whole file, for source lines)."""
    found = [] if data_only else [f"hidden line {line!r}" for line in secrets.lines
                                  if len(line) >= 6 and line in (raw or text)]
    found += [] if data_only else [f"{marker!r}" for marker in ("seeds=", "BEGIN HIDDEN", "_hidden(")
                                   if marker in (raw or text)]
    tokens = set(re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?![\w])", text))
    for seed in () if data_only else secrets.seeds:
        if seed >= 100 and str(seed) in tokens and not re.search(rf"(?<![\w.]){seed}(?![\w])", secrets.visible_text):
            found.append(f"seed {seed}")
    for value in secrets.floats:
        for shown in {repr(value), f"{value:.4f}", f"{abs(value):.4f}", repr(abs(value))}:
            digits = shown.replace("-", "").replace(".", "").lstrip("0").rstrip("0")
            if len(digits) >= 4 and shown.lstrip("-") in tokens and shown not in secrets.visible_text:
                found.append(f"hidden value {shown}")
    for run in secrets.int_runs:
        for i in range(len(run) - 2):
            window = run[i:i + 3]
            shown = ", ".join(str(v) for v in window)
            if shown in text and shown not in secrets.visible_text:
                found.append(f"hidden values [{shown}]")
    return found


# --- unit tests ---------------------------------------------------------------------------------

SOURCE = dedent("""\
    from coursekit.checks import tensors as check

    check.to_batch(to_batch, miles)
    ### BEGIN HIDDEN TESTS
    check.to_batch_hidden(to_batch, seeds=[1013, 2207])
    ### END HIDDEN TESTS
    print("ok")
    """)


def test_hidden_blocks_are_stripped_from_a_test_cell():
    shown = strip_hidden(SOURCE)
    assert "seeds" not in shown and "BEGIN HIDDEN" not in shown and "END HIDDEN" not in shown
    assert "check.to_batch(to_batch, miles)" in shown and 'print("ok")' in shown
    assert hidden_mod.visible_part(SOURCE).count("\n") == SOURCE.count("\n") - 3


def test_the_redactor_masks_hidden_data_however_it_is_printed():
    import torch

    from coursekit.checks.tensors import cases

    hidden = HiddenTests.of_sources([SOURCE])
    values = cases.to_batch(1013)[0]["values"]
    whole = cases.to_batch(1013)[1]["values"]
    for printed in (str(values), str(torch.tensor(values)), str(whole), str(torch.tensor(whole, dtype=torch.float32)),
                    f"found: ValueError: {values!r}", "seed 2207 and 1013"):
        redacted = hidden.redact(printed)
        assert MASK in redacted
        secrets = Secrets(set(), {1013, 2207}, {v for v in values if not float(v).is_integer()}, [whole], "")
        assert not leaks(redacted, secrets), (printed, redacted)
    visible = "tensor([[1.], [3.], [5.], [7.]]) 16.2000 shape [4, 1] MSE 2.7000"
    assert hidden.redact(visible) == visible


def test_messages_are_read_back_with_their_mistake_code():
    evalue = ("to_batch on a hidden test case (whole numbers only): dtype\n  expected: dtype torch.float32\n"
              "  found:    dtype torch.int64\n  likely cause: ask for dtype=torch.float32\n  mistake code: wrong_dtype")
    message = messages.from_error("CheckFailed", evalue)
    assert (message.code, message.expected, message.found) == ("wrong_dtype", "dtype torch.float32",
                                                               "dtype torch.int64")
    assert message.on_hidden_case and message.cause == "ask for dtype=torch.float32"
    assert messages.from_error("NotImplementedError", "").code == "not_attempted"
    assert messages.from_error("NameError", "name 'mse' is not defined").code == "name_not_defined"
    assert messages.from_error("TimeoutError", "cell timed out after 60 s").code == "timeout"
    assert messages.from_error("ZeroDivisionError", "division by zero").code == "error_zero_division_error"


def _notebook(level: str, outputs: list[dict]) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("show()", outputs=[nbformat.from_dict(o) for o in outputs]),
                nbformat.v4.new_code_cell(SOURCE, metadata={"nbgrader": {"grade": True, "solution": False,
                                                                         "grade_id": "test_x", "points": 2}})]
    nb.cells[1].outputs = [nbformat.from_dict({
        "output_type": "error", "ename": "CheckFailed", "traceback": [SOURCE],
        "evalue": "x on a hidden test case: shape\n  expected: shape [3, 1]\n  found:    shape [3]\n"
                  "  likely cause: add the column\n  mistake code: wrong_shape"})]
    feedback = model.build(nb, {"test_x": (0.0, 2.0)}, student="s", assignment="a", notebook="n", level=level,
                           hidden=HiddenTests.of_sources([SOURCE]))
    return page.page(feedback)


def test_student_html_and_scripts_never_reach_the_page():
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    text = _notebook("messages", [
        {"output_type": "display_data", "data": {"text/html": "<script>alert(1)</script>", "text/plain": "<b>"},
         "metadata": {}},
        {"output_type": "display_data", "data": {"image/svg+xml": svg}, "metadata": {}},
        {"output_type": "display_data", "data": {"application/javascript": "alert(1)"}, "metadata": {}}])
    assert "<script" not in text and "alert(1)" not in text.replace("YWxlcnQoMSk", "")
    assert "&lt;b&gt;" in text and 'src="data:image/svg+xml;base64,' in text


@pytest.mark.parametrize("level", ["full", "messages", "scores"])
def test_levels_show_more_or_less_but_never_the_hidden_tests(level):
    text = _notebook(level, [])
    assert "seeds=" not in text and "BEGIN HIDDEN" not in text and "to_batch_hidden" not in text
    assert "0 / 2" in text
    assert ("add the column" in text) == (level != "scores")
    assert ("mistake code: wrong_shape" in text) == (level == "full")
    assert ("check.to_batch(to_batch, miles)" in visible_text(text)) == (level != "scores")


def test_the_course_config_registers_the_preprocessor_for_nbgrader():
    from traitlets.config import PyFileConfigLoader

    from autograder.feedback.build import course_level

    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert "autograder.feedback.nbgrader.TeachingFeedback" in config.GenerateFeedback.preprocessors
    assert course_level(config) == "messages"


# --- the corpus --------------------------------------------------------------------------------

_pages: dict[tuple[str, str], Path] = {}


def feedback_pages(graded, tool: str) -> Path:
    """The folder of the corpus's pages by ``tool`` ("autograder" or "nbgrader"), built once per process."""
    key = (graded.assignment, tool)
    if key not in _pages:
        course = graded.course
        shutil.rmtree(course / "feedback", ignore_errors=True)
        if tool == "autograder":
            from autograder.feedback.build import generate

            run = generate(course, graded.assignment, sandboxed=SANDBOXED)
            assert not run.problems, run.problems
        else:
            run_nbgrader(["generate_feedback", graded.assignment, "--force"], course)
        _pages[key] = course / f"feedback-{tool}"
        shutil.rmtree(_pages[key], ignore_errors=True)
        shutil.move(course / "feedback", _pages[key])
    return _pages[key]


def lost_cells(graded, student: str) -> dict[str, str]:
    """grade_id -> the error value of each grade cell the student lost, from the autograded notebook."""
    points = graded.points
    scores = graded.scores(student)
    nb = nbformat.read(graded.course / "autograded" / student / graded.assignment
                       / f"{NOTEBOOKS[graded.assignment]}.ipynb", as_version=4)
    lost = {}
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in points and scores[grade_id] < points[grade_id]:
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            lost[grade_id] = f"{errors[-1]['ename']}: {errors[-1]['evalue']}" if errors else ""
    return lost


def assert_teaches_without_leaking(page_file: Path, secrets: Secrets, lost: dict[str, str]) -> None:
    raw = page_file.read_text()
    text = visible_text(raw)
    assert not leaks(text, secrets, html.unescape(raw)), (page_file, leaks(text, secrets, html.unescape(raw)))
    for grade_id, error in lost.items():
        assert grade_id in text, (page_file, grade_id)
        for label in ("expected", "likely cause"):
            match = re.search(rf"^\s*{label}:\s*(.*)$", error, re.M)
            if match:
                assert " ".join(match.group(1).split()) in " ".join(text.split()), (page_file, grade_id, label)
        if error and not re.search(r"^\s*expected:", error, re.M):
            assert error.split(":", 1)[0] in text, (page_file, grade_id)


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_autograder_feedback_teaches_without_leaking(graded_corpus, assignment):
    graded = graded_corpus(assignment)
    folder = feedback_pages(graded, "autograder")
    secrets = secrets_of(assignment)
    students = sorted(p.name for p in (graded.course / "submitted").iterdir() if p.is_dir())
    for student in students:
        page_file = folder / student / assignment / f"{NOTEBOOKS[assignment]}.html"
        assert page_file.exists(), student
        assert_teaches_without_leaking(page_file, secrets, lost_cells(graded, student))
        raw = page_file.read_text()
        nb = nbformat.read(graded.course / "autograded" / student / assignment / f"{NOTEBOOKS[assignment]}.ipynb",
                           as_version=4)
        plots = sum(1 for c in nb.cells if not model.is_test_cell(c) for o in c.get("outputs", [])
                    if model.FIGURE_TEXT.match(str(o.get("data", {}).get("text/plain", "")).strip()))
        assert raw.count('<img alt="a plot from your notebook"') >= plots, (student, plots)
        assert model.MISSING_PLOT not in raw, student


@pytest.mark.slow
@pytest.mark.parametrize("assignment", FIRST)
def test_stock_nbgrader_feedback_teaches_without_leaking(graded_corpus, assignment):
    graded = graded_corpus(assignment)
    folder = feedback_pages(graded, "nbgrader")
    secrets = secrets_of(assignment)
    for student in ("reference", "blank", *(s for s in lost_students(graded))):
        page_file = folder / student / assignment / f"{NOTEBOOKS[assignment]}.html"
        assert_teaches_without_leaking(page_file, secrets, lost_cells(graded, student))
        assert 'class="feedback"' in page_file.read_text()


def lost_students(graded) -> list[str]:
    from tests.corpus.registry import submissions_for

    return [s.student for s in submissions_for(graded.assignment) if s.loses]


# --- students who try to leak the hidden data ---------------------------------------------------

def _leakers(assignment: str) -> list[Submission]:
    """Students whose functions print their inputs, keep them for a later cell, or raise with them."""
    import ast

    source = nbformat.read(ROOT / "source" / assignment / f"{NOTEBOOKS[assignment]}.ipynb", as_version=4)
    solutions = [c for c in source.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")
                 and c.cell_type == "code"]
    edits_print, edits_raise = {}, {}
    for i, cell in enumerate(solutions):
        grade_id = cell.metadata.nbgrader.grade_id
        names = [n.name for n in ast.parse(cell.source).body if isinstance(n, ast.FunctionDef)]
        wrap = "".join(dedent(f"""
            import functools as _functools
            _leak_{name} = {name}
            @_functools.wraps(_leak_{name})
            def {name}(*args, **kwargs):
                globals().setdefault("_LEAK", []).append(repr(args)[:3000])
                print("LEAK", args)
                return _leak_{name}(*args, **kwargs)
            """) for name in names)
        stash = "\nprint('STASH', globals().get('_LEAK'))\n" if i == len(solutions) - 1 else ""
        edits_print[grade_id] = cell.source + "\n" + wrap + stash
        raise_wrap = "".join(dedent(f"""
            _seen_{name} = []
            _raise_{name} = {name}
            def {name}(*args, **kwargs):
                _seen_{name}.append(1)
                if len(_seen_{name}) > 3:
                    raise ValueError("my inputs: " + repr(args)[:3000])
                return _raise_{name}(*args, **kwargs)
            """) for name in names)
        edits_raise[grade_id] = cell.source + "\n" + raise_wrap
    return [Submission("leak_print_and_stash", edits_print), Submission("leak_in_error", edits_raise)]


_leak_classes: dict[str, object] = {}


# The pages of a run without hidden tests cannot hold hidden data; the redactor is what the run
# without it (stock nbgrader, --no-render) relies on, so that one is tried on every assignment.
LEAK_CASES = [pytest.param(a, False, marks=pytest.mark.xdist_group(a), id=f"{a}-not-rendered")
              for a in built_assignments()]
LEAK_CASES += [pytest.param(a, True, marks=pytest.mark.xdist_group(a), id=f"{a}-rendered")
               for a in built_assignments()[:1]]


@pytest.mark.slow
@pytest.mark.parametrize(("assignment", "render"), LEAK_CASES)
def test_students_who_try_to_leak_hidden_data_see_none(tmp_path_factory, assignment, render):
    from autograder.feedback.build import generate

    if assignment not in _leak_classes:
        _leak_classes[assignment] = grade_class(tmp_path_factory.mktemp(f"leak-{assignment}"), assignment,
                                                _leakers(assignment), grader="fast")
    graded = _leak_classes[assignment]
    run = generate(graded.course, assignment, students=["leak_print_and_stash", "leak_in_error"], render=render,
                   sandboxed=SANDBOXED, level="full")
    assert not run.problems, run.problems
    secrets = secrets_of(assignment)
    for written in run.written:
        raw = written.path.read_text()
        assert not leaks(visible_text(raw), secrets, html.unescape(raw)), (written.student, render)
    autograded = (graded.course / "autograded" / "leak_print_and_stash" / assignment
                  / f"{NOTEBOOKS[assignment]}.ipynb").read_text()
    if assignment == "01_tensors":  # its hidden data are numbers the attack prints: the pages hid them
        assert leaks(autograded.replace("\\n", "\n"), secrets, data_only=True), "the attack leaked nothing to hide"
