"""Delegation attacks: solution cells that try to take the answer instead of computing it.

Each defines ``to_batch`` (01_tensors) by reaching for the answer key, or for anything
that could stand in for it, wherever a student's code can reach: imports by any path,
files on disk, the kit's attributes and shipped data, the garbage collector, interpreter
frames, the observation channel. Where the trick finds nothing, it falls back to a wrong
answer, so a trick that worked would show up as points. Under ``autograder grade`` every
one must lose ``test_to_batch`` and nothing else.
"""

from __future__ import annotations

from dataclasses import replace

from autograder.submissions import Submission, right, wrong

#: What every attack does when its trick finds nothing: a wrong answer (int64, no column).
FALLBACK = """
if "to_batch" not in globals():
    def to_batch(values):
        return torch.tensor([int(v) for v in values])
"""


ALL_CELLS = {"test_to_batch", "test_stack_features", "test_add_batch_dim", "test_linear_forward", "test_mse"}


def attack(student: str, code: str, why: str, loses: set[str] | None = None,
           may_lose: set[str] = frozenset()) -> Submission:
    found = wrong(student, "to_batch", code + "\n" + FALLBACK, loses=loses, why=why)
    return replace(found, may_lose=frozenset(may_lose))


ATTACKS = [
    attack("import_reference", """
try:
    from autograder.reference.tensors import to_batch
except Exception:
    pass
""", "the answer key by its import path: not installed in the sandbox"),
    attack("import_reference_via_repo_path", """
import importlib.util, pathlib, sys
import coursekit
_here = pathlib.Path(coursekit.__file__).resolve()
import glob
_elsewhere = [pathlib.Path(f).parents[2] for depth in range(1, 5)
              for f in glob.glob("/" + "*/" * depth + "autograder/reference/tensors.py")]
for _root in [*_here.parents, pathlib.Path("/work/main"), pathlib.Path.home(), *_elsewhere]:
    _file = _root / "autograder" / "reference" / "tensors.py"
    if _file.is_file():
        _spec = importlib.util.spec_from_file_location("stolen", _file)
        _module = importlib.util.module_from_spec(_spec)
        _spec.loader.exec_module(_module)
        to_batch = _module.to_batch
        break
    sys.path.append(str(_root))
try:
    to_batch
except NameError:
    try:
        from autograder.reference.tensors import to_batch
    except Exception:
        pass
""", "the answer key by file path next to the kit, in any checkout on the disk, and the repository put on "
       "sys.path: the sandbox shows only the system, the Python and the kit"),
    attack("import_via_editable_finder", """
import glob, importlib.util, pathlib, re, site, sys
for _dir in [*sys.path, *site.getsitepackages()]:
    for _finder in glob.glob(str(pathlib.Path(_dir) / "__editable__*finder.py")):
        for _path in re.findall(r"'autograder': '([^']+)'", pathlib.Path(_finder).read_text()):
            _file = pathlib.Path(_path) / "reference" / "tensors.py"
            if _file.is_file():
                _spec = importlib.util.spec_from_file_location("stolen", _file)
                _module = importlib.util.module_from_spec(_spec)
                _spec.loader.exec_module(_module)
                to_batch = _module.to_batch
""", "the instructor package's location read from pip's editable finder: the folder is empty"),
    attack("kit_reference_attributes", """
import importlib, pkgutil
import coursekit
for _info in pkgutil.walk_packages(coursekit.__path__, "coursekit."):
    try:
        _module = importlib.import_module(_info.name)
    except Exception:
        continue
    for _name in ("ref", "reference", "answers", "solutions"):
        _ref = getattr(_module, _name, None)
        if _ref is not None and hasattr(_ref, "to_batch"):
            to_batch = _ref.to_batch
""", "a check.ref-style attribute anywhere in the kit: there is none"),
    attack("walk_every_package", """
import importlib, pkgutil
for _info in pkgutil.iter_modules():
    if any(w in _info.name for w in ("autograder", "reference", "judge", "solution", "answer")):
        try:
            _module = importlib.import_module(_info.name)
            for _sub in ("reference.tensors", "tensors"):
                _found = importlib.import_module(f"{_info.name}.{_sub}")
                if hasattr(_found, "to_batch"):
                    to_batch = _found.to_batch
        except Exception:
            pass
""", "pkgutil over everything importable: no answer key among it"),
    attack("grep_site_packages", """
import os, sys
_skip = {"torch", "numpy", "matplotlib", "IPython", "scipy", "sympy", "nbconvert", "jedi", "pip", "setuptools",
         "networkx", "PIL", "fontTools", "jupyterlab", "notebook", "babel", "pygments", "tornado", "zmq"}
_namespace = {}
for _root in [p for p in sys.path if os.path.isdir(p)]:
    for _dir, _dirs, _files in os.walk(_root):
        _dirs[:] = [d for d in _dirs if d not in _skip and not d.startswith(".")]
        for _file in _files:
            if not _file.endswith(".py"):
                continue
            try:
                _text = open(os.path.join(_dir, _file)).read()
            except Exception:
                continue
            if "def to_batch(values" in _text and "float32" in _text:
                try:
                    exec(compile(_text, _file, "exec"), _namespace)
                except Exception:
                    pass
if "to_batch" in _namespace:
    to_batch = _namespace["to_batch"]
""", "the answer key's source searched for on disk: no file of the sandbox holds it"),
    attack("shipped_expectations", """
import json
from importlib import resources
from coursekit.checks import wire

_table = json.loads(resources.files("coursekit").joinpath("expected", "tensors.json").read_text())

def to_batch(values):
    for entry in _table.values():
        case = wire.decode(entry["case"])
        if entry["check"] == "tensors.to_batch" and case["values"] == list(values):
            return wire.decode(entry["expected"])
    return torch.tensor([int(v) for v in values])
""", "the visible tests' shipped expectations: they pass the visible tests, never a hidden one"),
    attack("gc_objects", """
import gc

def to_batch(values):
    try:
        for obj in gc.get_objects():
            if isinstance(obj, torch.Tensor) and obj.dtype == torch.float32 and list(obj.shape) == [len(values), 1]:
                return obj
    except Exception:
        pass
    return torch.tensor([int(v) for v in values])
""", "the garbage collector walked for a tensor of the right shape: refused in the sandbox"),
    attack("frames_through_traceback", """
import sys

def to_batch(values):
    try:
        raise RuntimeError
    except RuntimeError:
        frame = sys.exc_info()[2].tb_frame
    while frame is not None:
        for name, value in list(frame.f_locals.items()):
            if name in ("expected", "expectation", "answer") or (
                    isinstance(value, torch.Tensor) and value.dtype == torch.float32
                    and list(value.shape) == [len(values), 1]):
                return value
        frame = frame.f_back
    return torch.tensor([int(v) for v in values])
""", "the checker's frames reached through a traceback: no expected value exists in the kernel"),
    attack("current_frames", """
import sys

def to_batch(values):
    try:
        for frame in sys._current_frames().values():
            while frame is not None:
                if "expected" in frame.f_locals:
                    return frame.f_locals["expected"]
                frame = frame.f_back
    except Exception:
        pass
    return torch.tensor([int(v) for v in values])
""", "sys._current_frames: refused, and there is nothing to find"),
    attack("inspect_stack", """
import inspect

def to_batch(values):
    for info in inspect.stack():
        for name in ("expected", "expectation"):
            if name in info.frame.f_locals:
                return info.frame.f_locals[name]
    return torch.tensor([int(v) for v in values])
""", "inspect.stack: the checker's frames hold no expectation"),
    attack("suppress_hidden_tests", """
import coursekit.checks.engine as _engine
_engine.hidden = lambda *args, **kwargs: None
_engine.set_sink(lambda record: None)
""", "switching the hidden checks off from the solution cell: restored before every test cell"),
    attack("suppress_from_the_call", """
def to_batch(values):
    import coursekit.checks.engine as engine
    engine.hidden = lambda *args, **kwargs: None
    return torch.tensor([int(v) for v in values])
""", "switching the hidden checks off while the test runs: the test cell fails as tampered"),
    attack("suppress_from_a_thread", """
import threading, time
import coursekit.checks.engine as _engine

def _keep_patching():
    while True:
        _engine.hidden = lambda *args, **kwargs: None
        time.sleep(0.0005)

threading.Thread(target=_keep_patching, daemon=True).start()
""", "a background thread patching the hidden checks away: no observation, no points. It outlives its "
       "cell, so later cells lose too wherever it wins the race: it can take points, never give them",
       may_lose=ALL_CELLS - {"test_to_batch"}),
    attack("forged_observation", """
from coursekit.runtime import kernel as _kernel

def to_batch(values):
    _kernel.emit_observation({"check": "tensors.to_batch_hidden", "seed": 1013, "observations": []})
    return torch.tensor([int(v) for v in values])
""", "an observation record the grader did not ask for: judged as forged"),
]

#: Honest students in the same class: graded normally.
HONEST = [
    right("honest_reference", {}),
    right("honest_own_style", {"to_batch": """
        def to_batch(values):
            return torch.as_tensor([float(v) for v in values]).unsqueeze(1)
        """}),
]
