"""``autograder report``: what a graded class got right and wrong, as a page and CSV files.

For one assignment (:func:`write_assignment`), ``--out DIR`` (default ``reports/<assignment>``) gets:

- ``index.html``: one static page (opens from disk, no network, no JavaScript) with the
  score distribution, the failure rate of every grade cell, the mistakes ranked by how
  many students made them ("3 of 15 students ...", the students under each), and a row
  per student (linked to their feedback page when there is one);
- ``scores.csv``: a row per student, a column per grade cell;
- ``mistakes.csv``: a row per lost grade cell: student, cell, score, mistake code, message.

For the course (:func:`write_course`, ``--course``), ``DIR`` (default ``reports/course``)
gets an ``index.html`` over every graded assignment, ``scores.csv`` (a column per
assignment), ``mistakes.csv`` (all assignments) and each assignment's report in its own
folder. Mistakes are counted by code (:mod:`autograder.reports.outcomes`), never by text.
"""

from __future__ import annotations

import csv
import html
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from autograder.reports import figures
from autograder.reports.outcomes import AssignmentOutcome, NotGraded, StudentOutcome, read_assignment


@dataclass
class Mistake:
    """One mistake (a code in a grade cell) and the students who made it."""

    grade_id: str
    code: str
    students: list[str] = field(default_factory=list)
    causes: Counter[str] = field(default_factory=Counter)
    titles: Counter[str] = field(default_factory=Counter)

    @property
    def exercise(self) -> str:
        return self.grade_id.removeprefix("test_")

    @property
    def cause(self) -> str:
        return self.causes.most_common(1)[0][0] if self.causes else ""

    @property
    def label(self) -> str:
        return f"{self.exercise}: {self.code}"


@dataclass
class Report:
    """An assignment's class report, ready to write."""

    outcome: AssignmentOutcome
    mistakes: list[Mistake]
    failed: dict[str, int]  # grade_id -> students who lost points there
    course: str = ""

    @property
    def graded(self) -> list[StudentOutcome]:
        return self.outcome.submitted


def analyse(outcome: AssignmentOutcome, course: str = "") -> Report:
    """Count failures per grade cell and mistakes per (grade cell, code), most common first."""
    order = {grade_id: i for i, (_, grade_id, _) in enumerate(outcome.cells)}
    found: dict[tuple[str, str], Mistake] = {}
    failed = {grade_id: 0 for _, grade_id, _ in outcome.cells}
    for student in outcome.submitted:
        for cell in student.cells:
            if cell.passed:
                continue
            failed[cell.grade_id] = failed.get(cell.grade_id, 0) + 1
            code = cell.code or "unclassified"
            mistake = found.setdefault((cell.grade_id, code), Mistake(cell.grade_id, code))
            mistake.students.append(student.student)
            if cell.message is not None:
                mistake.causes[cell.message.cause] += 1
                mistake.titles[cell.message.title] += 1
    ranked = sorted(found.values(), key=lambda m: (-len(m.students), order.get(m.grade_id, 0), m.code))
    return Report(outcome, ranked, failed, course)


# --- CSV ----------------------------------------------------------------------------------------

def write_scores_csv(report: Report, path: Path) -> None:
    cells = [grade_id for _, grade_id, _ in report.outcome.cells]
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["student", "submitted", "score", "max_score", *cells])
        for student in report.outcome.students:
            if not student.submitted:
                writer.writerow([student.student, "no", "", report.outcome.max_score, *[""] * len(cells)])
                continue
            per_cell = [_num(c.score) if (c := student.cell(g)) is not None else "" for g in cells]
            writer.writerow([student.student, "yes", _num(student.score), _num(student.max_score), *per_cell])


MISTAKE_COLUMNS = ["assignment", "student", "notebook", "grade_cell", "score", "points", "mistake_code", "what",
                   "expected", "found", "likely_cause"]


def mistake_rows(report: Report) -> list[list[str]]:
    rows = []
    for student in report.graded:
        for cell in student.cells:
            if cell.passed:
                continue
            message = cell.message
            rows.append([report.outcome.assignment, student.student, cell.notebook, cell.grade_id, _num(cell.score),
                         _num(cell.points), cell.code or "", *(
                             (message.title, message.expected, message.found, message.cause) if message
                             else ("", "", "", ""))])
    return rows


