"""Mutation testing of the judges: weaken each check, and see whether a test notices.

For every assignment it mutates the verdict code (``kit/coursekit/checks/<module>/diagnose*.py``
and ``autograder/judges/<module>.py``) one site at a time, runs that assignment's unit tests
(``tests/test_checks_<module>.py``, not the slow ones) against the mutant, and counts the
mutant *killed* when a test fails. It prints a table per module, the kill rate, and every
survivor with its line, so each can be read and either tested or explained.

Mutation operators (the weakenings the course cares about):

- ``compare``: a comparison flipped (``==``/``!=``, ``<``/``>=``, ``in``/``not in``, ...);
- ``boolean``: ``and``/``or`` swapped, a ``not`` dropped;
- ``tolerance``: an ``rtol``/``atol``/``tol`` argument multiplied by 1000;
- ``skip``: a call of ``fail``/``expect``/``expect_*``/``raised_message`` removed (the check skipped);
- ``never``: the condition of an ``if`` whose body fails the check replaced by ``False``.

Each worker grades mutants in its own copy of the repository (run with PYTHONPATH pointing
at the copy, so the project's editable installs are shadowed), so mutants run in parallel.

    .venv/bin/python benchmarks/mutation.py [--module tensors ...] [--jobs 2] [--limit N]

(mutmut 3 and cosmic-ray were the first choice; both mutate a copy of the tree and rely on
the copy being imported, which the project's two editable installs (``autograder`` and the
kit under ``kit/``) defeat without a custom import set-up. This script is the few operators
above over ``ast``, which is all the issue needs.)
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import copy
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "kit"))
from coursekit.assignments import ASSIGNMENTS  # noqa: E402

_FLIP = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt,
         ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
_CHECKS = ("fail", "expect", "raised_message")
_TOLERANCES = ("rtol", "atol", "tol", "rel_tol", "abs_tol")


@dataclass(frozen=True)
class Mutant:
    path: str  # relative to the repository
    line: int
    operator: str
    index: int  # which site of that operator in the file
    text: str  # what was changed, in words


def _is_check_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
    return name in _CHECKS or name.startswith("expect_")


def _fails(body: list[ast.stmt]) -> bool:
    return any(isinstance(s, ast.Expr) and _is_check_call(s.value) or isinstance(s, ast.Raise) for s in body)


class _Sites(ast.NodeVisitor):
    """Every mutation site of a module, in a stable order."""

    def __init__(self) -> None:
        self.sites: list[tuple[str, ast.AST, str]] = []

    def visit_Compare(self, node: ast.Compare) -> None:
        if type(node.ops[0]) in _FLIP:
            self.sites.append(("compare", node, f"{type(node.ops[0]).__name__} flipped"))
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        self.sites.append(("boolean", node, "and/or swapped"))
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not):
            self.sites.append(("boolean", node, "not dropped"))
        self.generic_visit(node)

    def visit_keyword(self, node: ast.keyword) -> None:
        if node.arg in _TOLERANCES:
            self.sites.append(("tolerance", node, f"{node.arg} x1000"))
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        if _is_check_call(node.value):
            self.sites.append(("skip", node, "check call removed"))
        self.generic_visit(node)

    def visit_If(self, node: ast.If) -> None:
        if _fails(node.body):
            self.sites.append(("never", node, "failing branch never taken"))
        self.generic_visit(node)


def sites(tree: ast.Module) -> list[tuple[str, ast.AST, str]]:
    visitor = _Sites()
    visitor.visit(tree)
    return visitor.sites


def mutate(source: str, index: int) -> str:
    """The module's source with site ``index`` mutated."""
    tree = ast.parse(source)
    operator, node, _ = sites(tree)[index]
    if operator == "compare":
        node.ops[0] = _FLIP[type(node.ops[0])]()
    elif operator == "boolean" and isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif operator == "boolean":
        node.__class__, node.__dict__ = ast.Call, {  # not x  ->  bool(x)
            "func": ast.Name("bool", ast.Load()), "args": [node.operand], "keywords": [],
            "lineno": node.lineno, "col_offset": node.col_offset}
    elif operator == "tolerance":
        node.value = ast.BinOp(copy.deepcopy(node.value), ast.Mult(), ast.Constant(1000))
    elif operator == "skip":
        node.value = ast.Constant(None)
    elif operator == "never":
        node.test = ast.Constant(False)
    return ast.unparse(ast.fix_missing_locations(tree))


