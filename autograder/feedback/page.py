"""A :class:`~autograder.feedback.model.NotebookFeedback` as one self-contained HTML page.

Everything is escaped: code and outputs are text, markdown is rendered with raw HTML
escaped and unsafe links dropped, images are ``<img>`` data URIs (an SVG's scripts never
run). The page needs no network and no JavaScript.
"""

from __future__ import annotations

import html
from functools import lru_cache

from autograder.feedback.model import Cell, Grade, NotebookFeedback, Output

CSS = """
:root { --ok: #1a7f37; --bad: #cf222e; --muted: #57606a; --line: #d0d7de; --code: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1f2328; background: #fff; }
.feedback { max-width: 980px; margin: 0 auto; padding: 1.5em 1.2em 4em; }
.feedback header h1 { font-size: 1.5em; margin: 0 0 .2em; }
.feedback .meta { color: var(--muted); margin: 0 0 1em; }
.feedback .total { font-size: 1.25em; font-weight: 600; }
.feedback table.summary { border-collapse: collapse; margin: .5em 0 1.5em; min-width: 50%; }
.feedback table.summary th, .feedback table.summary td { border-bottom: 1px solid var(--line); padding: .3em .8em;
       text-align: left; }
.feedback .cell { margin: 1em 0; }
.feedback .md { padding: 0 .2em; }
.feedback .md img { max-width: 100%; }
.feedback pre { margin: 0; padding: .6em .8em; overflow-x: auto; font: 13px/1.45 ui-monospace, SFMono-Regular,
       Menlo, Consolas, monospace; white-space: pre-wrap; word-break: break-word; }
.feedback .source pre { background: var(--code); border: 1px solid var(--line); border-radius: 6px; }
.feedback .solution .source pre { border-left: 4px solid #0969da; }
.feedback .out pre { border-left: 3px solid var(--line); }
.feedback .out pre.stderr { background: #fff8c5; }
.feedback .out pre.error { background: #ffebe9; border-left-color: var(--bad); }
.feedback .out p.note { color: var(--muted); font-style: italic; margin: .3em .8em; }
.feedback .out img { max-width: 100%; display: block; margin: .4em 0; }
.feedback details.test-code summary { cursor: pointer; color: var(--muted); font-size: .9em; }
.feedback .grade { border: 1px solid var(--line); border-left: 6px solid var(--ok); border-radius: 6px;
       padding: .5em .9em; margin-top: .4em; background: #f6fff8; }
.feedback .grade.lost { border-left-color: var(--bad); background: #fff7f7; }
.feedback .grade .head { font-weight: 600; }
.feedback .grade .head .pts { float: right; }
.feedback .message .what { margin: .4em 0 .2em; font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
       font-size: .92em; }
.feedback .message dl { display: grid; grid-template-columns: max-content 1fr; gap: .15em .8em; margin: .2em 0; }
.feedback .message dt { color: var(--muted); }
.feedback .message dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .92em;
       white-space: pre-wrap; word-break: break-word; }
.feedback .message dd.cause { font-family: inherit; font-size: 1em; }
.feedback .message .code { color: var(--muted); font-size: .85em; margin: .3em 0 0; }
.feedback .pass { color: var(--ok); } .feedback .fail { color: var(--bad); }
"""


def page(feedback: NotebookFeedback, course: str = "") -> str:
    """The whole HTML document."""
    title = f"{feedback.notebook}.ipynb: feedback for {feedback.student}"
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{_e(title)}</title>\n<style>{CSS}{_pygments_css()}</style>\n</head>\n<body>\n"
            f"{body(feedback, course)}\n</body>\n</html>\n")


def body(feedback: NotebookFeedback, course: str = "") -> str:
    """The page's content (one ``<div class="feedback">``), for embedding (nbgrader's own page)."""
    parts = ['<div class="feedback">', _header(feedback, course), '<div class="cells">']
    parts += [_cell(cell, feedback.level) for cell in feedback.cells]
    parts += ["</div>", "</div>"]
    return "\n".join(parts)


def style() -> str:
    """The ``<style>`` element :func:`body` needs."""
    return f"<style>{CSS}{_pygments_css()}</style>"


