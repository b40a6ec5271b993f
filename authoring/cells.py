"""Small builders for nbgrader cells, so notebooks are written as Python, reviewed as diffs."""

from __future__ import annotations

import ast
import copy
import hashlib
import inspect
from textwrap import dedent

import nbformat
from nbformat.notebooknode import NotebookNode

SCHEMA_VERSION = 3


def _text(source: str) -> str:
    return dedent(source).strip("\n")


def md(source: str) -> NotebookNode:
    """A markdown cell of prose."""
    return nbformat.v4.new_markdown_cell(_text(source))


def code(source: str) -> NotebookNode:
    """An ordinary code cell the student may run and change (demos, plots)."""
    return nbformat.v4.new_code_cell(_text(source))


def _nbgrader(cell: NotebookNode, grade_id: str, *, grade: bool, solution: bool, locked: bool,
              points: float | None = None) -> NotebookNode:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": SCHEMA_VERSION,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    cell.metadata["nbgrader"] = meta
    cell.id = grade_id.replace("_", "-")
    return cell


def setup(grade_id: str, source: str) -> NotebookNode:
    """A read-only code cell (imports, data); nbgrader restores it if it is changed."""
    return _nbgrader(code(source), grade_id, grade=False, solution=False, locked=True)


def solution(grade_id: str, source: str) -> NotebookNode:
    """A solution cell: the code between ### BEGIN/END SOLUTION becomes nbgrader's stub."""
    return _nbgrader(code(source), grade_id, grade=False, solution=True, locked=False)


def grade(grade_id: str, points: float, source: str) -> NotebookNode:
    """A locked grade cell with visible tests and, between markers, hidden tests."""
    return _nbgrader(code(source), grade_id, grade=True, solution=False, locked=True, points=points)


def notebook(cells: list[NotebookNode]) -> NotebookNode:
    """A notebook with the course's Python 3 kernel."""
    nb = nbformat.v4.new_notebook()
    seen: set[str] = set()
    for cell in cells:  # ids from content, not random: a rebuild changes only what changed
        if "nbgrader" not in cell.metadata:
            digest = hashlib.sha1(cell.source.encode()).hexdigest()
            cell.id = next(digest[i:i + 8] for i in range(0, 33) if digest[i:i + 8] not in seen)
        seen.add(cell.id)
    nb.cells = cells
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nb


def _signature(node: ast.FunctionDef) -> str:
    """``def name(args):`` without type hints (the notebook teaches before it types)."""
    args = copy.deepcopy(node.args)
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
        if arg is not None:
            arg.annotation = None
    return f"def {node.name}({ast.unparse(args)}):"


def _function_stub(node: ast.FunctionDef, lines: list[str], indent: str) -> list[str]:
    """A function's header, docstring and body, the body between the solution markers."""
    body = node.body
    doc = ast.get_docstring(node)
    out = [indent + _signature(node)]
    inner = indent + "    "
    if doc is not None:
        out.append(inner + '"""' + doc.replace("\n", "\n" + inner).replace(inner + "\n", "\n") + '"""')
        body = body[1:]
    out.append(f"{inner}### BEGIN SOLUTION")
    start, end = body[0].lineno - 1, node.end_lineno
    out.extend(lines[start:end])
    out.append(f"{inner}### END SOLUTION")
    return out


def solution_from(obj: object, grade_id: str | None = None) -> NotebookNode:
    """A solution cell whose answer *is* the reference ``obj`` (a function, or a class whose methods
    each become a stub): each solution is written once, in ``autograder.reference``."""
    lines = dedent(inspect.getsource(obj)).splitlines()
    node = ast.parse("\n".join(lines)).body[0]
    if isinstance(node, ast.FunctionDef):
        out = _function_stub(node, lines, "")
    elif isinstance(node, ast.ClassDef):
        bases = ", ".join(ast.unparse(b) for b in node.bases)
        out = [f"class {node.name}({bases}):" if bases else f"class {node.name}:"]
        body = node.body
        doc = ast.get_docstring(node)
        if doc is not None:
            out.append(f'    """{doc}"""')
            body = body[1:]
        for item in body:
            out.append("")
            if isinstance(item, ast.FunctionDef):
                out.extend(_function_stub(item, lines, "    "))
            else:
                out.extend(lines[item.lineno - 1:item.end_lineno])
        if out[1:2] == [""]:
            del out[1]
    else:
        raise TypeError(f"solution_from needs a function or a class, not {type(node).__name__}")
    return solution(grade_id or node.name, "\n".join(out))
