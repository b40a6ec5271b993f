"""The project's contract, docs/contract.md, against the notebooks in source/ and release/.

Every assignment, notebook, solution cell (the names it defines, with their signatures),
grade cell and point count of the contract must be in ``source/`` and ``release/``; the
release holds no solution and no hidden test; every assignment that the course lists
(``kit/coursekit/assignments.py``, ``nbgrader_config.py``) is in the contract. An
assignment whose source notebook does not exist yet is skipped, with the reason.

Also here: no file of the project links outside the repository (the contract used to live
in a folder beside it, which a clone does not have).
"""

from __future__ import annotations

import ast
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from autograder.course import load_course
from coursekit.assignments import ASSIGNMENTS
from tests.conftest import ROOT

CONTRACT = ROOT / "docs" / "contract.md"
HEADING = re.compile(r"^## (\d\d_\w+) — `([\w.]+)\.ipynb`\s*$")


@dataclass
class Section:
    """One assignment's part of the contract."""

    assignment: str
    notebook: str
    defines: dict[str, list[str]] = field(default_factory=dict)  # solution cell -> its signatures
    points: dict[str, float] = field(default_factory=dict)  # grade cell -> points


def _row(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _signatures(text: str) -> list[str]:
    """The signatures of a `defines` cell: `f(x) -> T`, or several in backticks."""
    return re.findall(r"`([^`]+)`", text)


def parse_contract(text: str) -> dict[str, Section]:
    sections: dict[str, Section] = {}
    section = None
    header: list[str] = []
    for line in text.splitlines():
        heading = HEADING.match(line)
        if heading:
            section = sections[heading[1]] = Section(heading[1], heading[2])
            header = []
            continue
        if line.startswith("## "):
            section = None
        if section is None or not line.startswith("|"):
            header = [] if not line.startswith("|") else header
            continue
        row = _row(line)
        if not header:
            header = row
            continue
        if set("".join(row)) <= set("-: "):
            continue
        name = row[0].strip("`")
        if header[:2] == ["solution cell", "defines"]:
            section.defines[name] = _signatures(row[1])
        elif header[:2] == ["grade cell", "points"]:
            section.points[name] = float(row[1])
    return sections


SECTIONS = parse_contract(CONTRACT.read_text(encoding="utf-8"))
COURSE_ASSIGNMENTS = list(dict.fromkeys([a.name for a in ASSIGNMENTS] + load_course(ROOT).assignments))


def _notebook(folder: str, section: Section) -> nbformat.NotebookNode:
    path = ROOT / folder / section.assignment / f"{section.notebook}.ipynb"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: the contract names it"
    return nbformat.read(path, as_version=4)


def _cells(nb: nbformat.NotebookNode, kind: str) -> dict[str, nbformat.NotebookNode]:
    """grade_id -> cell, for the solution cells ("solution") or the grade cells ("grade")."""
    found = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get(kind) and meta.get("grade_id"):
            found[meta["grade_id"]] = cell
    return found


def _source_or_skip(assignment: str) -> Section:
    section = SECTIONS[assignment]
    if not (ROOT / "source" / assignment / f"{section.notebook}.ipynb").exists():
        pytest.skip(f"{assignment}: its source notebook does not exist yet (the contract is ahead of it)")
    return section


def _signature(node: ast.FunctionDef | ast.ClassDef) -> tuple:
    """What a signature promises: the name, and the parameters with defaults (or the bases of a class)."""
    if isinstance(node, ast.ClassDef):
        return ("class", node.name, tuple(ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases))
    args = node.args
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + [ast.unparse(d) for d in args.defaults]
    params = [(a.arg, d) for a, d in zip(positional, defaults, strict=True)]
    if args.vararg:
        params.append(("*" + args.vararg.arg, None))
    params += [(a.arg, ast.unparse(d) if d else None) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)]
    if args.kwarg:
        params.append(("**" + args.kwarg.arg, None))
    return ("def", node.name, tuple(params))


def _contract_signature(text: str) -> tuple:
    code = f"{text}: pass" if text.startswith("class ") else f"def {text}: pass"
    return _signature(ast.parse(code).body[0])


