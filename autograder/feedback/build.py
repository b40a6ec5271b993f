"""``autograder feedback``: a feedback page for every graded submission of an assignment.

Pages go where nbgrader puts its own, ``feedback/<student>/<assignment>/<notebook>.html``,
so ``nbgrader release_feedback`` (or any way of handing files back) works unchanged.
Before a page is written it is searched for every line of the notebook's hidden-test
blocks; a page that holds one is not written, and the student is reported.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from autograder.feedback import DEFAULT_LEVEL, LEVELS, model, page
from autograder.feedback.hidden import HiddenTests, LeakError
from autograder.reports.outcomes import hidden_tests_of, read_scores


@dataclass
class Written:
    """One page: where it is, and its score."""

    student: str
    notebook: str
    path: Path
    score: float
    max_score: float
    plots: str = ""  # "drawn", "from the submission", "not drawn" or "" (the notebook has none)


@dataclass
class FeedbackRun:
    """What one run wrote, and what it could not."""

    written: list[Written] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    level: str = DEFAULT_LEVEL


def course_level(config: Any) -> str:
    """The course's ``c.TeachingFeedback.level`` (``messages`` when unset)."""
    from autograder.feedback.nbgrader import TeachingFeedback

    return TeachingFeedback(config=config).level


def generate(root: Path, assignment: str, *, students: list[str] | None = None, level: str | None = None,
             render: bool = True, sandboxed: bool = True, workers: int = 0, memory_gb: float = 4.0,
             log: Callable[[str], None] = lambda m: None,
             progress: Callable[[Written], None] = lambda w: None) -> FeedbackRun:
    """Write the feedback pages of ``assignment`` (every student, or only ``students``)."""
    from autograder.grading import settings

    started = time.perf_counter()
    root = Path(root).resolve()
    config = settings.load_config(root)
    run = FeedbackRun(level=level or course_level(config))
    if run.level not in LEVELS:
        raise ValueError(f"unknown feedback level {run.level!r}: choose one of {', '.join(LEVELS)}")
    course_id = str(config.CourseDirectory.get("course_id", ""))
    folders = {name: root / str(config.CourseDirectory.get(f"{name}_directory", name))
               for name in ("submitted", "autograded", "feedback")}

    def problem(message: str) -> None:
        run.problems.append(message)
        log(message)

    renderer = None
    if render:  # the workers import torch while this process reads the class
        from autograder.feedback.render import Renderer

        count = sum(1 for p in folders["autograded"].glob(f"*/{assignment}")
                    if p.is_dir() and (not students or p.parent.name in students))
        if count:
            renderer = Renderer(root, assignment, count=count, workers=workers, sandboxed=sandboxed,
                                memory_gb=memory_gb, log=log)
    try:
        cells, _everyone, scores = read_scores(settings.db_url(config, root), assignment)
        for student in sorted(set(students or []) - set(scores)):
            problem(f"{student}: no graded submission of {assignment}")
        notebooks = list(dict.fromkeys(nb for nb, _, _ in cells))
        graded: dict[str, Any] = {}
        for student in (s for s in sorted(scores) if not students or s in students):
            for notebook in notebooks:
                found = _read(folders["autograded"] / student / assignment / f"{notebook}.ipynb")
                if found is not None:
                    graded[f"{student}/{notebook}"] = found
                elif notebook in scores[student]:
                    problem(f"{student}: no autograded {notebook}.ipynb (grade the submission first)")
        rendered: dict[str, Any] = {}
        if renderer is not None:
            from autograder.feedback.render import worth_rendering

            rendered = renderer.run({key: nb for key, nb in graded.items() if worth_rendering(nb)})
    finally:
        if renderer is not None:
            renderer.close()

    for key, notebook_node in graded.items():
        student, notebook = key.split("/", 1)
        submitted = _read(folders["submitted"] / student / assignment / f"{notebook}.ipynb")
        hidden = hidden_tests_of(notebook_node)
        feedback = model.build(notebook_node, scores[student].get(notebook, {}), student=student,
                               assignment=assignment, notebook=notebook, level=run.level, hidden=hidden,
                               submitted=submitted, rendered=rendered.get(key))
        text = page.page(feedback, course_id)
        try:
            check_page(text, hidden)
        except LeakError as error:
            problem(f"{student}: feedback of {notebook} not written: {error}")
            continue
        target = folders["feedback"] / student / assignment / f"{notebook}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written = Written(student, notebook, target, feedback.score, feedback.max_score,
                          _plots(feedback, rendered.get(key) is not None))
        run.written.append(written)
        progress(written)
    run.seconds = time.perf_counter() - started
    return run


def check_page(text: str, hidden: HiddenTests) -> None:
    """LeakError when the page holds a line of a hidden-test block."""
    leaks = hidden.find_leaks(html.unescape(text))
    if leaks:
        raise LeakError(f"it would show {len(leaks)} line(s) of the hidden tests")


def _plots(feedback: model.NotebookFeedback, rendered: bool) -> str:
    images = sum(o.kind == "image" for c in feedback.cells for o in c.outputs)
    missing = sum(o.kind == "note" and o.text == model.MISSING_PLOT for c in feedback.cells for o in c.outputs)
    if missing:
        return "not drawn"
    if images:
        return "drawn" if rendered else "from the notebook"
    return ""


def _read(path: Path) -> Any:
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError, KeyError, AttributeError):
        return None