def targets(module: str) -> list[Path]:
    kit = sorted((ROOT / "kit" / "coursekit" / "checks" / module).glob("diagnose*.py"))
    judge = ROOT / "autograder" / "judges" / f"{module}.py"
    return [p for p in [*kit, judge] if p.exists()]


def mutants_of(path: Path) -> list[Mutant]:
    found = sites(ast.parse(path.read_text()))
    rel = str(path.relative_to(ROOT))
    return [Mutant(rel, getattr(node, "lineno", 0), op, i, text) for i, (op, node, text) in enumerate(found)]


def _workspace(parent: Path, number: int) -> Path:
    work = parent / f"worker{number}"
    shutil.copytree(ROOT, work, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "source", "release",
                                                              "sample-course", "test-artifacts", "mutants"))
    return work


def run_tests(work: Path, module: str, timeout: float) -> str:
    """'killed', 'survived' or 'timeout' (counted as killed) for the tree in ``work``."""
    env = {**os.environ, "PYTHONPATH": f"{work / 'kit'}{os.pathsep}{work}", "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m",
                               "not slow", f"tests/test_checks_{module}.py"], cwd=work, env=env,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout"
    if done.returncode == 5 or "no tests ran" in done.stdout:
        return "no tests"
    return "survived" if done.returncode == 0 else "killed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--module", action="append", help="assignment module (default: all with unit tests)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="at most this many mutants per module (evenly spread)")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args(argv)
    modules = args.module or [a.module for a in ASSIGNMENTS if (ROOT / "tests" / f"test_checks_{a.module}.py").exists()]
    plan: list[tuple[str, Mutant]] = []
    for module in modules:
        found = [m for path in targets(module) for m in mutants_of(path)]
        if args.limit and len(found) > args.limit:
            step = len(found) / args.limit
            found = [found[int(i * step)] for i in range(args.limit)]
        plan += [(module, m) for m in found]
    print(f"{len(plan)} mutants over {', '.join(modules)}; {args.jobs} workers", flush=True)
    started = time.monotonic()
    outcomes: dict[Mutant, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        works = [_workspace(Path(tmp), n) for n in range(args.jobs)]
        free = list(works)

        def one(item: tuple[str, Mutant]) -> tuple[Mutant, str]:
            module, mutant = item
            work = free.pop()
            try:
                target = work / mutant.path
                original = target.read_text()
                target.write_text(mutate(original, mutant.index))
                try:
                    return mutant, run_tests(work, module, args.timeout)
                finally:
                    target.write_text(original)
            finally:
                free.append(work)

        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            for mutant, outcome in pool.map(one, plan):
                outcomes[mutant] = outcome
                print(f"  {outcome:8} {mutant.path}:{mutant.line} {mutant.operator}: {mutant.text}", flush=True)
    print(f"\n{'module':16} {'mutants':>8} {'killed':>8} {'survived':>9} {'kill rate':>10}")
    total_killed = total = 0
    for module in modules:
        mine = [o for (m, o) in outcomes.items() if any(m is x for mod, x in plan if mod == module)]
        killed = sum(o in ("killed", "timeout") for o in mine)
        counted = sum(o != "no tests" for o in mine)
        total_killed, total = total_killed + killed, total + counted
        rate = f"{100 * killed / counted:.0f}%" if counted else "-"
        print(f"{module:16} {counted:>8} {killed:>8} {counted - killed:>9} {rate:>10}")
    if total:
        print(f"{'all':16} {total:>8} {total_killed:>8} {total - total_killed:>9} {100 * total_killed / total:>9.0f}%")
    print(f"({time.monotonic() - started:.0f} s)")
    survivors = [m for m, o in outcomes.items() if o == "survived"]
    if survivors:
        print("\nsurvivors:")
        for m in survivors:
            print(f"  {m.path}:{m.line} {m.operator}: {m.text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