def _defined(source: str) -> dict[str, tuple]:
    """name -> signature of every function and class the cell defines at its top level."""
    tree = ast.parse(source)
    return {node.name: _signature(node) for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def _show(signature: tuple) -> str:
    kind, name, rest = signature
    if kind == "class":
        return f"class {name}({', '.join(rest)})"
    return f"{name}(" + ", ".join(p if d is None else f"{p}={d}" for p, d in rest) + ")"


# --- the contract itself ----------------------------------------------------------------


def test_the_contract_parses_into_sections_with_ten_points_each():
    assert SECTIONS, f"no assignment sections found in {CONTRACT}"
    for section in SECTIONS.values():
        assert section.defines, f"{section.assignment}: no solution-cell table"
        assert section.points, f"{section.assignment}: no grade-cell table"
        assert sum(section.points.values()) == 10, f"{section.assignment}: points add up to {section.points}"
        for cell, signatures in section.defines.items():
            assert signatures, f"{section.assignment}/{cell}: the defines column names no signature"
            for text in signatures:
                _contract_signature(text)  # raises SyntaxError on a malformed signature


@pytest.mark.parametrize("assignment", COURSE_ASSIGNMENTS)
def test_every_assignment_of_the_course_is_in_the_contract(assignment):
    if assignment in SECTIONS:
        registry = {a.name: a.notebook for a in ASSIGNMENTS}
        assert registry.get(assignment) == SECTIONS[assignment].notebook, (
            f"{assignment}: kit/coursekit/assignments.py names notebook {registry.get(assignment)!r}, "
            f"docs/contract.md names {SECTIONS[assignment].notebook!r}")
        return
    folder = ROOT / "source" / assignment
    if not folder.exists():
        pytest.skip(f"{assignment} is listed by the course but neither written nor in the contract yet")
    pytest.fail(f"{assignment} has a source folder and is listed by the course, but docs/contract.md has no "
                f"section for it")


def test_the_course_lists_every_assignment_of_the_contract():
    config = load_course(ROOT).assignments
    registry = [a.name for a in ASSIGNMENTS]
    for assignment in SECTIONS:
        assert assignment in registry, f"{assignment} is in the contract but not in kit/coursekit/assignments.py"
        assert assignment in config, f"{assignment} is in the contract but not in nbgrader_config.py"
    assert config == registry, "nbgrader_config.py and kit/coursekit/assignments.py list different assignments"


# --- the notebooks against it -----------------------------------------------------------


@pytest.mark.parametrize("assignment", list(SECTIONS))
def test_each_assignment_folder_holds_its_one_notebook(assignment):
    section = _source_or_skip(assignment)
    for folder in ("source", "release"):
        notebooks = sorted(p.name for p in (ROOT / folder / assignment).glob("*.ipynb"))
        assert notebooks == [f"{section.notebook}.ipynb"], f"{folder}/{assignment} holds {notebooks}"


@pytest.mark.parametrize("folder", ["source", "release"])
@pytest.mark.parametrize("assignment", list(SECTIONS))
def test_solution_cells_define_the_contracts_names_and_signatures(assignment, folder):
    section = _source_or_skip(assignment)
    cells = _cells(_notebook(folder, section), "solution")
    assert set(cells) == set(section.defines), (
        f"{folder}/{assignment}: solution cells {sorted(cells)}, the contract has {sorted(section.defines)}")
    for grade_id, signatures in section.defines.items():
        expected = {s[1]: s for s in map(_contract_signature, signatures)}
        found = _defined(cells[grade_id].source)
        assert set(found) == set(expected), (
            f"{folder}/{assignment}, cell {grade_id}: defines {sorted(found)}, the contract says {sorted(expected)}")
        for name, signature in expected.items():
            assert found[name] == signature, (
                f"{folder}/{assignment}, cell {grade_id}: `{_show(found[name])}`, "
                f"the contract says `{_show(signature)}`")


@pytest.mark.parametrize("folder", ["source", "release"])
@pytest.mark.parametrize("assignment", list(SECTIONS))
def test_grade_cells_and_points_are_the_contracts(assignment, folder):
    section = _source_or_skip(assignment)
    cells = _cells(_notebook(folder, section), "grade")
    tests = {grade_id: cell for grade_id, cell in cells.items() if cell.cell_type == "code"}
    points = {grade_id: float(cell.metadata["nbgrader"].get("points", 0)) for grade_id, cell in tests.items()}
    assert points == section.points, (
        f"{folder}/{assignment}: grade cells and points {points}, the contract says {section.points}")
    for grade_id in section.points:
        assert tests[grade_id].metadata["nbgrader"].get("locked"), f"{folder}/{assignment}: {grade_id} is not locked"


def _stub_only(body: list[ast.stmt]) -> bool:
    """A body that is a docstring and ``raise NotImplementedError()`` (or nested stubs), nothing else."""
    for node in body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            continue
        if isinstance(node, ast.Raise) and "NotImplementedError" in ast.unparse(node):
            continue
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and _stub_only(node.body):
            continue
        if isinstance(node, ast.Pass):
            continue
        return False
    return True


@pytest.mark.parametrize("assignment", list(SECTIONS))
def test_the_release_holds_no_solution_and_no_hidden_test(assignment):
    section = _source_or_skip(assignment)
    nb = _notebook("release", section)
    for grade_id, cell in _cells(nb, "solution").items():
        tree = ast.parse(cell.source)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                assert _stub_only(node.body), (
                    f"release/{assignment}, cell {grade_id}: `{node.name}` has code beyond the stub:\n{cell.source}")
    for index, cell in enumerate(nb.cells):
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in cell.source, f"release/{assignment}, cell {index}: holds {marker}"
        if cell.cell_type == "code":
            assert not re.search(r"\b\w+_hidden\(", cell.source), (
                f"release/{assignment}, cell {index}: calls a hidden check:\n{cell.source}")


def test_the_contract_check_catches_a_wrong_signature():
    """The comparison itself: a renamed parameter, a lost default or a missing *args all show."""
    assert _defined("def f(x, lr=0.01):\n    pass")["f"] == _contract_signature("f(x, lr=0.01) -> float")
    assert _defined("def f(x, rate=0.01):\n    pass")["f"] != _contract_signature("f(x, lr=0.01) -> float")
    assert _defined("def f(x, lr):\n    pass")["f"] != _contract_signature("f(x, lr=0.01)")
    assert _defined("def f(f, values):\n    pass")["f"] != _contract_signature("f(f, *values) -> list[float]")
    assert _defined("class D(Dataset):\n    pass")["D"] == _contract_signature(
        "class D(torch.utils.data.Dataset)")
    assert not _stub_only(ast.parse("def f(x):\n    '''doc'''\n    return x").body[0].body)
    assert _stub_only(ast.parse("def f(x):\n    '''doc'''\n    raise NotImplementedError()").body[0].body)


# --- no link outside the repository ------------------------------------------------------

OUTSIDE = ".." + "/shared"  # spelled in two parts so that this file does not match itself
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _project_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def test_no_file_of_the_project_points_outside_the_repository():
    offenders = []
    for path in _project_files():
        if path.suffix in (".ipynb", ".png", ".whl", ".db") or path.stat().st_size > 2_000_000:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if OUTSIDE in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"these files point at {OUTSIDE}, which a clone does not have: {offenders}"


def test_every_relative_markdown_link_stays_inside_the_repository_and_exists():
    problems = []
    for path in _project_files():
        if path.suffix != ".md":
            continue
        for target in LINK.findall(path.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue  # a web address or an anchor
            resolved = (path.parent / target.split("#", 1)[0]).resolve()
            if ROOT not in resolved.parents and resolved != ROOT:
                problems.append(f"{path.relative_to(ROOT)}: {target} leaves the repository")
            elif not resolved.exists():
                problems.append(f"{path.relative_to(ROOT)}: {target} does not exist")
    assert not problems, "\n".join(problems)
