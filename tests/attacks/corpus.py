"""The attacks: each a submission, the scores it must get, and why.

Every attack pairs its trick with wrong answers for the cells it targets, so a
trick that worked would show up as points. ``honest_*`` students share the class
to show that the rest is graded normally.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

from tests.attacks.course import ASSIGNMENT, WRONG, answered, full, submit

__all__ = ["ASSIGNMENT", "ATTACKS", "Attack"]


@dataclass
class Attack:
    student: str
    expected: dict[str, float]
    build: Callable[[Path], nbformat.NotebookNode | str]
    why: str
    files: dict[str, str] = field(default_factory=dict)
    status: str | None = None  # expected Result.status, when it matters

    def write(self, root: Path) -> None:
        submit(root, self.student, self.build(root), self.files)


def edits(**cells: str) -> Callable[[Path], nbformat.NotebookNode]:
    return lambda root: answered(root, cells)


def _with_cell_after(grade_id: str, source: str, base: dict[str, str] | None = None):
    def build(root: Path) -> nbformat.NotebookNode:
        nb = answered(root, base)
        at = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
        nb.cells.insert(at + 1, new_code_cell(source.replace("{root}", str(root))))
        return nb
    return build


def _edit_test(grade_id: str, change: Callable[[nbformat.NotebookNode], None], base: dict[str, str]):
    def build(root: Path) -> nbformat.NotebookNode:
        nb = answered(root, base)
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
        change(cell)
        return nb
    return build


def _delete_test(grade_id: str, base: dict[str, str]):
    def build(root: Path) -> nbformat.NotebookNode:
        nb = answered(root, base)
        nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]
        return nb
    return build


def _append_fake(grade_id: str, points: float, base: dict[str, str]):
    def build(root: Path) -> nbformat.NotebookNode:
        nb = answered(root, base)
        meta = {"nbgrader": {"grade": True, "solution": False, "locked": False, "grade_id": grade_id,
                             "points": points, "schema_version": 3}}
        nb.cells.append(new_code_cell("pass", metadata=meta))
        return nb
    return build


def _set(cell: nbformat.NotebookNode, **meta: object) -> None:
    cell.metadata.nbgrader.update(meta)


def _source(text: str):
    def change(cell: nbformat.NotebookNode) -> None:
        cell.source = text
    return change


ATTACKS: list[Attack] = [
    Attack("honest_a", full(), edits(), "the instructor's answers"),
    Attack("honest_b", full(test_slope=0.0), edits(slope=WRONG["slope"]), "one honest mistake"),
    Attack("honest_warnings", full(), edits(double="import warnings\ndef double(t):\n"
                                            "    warnings.warn('slow path, a RuntimeWarning', RuntimeWarning)\n"
                                            "    return t + t"),
           "warnings (stderr) never cost points"),
    Attack("stderr_error", full(test_double=0.0),
           edits(double="import sys\ndef double(t):\n    print('oops', file=sys.stderr)\n    return t * 2"),
           "stderr that is not a warning costs the cell, as under stock nbgrader"),
    # --- monkeypatching ---
    Attack("patch_builtins_abs", full(test_slope=0.0),
           edits(slope="import builtins\nbuiltins.abs = lambda x: 0\ndef slope():\n    return 1.0"),
           "builtins.abs = lambda x: 0 passes `abs(w - 5.1) < 0.2`"),
    Attack("patch_builtins_during_test", full(test_slope=0.0),
           edits(slope="def slope():\n    import builtins\n    builtins.abs = lambda x: 0\n    return 1.0"),
           "patching builtins from inside the function under test"),
    Attack("patch_torch_allclose", full(test_double=0.0),
           edits(double="import torch\ntorch.allclose = lambda *a, **k: True\n"
                        "torch.Tensor.__eq__ = lambda a, b: True\ndef double(t):\n    return t"),
           "torch.allclose and Tensor.__eq__ always true"),
    Attack("patch_autograder_checks", full(test_double=0.0),
           edits(double="import coursekit.checks.expect as e\ne.expect_close = lambda *a, **k: None\n"
                        "e.expect = lambda *a, **k: None\ne.CheckFailed = type('X', (Exception,), {})\n"
                        "import torch\ntorch.allclose = lambda *a, **k: True\ndef double(t):\n    return t"),
           "replacing the course's check functions"),
    Attack("patch_code_object", full(test_double=0.0),
           edits(double="import coursekit.checks.expect as e\n"
                        "try:\n    e.expect_close.__code__ = (lambda *a, **k: None).__code__\n"
                        "except Exception:\n    pass\ndef double(t):\n    return t + 1"),
           "swapping a check's __code__ (refused by the audit hook); t + 1 is right only for ones"),
    Attack("patch_math_isclose", full(test_half=0.0),
           edits(half="import math\nmath.isclose = lambda *a, **k: True\ndef half(x):\n    return x"),
           "math.isclose always true"),
    Attack("replace_sys_modules", full(test_double=0.0, test_half=0.0),
           edits(double="import sys, types\nfake = types.ModuleType('math')\nfake.isclose = lambda *a, **k: True\n"
                        "sys.modules['math'] = fake\nfake_t = types.ModuleType('torch')\n"
                        "def double(t):\n    return t",
                 half="def half(x):\n    return x"),
           "sys.modules['math'] replaced by a fake"),
    Attack("settrace", full(test_slope=0.0),
           edits(slope="import sys\ndef tracer(frame, event, arg):\n    return None\n"
                       "try:\n    sys.settrace(tracer)\nexcept Exception:\n    pass\n"
                       "def slope():\n    return 1.0"),
           "sys.settrace (refused)"),
    Attack("custom_exception_handler", full(test_slope=0.0),
           edits(slope="import sys\nip = get_ipython()\n"
                       "ip.set_custom_exc((BaseException,), lambda *a, **k: None)\n"
                       "sys.excepthook = lambda *a: None\n"
                       "ip.events.register('post_run_cell', lambda *a: None)\n"
                       "def slope():\n    return 1.0"),
           "custom IPython exception handler, excepthook, event hooks"),
    Attack("exit_in_test", full(test_slope=0.0),
           edits(slope="import sys\ndef slope():\n    sys.exit(0)"),
           "sys.exit() while the test runs"),
    Attack("keyboard_interrupt", full(test_slope=0.0),
           edits(slope="def slope():\n    raise KeyboardInterrupt"),
           "KeyboardInterrupt from the function under test"),
    Attack("os_exit_in_test", full(test_slope=0.0, test_double=0.0, test_half=0.0, test_noisy=0.0),
           edits(slope="import os\ndef slope():\n    os._exit(0)"),
           "os._exit: the kernel dies; that cell and every later one score 0"),
    Attack("kill_self", full(test_slope=0.0),
           edits(slope="import os, signal\ndef slope():\n    os.kill(os.getpid(), signal.SIGKILL)\n    return 1.0"),
           "os.kill (refused) from the function under test"),
    # --- editing the notebook ---
    Attack("edit_test_source", full(test_slope=0.0),
           _edit_test("test_slope", _source("pass"), {"slope": WRONG["slope"]}),
           "test cell replaced by `pass`: nbgrader restores it"),
    Attack("edit_test_metadata", full(test_slope=0.0),
           _edit_test("test_slope", lambda c: (_set(c, points=100.0, locked=False), _source("pass")(c)),
                      {"slope": WRONG["slope"]}),
           "more points and unlocked: restored from the gradebook"),
    Attack("ungrade_test", full(test_slope=0.0),
           _edit_test("test_slope", lambda c: (_set(c, grade=False), _source("pass")(c)),
                      {"slope": WRONG["slope"]}),
           "test cell marked not graded: nbgrader adds the real one back"),
    Attack("delete_test", full(test_slope=0.0), _delete_test("test_slope", {"slope": WRONG["slope"]}),
           "test cell deleted: added back by nbgrader"),
    Attack("fake_test_cell", full(test_slope=0.0), _append_fake("test_bonus", 100.0, {"slope": WRONG["slope"]}),
           "a new cell with grade metadata earns nothing"),
    Attack("duplicate_test_id", full(test_slope=0.0), _append_fake("test_slope", 2.0, {"slope": WRONG["slope"]}),
           "a second cell with the test's id (nbgrader keeps the last one; its source is restored)"),
    # --- the sandbox ---
    Attack("shadow_modules", full(test_double=0.0, test_half=0.0),
           _with_cell_after("half", "import sys\nsys.path.insert(0, '')\nsys.path.insert(0, '.')\n"
                            "for name in ('math', 'torch', 'autograder'):\n    sys.modules.pop(name, None)\n",
                            {"double": WRONG["double"], "half": WRONG["half"]}),
           "shipped torch.py/math.py/autograder.py beside the notebook, and a path to them",
           files={"torch.py": "allclose = lambda *a, **k: True\n", "math.py": "isclose = lambda *a, **k: True\n",
                  "autograder.py": "raise SystemExit\n"}),
    Attack("read_write_course", full(),
           _with_cell_after("slope", "import glob, os\nfound = []\n"
                            "for pattern in ('{root}/gradebook.db', '{root}/submitted/*/*/*.ipynb'):\n"
                            "    found += glob.glob(pattern)\n"
                            "print('FOUND', found)\n"
                            "open('{root}/gradebook.db', 'w').write('x')"),
           "reading other students' work and overwriting the gradebook"),
    Attack("network", full(),
           _with_cell_after("slope", "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=2)"),
           "no network: the cell errors, nothing else changes"),
    Attack("infinite_loop", full(test_slope=0.0),
           edits(slope="def slope():\n    while True:\n        pass"),
           "a test that never ends: interrupted after the timeout; the next cells still run"),
    Attack("unstoppable_loop", full(test_slope=0.0, test_double=0.0, test_half=0.0, test_noisy=0.0),
           edits(slope="def slope():\n    while True:\n        try:\n            while True:\n                pass\n"
                       "        except BaseException:\n            pass"),
           "a loop that swallows the interrupt: the kernel is killed; later cells score 0"),
    Attack("memory_bomb", full(test_slope=0.0),
           edits(slope="def slope():\n    blocks = []\n    while True:\n        blocks.append(bytearray(256 << 20))"),
           "allocating without end: MemoryError at the limit"),
    Attack("forged_replies", full(test_slope=0.0, test_double=0.0, test_half=0.0, test_noisy=0.0),
           edits(slope="import os, json, struct\ndef slope():\n"
                       "    fake = json.dumps({'nonce': 'x', 'index': 3, 'outputs': []}).encode()\n"
                       "    for fd in range(3, 64):\n        try:\n"
                       "            os.write(fd, struct.pack('>I', len(fake)) + fake)\n"
                       "        except OSError:\n            pass\n    return 1.0"),
           "fake result frames written to every open file descriptor: detected, the rest scores 0"),
    Attack("broken_json", {}, lambda root: "{ this is not a notebook",
           "an unreadable notebook fails this student only", status="failed"),
]


def by_student() -> dict[str, Attack]:
    return {a.student: a for a in ATTACKS}


def check_json(path: Path) -> dict:
    return json.loads(path.read_text())