def _header(feedback: NotebookFeedback, course: str) -> str:
    lost = [g for g in feedback.grades if not g.passed]
    meta = " · ".join(_e(x) for x in (course, feedback.assignment, f"student {feedback.student}") if x)
    rows = []
    for grade in feedback.grades:
        mark = '<span class="pass">✓ passed</span>' if grade.passed else '<span class="fail">✗ lost points</span>'
        rows.append(f'<tr><td><a href="#{_e(grade.grade_id)}">{_e(grade.grade_id)}</a></td>'
                    f"<td>{_pts(grade.score)} / {_pts(grade.points)}</td><td>{mark}</td></tr>")
    intro = ("Every test passed." if not lost else
             f"{len(lost)} test{'s' if len(lost) > 1 else ''} lost points: the box under each says what was "
             "expected, what your code did, and the likely cause.")
    if feedback.level == "scores" and lost:
        intro = f"{len(lost)} test{'s' if len(lost) > 1 else ''} lost points."
    return (f'<header><h1>{_e(feedback.notebook)}.ipynb</h1><p class="meta">{meta}</p>'
            f'<p class="total">Score: {_pts(feedback.score)} / {_pts(feedback.max_score)}</p>'
            f"<p>{_e(intro)} Tests also run on data you have not seen, so write general code, "
            "not code that fits the notebook's numbers.</p>"
            '<table class="summary"><thead><tr><th>test</th><th>score</th><th></th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table></header>")


def _cell(cell: Cell, level: str) -> str:
    classes = ["cell", cell.kind] + (["solution"] if cell.solution else [])
    anchor = f' id="{_e(cell.grade.grade_id)}"' if cell.grade is not None else ""
    parts = [f'<div class="{" ".join(classes)}"{anchor}>']
    if cell.kind == "markdown":
        parts.append(f'<div class="md">{_markdown(cell.source)}</div>')
    elif cell.kind == "raw":
        parts.append(f'<div class="source"><pre>{_e(cell.source)}</pre></div>')
    elif cell.show_source and cell.source.strip():
        code = f'<div class="source">{_code(cell.source)}</div>'
        if cell.collapsed:
            code = f'<details class="test-code"><summary>the visible test code</summary>{code}</details>'
        parts.append(code)
    if cell.outputs:
        parts.append('<div class="out">' + "".join(_output(o) for o in cell.outputs) + "</div>")
    if cell.grade is not None:
        parts.append(_grade(cell.grade, level))
    parts.append("</div>")
    return "".join(parts)


def _output(output: Output) -> str:
    if output.kind == "image":
        return f'<img alt="a plot from your notebook" src="data:{output.mime};base64,{output.data}">'
    if output.kind == "note":
        return f'<p class="note">{_e(output.text)}</p>'
    css = {"stderr": "stderr", "error": "error"}.get(output.kind, "")
    return f'<pre class="{css}">{_e(output.text)}</pre>'


def _grade(grade: Grade, level: str) -> str:
    if grade.passed:
        head = f'<span class="pass">✓ {_e(grade.grade_id)} passed</span>'
    else:
        head = f'<span class="fail">✗ {_e(grade.grade_id)}: lost {_pts(grade.points - grade.score)} ' \
               f'point{"s" if grade.points - grade.score != 1 else ""}</span>'
    parts = [f'<div class="grade{"" if grade.passed else " lost"}"><div class="head">{head}'
             f'<span class="pts">{_pts(grade.score)} / {_pts(grade.points)}</span></div>']
    message = grade.message
    if message is not None and level != "scores":
        rows = [("expected", message.expected, ""), ("found", message.found, ""),
                ("likely cause", message.cause, "cause")]
        parts.append(f'<div class="message"><p class="what">{_e(message.title)}</p><dl>'
                     + "".join(f'<dt>{label}</dt><dd class="{css}">{_e(value)}</dd>'
                               for label, value, css in rows if value) + "</dl>")
        if level == "full":
            parts.append(f'<p class="code">mistake code: {_e(message.code)}</p>')
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


def _pts(value: float) -> str:
    return f"{value:g}"


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)


@lru_cache(maxsize=4096)  # most cells are the same in every student's notebook
def _code(source: str) -> str:
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:  # pragma: no cover - nbconvert brings pygments
        return f"<pre>{_e(source)}</pre>"
    return highlight(source, PythonLexer(), HtmlFormatter(cssclass="highlight", nowrap=False)).replace(
        '<div class="highlight"><pre>', "<pre class=\"highlight\">").replace("</pre></div>", "</pre>")


@lru_cache(maxsize=1)
def _pygments_css() -> str:
    try:
        from pygments.formatters import HtmlFormatter
    except ImportError:  # pragma: no cover
        return ""
    return HtmlFormatter(style="default").get_style_defs(".feedback .highlight")


@lru_cache(maxsize=1)
def _markdown_renderer():
    import mistune

    return mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])


@lru_cache(maxsize=4096)
def _markdown(source: str) -> str:
    try:
        return str(_markdown_renderer()(source))
    except Exception:  # noqa: BLE001 - a markdown cell that cannot be rendered is shown as text
        return f"<pre>{_e(source)}</pre>"
