"""Precompute the visible tests' expectations from the answer key, shipped as data in the kit.

Each instructor notebook runs once, in a fresh Python, without its hidden tests, with
``COURSEKIT_RECORD`` set: every visible check then asks the judge for its expectation
and records the case and the expectation. The records become
``kit/coursekit/expected/<module>.json``: plain JSON, keyed by check and case.

Usage: python -m autograder.studentkit.expectations ASSIGNMENT [...]
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from coursekit.assignments import ASSIGNMENTS, get

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_DIR = ROOT / "kit" / "coursekit" / "expected"
_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?", re.S | re.M)


def visible_code(notebook: Path) -> list[str]:
    """The code cells of an instructor notebook, hidden tests left out."""
    nb = json.loads(notebook.read_text())
    cells = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cells.append(_HIDDEN.sub("", source))
    return cells


def record(assignment: str) -> dict[str, Any]:
    """Run the assignment's instructor notebook (visible tests only) and return its expectations."""
    a = get(assignment)
    notebook = ROOT / "source" / a.name / f"{a.notebook}.ipynb"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "records.jsonl"
        script = Path(tmp) / "run.py"
        script.write_text(_RUNNER)
        env = {**os.environ, "COURSEKIT_RECORD": str(out), "MPLBACKEND": "Agg"}
        cells = json.dumps(visible_code(notebook))
        done = subprocess.run([sys.executable, str(script)], input=cells, text=True, env=env,
                              cwd=notebook.parent, capture_output=True)
        if done.returncode != 0:
            raise RuntimeError(f"{assignment}: the instructor notebook failed while recording:\n{done.stderr[-3000:]}")
        entries = {}
        for line in out.read_text().splitlines() if out.exists() else []:
            item = json.loads(line)
            entries[item.pop("key")] = item
    return dict(sorted(entries.items()))


_RUNNER = '''
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
plt.show = lambda *a, **k: None
cells = json.loads(sys.stdin.read())
namespace = {"__name__": "__main__"}
for number, source in enumerate(cells):
    if any(line.lstrip().startswith(("%", "!")) for line in source.splitlines()):
        continue
    exec(compile(source, f"<cell {number}>", "exec"), namespace)
    plt.close("all")
'''


def path_for(assignment: str) -> Path:
    return EXPECTED_DIR / f"{get(assignment).module}.json"


def write(assignment: str) -> Path:
    """Record and write the assignment's expectations file."""
    path = path_for(assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = record(assignment)
    lines = [f"{json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in entries.items()]
    path.write_text("{\n" + ",\n".join(lines) + "\n}\n")  # one case a line: reviewable diffs
    return path


def main(argv: list[str]) -> int:
    for assignment in argv or [a.name for a in ASSIGNMENTS]:
        print(f"{assignment}: {write(assignment).relative_to(ROOT)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
