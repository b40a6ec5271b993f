"""Grade one class with stock ``nbgrader autograde`` and with ``autograder grade``; compare.

    .venv/bin/python benchmarks/bench_grade.py [--assignment 03_single_neuron] [--students 24]

Builds a temporary course with N submissions (the instructor's notebook and the
test corpus's known mistakes, round-robin), grades a copy with each tool, one
after the other, and prints both wall times, their ratio, and the floor: the
time one warm Python process (torch already imported) takes to run the same
notebooks' code. Exits 1 when any per-cell score differs between the two tools.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.course import NOTEBOOKS  # noqa: E402
from autograder.grading.gradebook import cell_scores  # noqa: E402
from autograder.grading.nbgrader_commands import generate_assignment, new_course  # noqa: E402


def build_class(workdir: Path, assignment: str, students: int,
                extra_cells: Callable[[int], list[str]] | None = None) -> Path:
    """A course at ``workdir`` with ``students`` submissions of ``assignment``; ``extra_cells(n)``:
    code cells put into student n's notebook after its first cell."""
    import nbformat

    from tests.corpus import Submission, build_notebook

    course = new_course(workdir, ROOT, [assignment])
    generate_assignment(course, assignment)
    notebook = f"{NOTEBOOKS[assignment]}.ipynb"
    source = nbformat.read(course / "source" / assignment / notebook, as_version=4)
    try:
        from tests.corpus.registry import submissions_for

        variants = [Submission("reference", {}), *submissions_for(assignment)]
    except (ImportError, KeyError):
        variants = [Submission("reference", {})]
    for number in range(students):
        variant = variants[number % len(variants)]
        folder = course / "submitted" / f"s{number:03d}" / assignment
        folder.mkdir(parents=True)
        nb = build_notebook(source, variant)
        nb.cells[1:1] = [nbformat.v4.new_code_cell(code) for code in (extra_cells(number) if extra_cells else [])]
        nbformat.write(nb, folder / notebook)
    return course


def timed(command: list[str], cwd: Path) -> float:
    """Wall seconds of ``command``; raises when it fails."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"`{' '.join(command)}` failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return seconds


FLOOR_SCRIPT = r"""
import contextlib, io, json, sys, time
import matplotlib; matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
torch.set_num_threads(1)
notebooks = json.loads(sys.stdin.read())
def run(cells):
    ns = {"__name__": "__main__"}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for source in cells:
            try:
                exec(compile(source, "<cell>", "exec"), ns)
            except BaseException:
                pass
    plt.close("all")
run(notebooks[0])  # warm-up: lazy imports paid once, as the grader's workers do
start = time.perf_counter()
for cells in notebooks:
    run(cells)
print(time.perf_counter() - start)
"""


def floor_seconds(course: Path, assignment: str) -> float:
    """Seconds one warm process (one thread) takes to run every submission's code cells."""
    notebooks = []
    for path in sorted((course / "submitted").glob(f"*/{assignment}/*.ipynb")):
        nb = json.loads(path.read_text())
        notebooks.append(["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                          for c in nb["cells"] if c["cell_type"] == "code"
                          and not any(line.lstrip().startswith(("%", "!"))
                                      for line in "".join(c["source"]).splitlines())])
    done = subprocess.run([sys.executable, "-c", FLOOR_SCRIPT], input=json.dumps(notebooks), cwd=course,
                          capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", default="03_single_neuron")
    parser.add_argument("--students", type=int, default=24)
    parser.add_argument("--workers", type=int, default=0, help="autograder grade --workers (0: one per core)")
    parser.add_argument("--keep", type=Path, help="build the courses here and keep them")
    args = parser.parse_args()
    source = ROOT / "source" / args.assignment / f"{NOTEBOOKS.get(args.assignment, '?')}.ipynb"
    if not source.exists():
        built = [a for a, n in NOTEBOOKS.items() if (ROOT / "source" / a / f"{n}.ipynb").exists()]
        print(f"{source.relative_to(ROOT)} does not exist yet; choose another with --assignment "
              f"(built: {', '.join(built) or 'none'})", file=sys.stderr)
        return 2
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-grade-"))
    if args.keep and base.exists():
        shutil.rmtree(base)
    print(f"building a class of {args.students} submissions of {args.assignment} in {base} ...", flush=True)
    stock_course = build_class(base / "stock", args.assignment, args.students)
    fast_course = base / "fast"
    shutil.copytree(stock_course, fast_course)

    print("stock nbgrader autograde ...", flush=True)
    stock = timed([sys.executable, "-m", "nbgrader", "autograde", args.assignment, "--force"], stock_course)
    print(f"  {stock:.1f} s", flush=True)
    print("autograder grade ...", flush=True)
    command = [sys.executable, "-m", "autograder.cli.main", "grade", args.assignment, "--root", str(fast_course),
               "--force"]
    if args.workers:
        command += ["--workers", str(args.workers)]
    fast = timed(command, ROOT)
    print(f"  {fast:.1f} s", flush=True)
    print("floor (one warm process) ...", flush=True)
    floor = floor_seconds(stock_course, args.assignment)

    students = sorted(p.name for p in (stock_course / "submitted").iterdir())
    mismatches = []
    for student in students:
        a = cell_scores(f"sqlite:///{stock_course / 'gradebook.db'}", args.assignment, student)
        b = cell_scores(f"sqlite:///{fast_course / 'gradebook.db'}", args.assignment, student)
        if a != b:
            mismatches.append((student, a, b))
    cores = os.cpu_count() or 1
    print()
    print(f"submissions            {len(students)} of {args.assignment} ({cores} cores)")
    print(f"stock nbgrader         {stock:8.1f} s   {stock / len(students):.2f} s per submission")
    print(f"autograder grade       {fast:8.1f} s   {fast / len(students):.2f} s per submission")
    print(f"speed-up               {stock / fast:8.1f} x")
    print(f"floor (1 warm process) {floor:8.1f} s   ({floor / cores:.1f} s spread over {cores} cores)")
    print(f"per-cell scores        {'identical' if not mismatches else f'{len(mismatches)} DIFFER'}")
    for student, a, b in mismatches:
        print(f"  {student}: stock {a} / autograder {b}")
    if not args.keep:
        with contextlib.suppress(OSError):
            shutil.rmtree(base)
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