def write_mistakes_csv(rows: list[list[str]], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(MISTAKE_COLUMNS)
        writer.writerows(rows)


# --- HTML ---------------------------------------------------------------------------------------

CSS = """
:root { --ok: #1a7f37; --bad: #cf222e; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1f2328; background: #fff; }
main { max-width: 1080px; margin: 0 auto; padding: 1.5em 1.2em 4em; }
h1 { font-size: 1.6em; margin: 0 0 .1em; } h2 { font-size: 1.25em; margin: 1.6em 0 .5em;
       border-bottom: 1px solid var(--line); padding-bottom: .2em; }
.meta { color: var(--muted); margin: 0 0 1em; }
.numbers { display: flex; flex-wrap: wrap; gap: .8em; margin: 1em 0; }
.numbers div { border: 1px solid var(--line); border-radius: 8px; padding: .5em 1em; min-width: 8.5em; }
.numbers b { display: block; font-size: 1.5em; }
.numbers span { color: var(--muted); font-size: .85em; }
figure { margin: .5em 0 1em; } figure img { max-width: 100%; height: auto; }
.pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 0 2em; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: .92em; }
th, td { border-bottom: 1px solid var(--line); padding: .3em .7em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.num, th.num { text-align: right; }
td.ok { color: var(--ok); } td.lost { color: var(--bad); font-weight: 600; }
td small { display: block; color: var(--muted); font-weight: 400; }
ol.mistakes { padding-left: 1.4em; } ol.mistakes li { margin: .6em 0; }
ol.mistakes .count { font-weight: 700; color: var(--bad); }
ol.mistakes code, td code { background: #f6f8fa; padding: 0 .3em; border-radius: 4px; }
details summary { cursor: pointer; color: var(--muted); }
details ul { margin: .3em 0; columns: 3; }
.none { color: var(--muted); }
"""


def assignment_html(report: Report, feedback_links: dict[str, str] | None = None) -> str:
    """The assignment's page; ``feedback_links``: student -> relative link to their feedback page."""
    outcome, graded = report.outcome, report.graded
    total = len(graded)
    scores = [s.score for s in graded]
    most = outcome.max_score
    mean = sum(scores) / total if total else 0.0
    full = sum(s >= most for s in scores)
    zero = sum(s == 0 for s in scores)
    missing = [s.student for s in outcome.students if not s.submitted]
    cells = outcome.cells
    parts = [_head(f"{outcome.assignment}: class report"), "<main>",
             f"<h1>{_e(outcome.assignment)}: class report</h1>",
             f'<p class="meta">{_e(report.course + " · " if report.course else "")}{total} graded submission'
             f'{"s" if total != 1 else ""} · {_e(datetime.now().strftime("%Y-%m-%d %H:%M"))}</p>',
             '<section class="numbers">',
             _number(f"{mean:.1f} / {most:g}", "mean score"),
             _number(f"{_median(scores):g}", "median"),
             _number(f"{full} of {total}", "full marks"),
             _number(f"{zero} of {total}", "scored 0"),
             _number(str(len(report.mistakes)), "distinct mistakes"),
             "</section>"]
    if not total:
        parts.append('<p class="none">No graded submission yet: run <code>autograder grade</code> first.</p>')
    else:
        labels = [g.removeprefix("test_") for _, g, _ in cells]
        parts += ['<div class="pair"><section id="distribution"><h2>Score distribution</h2>',
                  f'<figure><img alt="score distribution" src="{figures.score_distribution(scores, most)}">'
                  "</figure></section>",
                  '<section id="failure-rates"><h2>Who lost points where</h2>',
                  f'<figure><img alt="failure rate of each grade cell" src="'
                  f'{figures.failure_rates(labels, [report.failed.get(g, 0) for _, g, _ in cells], total)}">'
                  "</figure></section></div>",
                  '<section id="cells"><h2>Grade cells</h2>', _cells_table(report), "</section>"]
        parts += ['<section id="mistakes"><h2>Mistakes, most common first</h2>']
        if report.mistakes:
            parts.append(f'<figure><img alt="mistakes ranked by students" src="'
                         f'{figures.ranked_mistakes([m.label for m in report.mistakes], [len(m.students) for m in report.mistakes], total)}">'  # noqa: E501
                         "</figure>")
            parts.append(_mistake_list(report.mistakes, total))
        else:
            parts.append('<p class="none">No mistakes: every graded submission got every point.</p>')
        parts.append("</section>")
        parts += ['<section id="students"><h2>Students</h2>', _student_table(report, feedback_links or {}),
                  "</section>"]
    if missing:
        parts.append(f'<p class="meta">In the gradebook without a submission of {_e(outcome.assignment)}: '
                     f'{_e(", ".join(missing))}.</p>')
    parts += ['<p class="meta">Files: <a href="scores.csv">scores.csv</a> (a column per grade cell), '
              '<a href="mistakes.csv">mistakes.csv</a> (a row per lost grade cell, with its mistake code).</p>',
              "</main></body></html>"]
    return "\n".join(parts)


def _cells_table(report: Report) -> str:
    total = len(report.graded)
    rows = []
    for notebook, grade_id, points in report.outcome.cells:
        failed = report.failed.get(grade_id, 0)
        got = [c.score for s in report.graded if (c := s.cell(grade_id)) is not None]
        top = next((m for m in report.mistakes if m.grade_id == grade_id), None)
        top_text = (f"<code>{_e(top.code)}</code> ({len(top.students)})" if top else '<span class="none">-</span>')
        rows.append(f"<tr><td>{_e(grade_id)}</td><td>{_e(notebook)}</td><td class=\"num\">{points:g}</td>"
                    f'<td class="num">{failed} of {total} ({_pct(failed, total)})</td>'
                    f'<td class="num">{(sum(got) / len(got) if got else 0):.2f}</td><td>{top_text}</td></tr>')
    return ('<table><thead><tr><th>grade cell</th><th>notebook</th><th class="num">points</th>'
            '<th class="num">lost points</th><th class="num">mean score</th><th>most common mistake</th></tr>'
            "</thead><tbody>" + "".join(rows) + "</tbody></table>")


def _mistake_list(mistakes: list[Mistake], total: int) -> str:
    items = []
    for mistake in mistakes:
        count = len(mistake.students)
        cause = f" Likely cause given: {_e(mistake.cause)}." if mistake.cause else ""
        example = mistake.titles.most_common(1)[0][0] if mistake.titles else ""
        example_html = f" <small>(e.g. <code>{_e(example)}</code>)</small>" if example else ""
        items.append(
            f'<li><span class="count">{count} of {total} students</span> lost points in '
            f"<b>{_e(mistake.exercise)}</b> with <code>{_e(mistake.code)}</code>.{cause}{example_html}"
            f"<details><summary>the {count} student{'s' if count != 1 else ''}</summary><ul>"
            + "".join(f"<li>{_e(s)}</li>" for s in sorted(mistake.students)) + "</ul></details></li>")
    return '<ol class="mistakes">' + "".join(items) + "</ol>"


def _student_table(report: Report, links: dict[str, str]) -> str:
    cells = report.outcome.cells
    head = "".join(f'<th class="num">{_e(g.removeprefix("test_"))}<br><small>{p:g}</small></th>'
                   for _, g, p in cells)
    rows = []
    for student in sorted(report.graded, key=lambda s: (s.score, s.student)):
        tds = []
        for _, grade_id, _ in cells:
            cell = student.cell(grade_id)
            if cell is None:
                tds.append('<td class="num none">-</td>')
            elif cell.passed:
                tds.append(f'<td class="num ok">{cell.score:g}</td>')
            else:
                tds.append(f'<td class="num lost">{cell.score:g}<small>{_e(cell.code or "")}</small></td>')
        name = _e(student.student)
        if student.student in links:
            name = f'<a href="{_e(links[student.student])}">{name}</a>'
        rows.append(f'<tr><td>{name}</td><td class="num"><b>{student.score:g}</b> / {student.max_score:g}</td>'
                    + "".join(tds) + "</tr>")
    return (f'<table><thead><tr><th>student</th><th class="num">score</th>{head}</tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def course_html(reports: list[Report], students: list[str], course: str = "") -> str:
    """The course's page: every assignment's numbers, a row per student, the mistakes of the course."""
    parts = [_head("Course report"), "<main>", "<h1>Course report</h1>",
             f'<p class="meta">{_e(course + " · " if course else "")}{len(reports)} assignment'
             f'{"s" if len(reports) != 1 else ""} · {_e(datetime.now().strftime("%Y-%m-%d %H:%M"))}</p>']
    if reports:
        labels = [r.outcome.assignment for r in reports]
        means = [sum(s.score for s in r.graded) / len(r.graded) if r.graded else 0.0 for r in reports]
        parts += ['<section id="assignments"><h2>Assignments</h2>',
                  f'<figure><img alt="mean score of each assignment" src="'
                  f'{figures.assignment_means(labels, means, [r.outcome.max_score for r in reports], [len(r.graded) for r in reports])}">'  # noqa: E501
                  "</figure>", "<table><thead><tr><th>assignment</th><th class=\"num\">graded</th>"
                  '<th class="num">mean</th><th class="num">median</th><th class="num">full marks</th>'
                  "<th>most common mistake</th></tr></thead><tbody>"]
        for report, mean in zip(reports, means, strict=True):
            graded = report.graded
            top = report.mistakes[0] if report.mistakes else None
            top_text = (f"{len(top.students)} of {len(graded)}: <code>{_e(top.label)}</code>" if top
                        else '<span class="none">-</span>')
            name = _e(report.outcome.assignment)
            parts.append(f'<tr><td><a href="{name}/index.html">{name}</a></td><td class="num">{len(graded)}</td>'
                         f'<td class="num">{mean:.1f} / {report.outcome.max_score:g}</td>'
                         f'<td class="num">{_median([s.score for s in graded]):g}</td>'
                         f'<td class="num">{sum(s.score >= s.max_score for s in graded)}</td><td>{top_text}</td></tr>')
        parts.append("</tbody></table></section>")
        ranked = sorted(((r, m) for r in reports for m in r.mistakes), key=lambda rm: -len(rm[1].students))[:15]
        parts.append('<section id="mistakes"><h2>Mistakes of the course, most common first</h2><ol class="mistakes">')
        for report, mistake in ranked:
            total = len(report.graded)
            parts.append(f'<li><span class="count">{len(mistake.students)} of {total} students</span> in '
                         f"<b>{_e(report.outcome.assignment)}</b>, {_e(mistake.exercise)}: "
                         f"<code>{_e(mistake.code)}</code>. {_e(mistake.cause)}</li>")
        parts.append("</ol></section>")
        head = "".join(f'<th class="num">{_e(r.outcome.assignment.split("_", 1)[0])}</th>' for r in reports)
        parts.append(f'<section id="students"><h2>Students</h2><table><thead><tr><th>student</th>{head}'
                     '<th class="num">total</th></tr></thead><tbody>')
        by_student = {r.outcome.assignment: {s.student: s for s in r.outcome.students} for r in reports}
        for student in students:
            tds, total, most = [], 0.0, 0.0
            for report in reports:
                outcome = by_student[report.outcome.assignment].get(student)
                most += report.outcome.max_score
                if outcome is None or not outcome.submitted:
                    tds.append('<td class="num none">-</td>')
                    continue
                total += outcome.score
                css = "ok" if outcome.score >= outcome.max_score else ("lost" if outcome.score == 0 else "")
                tds.append(f'<td class="num {css}">{outcome.score:g}</td>')
            parts.append(f"<tr><td>{_e(student)}</td>{''.join(tds)}<td class=\"num\"><b>{total:g}</b> / "
                         f"{most:g}</td></tr>")
        parts.append("</tbody></table></section>")
    else:
        parts.append('<p class="none">No assignment has been graded yet.</p>')
    parts += ['<p class="meta">Files: <a href="scores.csv">scores.csv</a>, <a href="mistakes.csv">mistakes.csv</a>.'
              "</p>", "</main></body></html>"]
    return "\n".join(parts)


def _head(title: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{_e(title)}</title>'
            f"<style>{CSS}</style></head><body>")


def _number(value: str, label: str) -> str:
    return f"<div><b>{_e(value)}</b><span>{_e(label)}</span></div>"


def _median(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.0f}%" if whole else "-"


def _num(value: float) -> str:
    return f"{value:g}"


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)


# --- writing ------------------------------------------------------------------------------------

@dataclass
class Written:
    """What a report run wrote."""

    page: Path
    files: list[Path]
    seconds: float
    graded: int
    mistakes: int


def _course_id(root: Path) -> str:
    from autograder.grading import settings

    return str(settings.load_config(root).CourseDirectory.get("course_id", ""))


def _feedback_links(root: Path, report: Report, out: Path) -> dict[str, str]:
    from autograder.grading import settings

    config = settings.load_config(root)
    feedback = root / str(config.CourseDirectory.get("feedback_directory", "feedback"))
    notebooks = list(dict.fromkeys(nb for nb, _, _ in report.outcome.cells))
    links = {}
    for student in report.graded:
        for notebook in notebooks[:1]:
            page = feedback / student.student / report.outcome.assignment / f"{notebook}.html"
            if page.exists():
                links[student.student] = Path(os.path.relpath(page, out)).as_posix()
    return links


def write_assignment(root: Path, assignment: str, out: Path | None = None, course: str | None = None) -> Written:
    """Write the assignment's report into ``out`` (default ``<root>/reports/<assignment>``)."""
    started = time.perf_counter()
    root = Path(root).resolve()
    out = Path(out or root / "reports" / assignment).resolve()
    out.mkdir(parents=True, exist_ok=True)
    report = analyse(read_assignment(root, assignment), _course_id(root) if course is None else course)
    page = out / "index.html"
    page.write_text(assignment_html(report, _feedback_links(root, report, out)), encoding="utf-8")
    write_scores_csv(report, out / "scores.csv")
    write_mistakes_csv(mistake_rows(report), out / "mistakes.csv")
    return Written(page, [out / "scores.csv", out / "mistakes.csv"], time.perf_counter() - started,
                   len(report.graded), len(report.mistakes))


def write_course(root: Path, out: Path | None = None) -> Written:
    """Write the course report (and each graded assignment's) into ``out`` (default ``<root>/reports/course``)."""
    from autograder.course import load_course

    started = time.perf_counter()
    root = Path(root).resolve()
    out = Path(out or root / "reports" / "course").resolve()
    out.mkdir(parents=True, exist_ok=True)
    course = _course_id(root)
    reports: list[Report] = []
    students: set[str] = set()
    for assignment in load_course(root).assignments:
        try:
            outcome = read_assignment(root, assignment)
        except NotGraded:
            continue
        if not outcome.submitted:
            continue
        report = analyse(outcome, course)
        reports.append(report)
        students.update(s.student for s in outcome.students)
        folder = out / assignment
        folder.mkdir(exist_ok=True)
        (folder / "index.html").write_text(assignment_html(report, _feedback_links(root, report, folder)),
                                           encoding="utf-8")
        write_scores_csv(report, folder / "scores.csv")
        write_mistakes_csv(mistake_rows(report), folder / "mistakes.csv")
    page = out / "index.html"
    page.write_text(course_html(reports, sorted(students), course), encoding="utf-8")
    with open(out / "scores.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *[r.outcome.assignment for r in reports], "total", "max_score"])
        for student in sorted(students):
            row, total, most = [], 0.0, 0.0
            for report in reports:
                found = next((s for s in report.outcome.students if s.student == student and s.submitted), None)
                most += report.outcome.max_score
                row.append(_num(found.score) if found else "")
                total += found.score if found else 0.0
            writer.writerow([student, *row, _num(total), _num(most)])
    write_mistakes_csv([row for r in reports for row in mistake_rows(r)], out / "mistakes.csv")
    return Written(page, [out / "scores.csv", out / "mistakes.csv"], time.perf_counter() - started,
                   sum(len(r.graded) for r in reports), sum(len(r.mistakes) for r in reports))
