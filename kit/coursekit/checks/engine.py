"""How every check runs: observe the student's function, then judge the observation.

A :class:`Check` has three parts, each a plain function:

- ``observe(student, case) -> dict``: runs the student's function on one case under
  the probes and returns what happened (values, shapes, call records). It runs in
  the student's kernel and knows no answer.
- ``diagnose(case, observation, expected, call)``: compares an observation with the
  expectation and raises :class:`CheckFailed` with the three-part message, naming the
  call as ``call``. It knows no answer either: ``expected`` is given to it. On a hidden
  case (:func:`is_hidden`), messages never show the case's inputs or expected values:
  ``call`` then only names the kind of case, and ``expect_close`` shows no numbers.
- ``cases(seed) -> list[case]``: fresh inputs of the hidden tests (none for visible-only
  checks); each case may carry a ``"kind"``: a few words a student can act on.
- ``describe(case) -> str``: how a visible call is shown (``to_batch([1, 3])``).

Expectations come from the instructor's judge (``autograder.judges``), which runs the
answer key. For visible tests they are computed when the kit is built and shipped in
``coursekit/expected/``. Hidden tests never see one: under ``autograder grade`` their
observations leave the kernel as plain JSON and the judge decides outside it; under
stock nbgrader on the instructor's machine the judge runs in-process.
"""

from __future__ import annotations

import json
import linecache
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from coursekit.checks import state, wire
from coursekit.checks.expect import CheckFailed, fail

Case = dict[str, Any]
Observation = dict[str, Any]

#: The MIME type of a hidden check's observations in a test cell's outputs.
OBSERVATION_MIME = "application/vnd.coursekit.observation+json"
#: Set by the build to a file path: visible checks record their cases and expectations there.
RECORD_VARIABLE = "COURSEKIT_RECORD"


@dataclass(frozen=True)
class Check:
    """One exercise's check: see the module docstring."""

    name: str  # "<module>.<exercise>", the key of its expectations
    observe: Callable[[Callable, Case], Observation]
    diagnose: Callable[[Case, Observation, Any, str], None]
    cases: Callable[[int], list[Case]] | None = None
    describe: Callable[[Case], str] | None = None

    @property
    def exercise(self) -> str:
        return self.name.split(".", 1)[-1]


class StudentRaised(Exception):
    """The student's function raised; ``record`` says what and where, as plain data."""

    def __init__(self, record: dict[str, str]) -> None:
        super().__init__(record.get("type", "Exception"))
        self.record = record


_KIT_DIR = str(Path(__file__).resolve().parents[1])


def _student_line(tb: Any) -> str:
    """'line N of your code: <text>' for the innermost frame outside the kit and the libraries."""
    found = ""
    for frame, line in traceback.walk_tb(tb):
        filename = frame.f_code.co_filename
        if filename.startswith(_KIT_DIR) or "site-packages" in filename or filename.startswith(sys.prefix):
            continue
        text = linecache.getline(filename, line).strip()
        found = f"line {line} of your code: {text}" if text else f"line {line} of your code"
    return found


#: What the calls of the observation now running left changed (a list mutated in place: the
#: sandbox's guard treats a rebound name in the kit as tampering).
_CHANGED: list[str] = []


def call(student: Callable, *args: Any, **kwargs: Any) -> Any:
    """Call the student's function from the course's starting state; StudentRaised if it raises.

    Global torch state the call leaves changed is named in the observation and put back.
    """
    watch = state.Watch()
    try:
        with watch:
            return student(*args, **kwargs)
    except CheckFailed:
        raise
    except BaseException as error:  # noqa: BLE001 - SystemExit, KeyboardInterrupt: the student's too
        if isinstance(error, KeyboardInterrupt):
            raise
        raise StudentRaised({"type": type(error).__name__, "message": str(error)[:500],
                             "where": _student_line(error.__traceback__)}) from None
    finally:
        for item in watch.changed:
            if item not in _CHANGED:
                _CHANGED.append(item)


def attempt(student: Callable, *args: Any, **kwargs: Any) -> tuple[Any, dict[str, str] | None]:
    """(returned value, None) or (None, what it raised): for checks where raising is the answer."""
    try:
        return call(student, *args, **kwargs), None
    except StudentRaised as raised:
        return None, raised.record


def attempt_seeding(student: Callable, *args: Any, **kwargs: Any) -> tuple[Any, dict[str, str] | None]:
    """:func:`attempt` for a function whose task is to call ``torch.manual_seed`` itself (it takes a
    ``seed``): the generator is put back afterwards as always, but the reseed is not charged."""
    mark = len(_CHANGED)
    try:
        return attempt(student, *args, **kwargs)
    finally:
        reseeded = state._WORDS["seed"]
        if reseeded in _CHANGED[mark:]:
            _CHANGED.remove(reseeded)


def observe(check: Check, student: Callable, case: Case) -> Observation:
    """Run ``check.observe``; a raise becomes ``{"raised": ...}``, changed state ``"state_changed"``."""
    _CHANGED.clear()
    try:
        observation = check.observe(student, case)
    except StudentRaised as raised:
        observation = {"raised": raised.record}
    if _CHANGED:
        observation = {**observation, "state_changed": list(_CHANGED)}
    _CHANGED.clear()
    return observation


def raised_message(what: str, record: dict[str, str], cause: str | None = None) -> None:
    """Fail because the student's function raised ``record``."""
    where = f" ({record['where']})" if record.get("where") else ""
    fail(what, "it runs without an error", f"{record.get('type')}: {record.get('message')}{where}",
         cause or "read the error: the line shown is where your function stopped", code="raised")


#: True while a hidden case is judged (a one-item list, mutated in place).
_HIDDEN_NOW: list[bool] = [False]


def is_hidden() -> bool:
    """Whether the verdict now being made is on a hidden case (messages must not show its data)."""
    return _HIDDEN_NOW[0]


def call_label(check: Check, case: Case, hidden: bool) -> str:
    """How messages name the call: its inputs when visible, only the kind of case when hidden."""
    if hidden:
        kind = case.get("kind") if isinstance(case, dict) else None
        return f"{check.exercise} on a hidden test case" + (f" ({kind})" if kind else "")
    if check.describe is not None:
        try:
            return check.describe(case)
        except Exception:  # noqa: BLE001 - a label never fails a check
            pass
    return check.exercise


def verdict(check: Check, case: Case, observation: Observation, expected: Any, hidden: bool = False) -> None:
    """Judge one observation: the state it left, an error it raised, then the check's own diagnosis.

    A diagnosis that trips over a malformed observation (a wrong type where it expected
    another) fails the check with a plain message instead of a Python error.
    """
    _HIDDEN_NOW[0] = hidden
    try:
        _verdict(check, case, observation, expected, call_label(check, case, hidden))
    except CheckFailed:
        raise
    except (TypeError, KeyError, AttributeError, ValueError, IndexError, RuntimeError) as error:
        raise CheckFailed(f"{call_label(check, case, hidden)}\n  expected: a result the test can read\n"
                          f"  found:    something it could not use ({type(error).__name__})\n"
                          "  likely cause: return what the exercise asks for (type, shape, dtype)",
                          "unreadable_result") from None
    finally:
        _HIDDEN_NOW[0] = False


def _verdict(check: Check, case: Case, observation: Observation, expected: Any, label: str) -> None:
    if not isinstance(observation, dict):
        raise CheckFailed("the test could not read what your function did (malformed observation)", "malformed")
    changed = observation.get("state_changed")
    if changed:
        fail(f"{label}: torch's global settings", "the function leaves torch's global settings as it found them",
             "it changed " + "; ".join(str(c) for c in changed)[:400],
             "a setting changed inside a function (torch.set_grad_enabled(False), set_default_dtype, "
             "manual_seed, ...) changes every later cell: use a `with torch.no_grad():` block, or put it back",
             code="global_state_changed")
    if "raised" in observation:
        raised_message(label, observation["raised"])
    check.diagnose(case, observation, expected, label)


# --- visible tests -----------------------------------------------------------------------------

_shipped: dict[str, dict[str, Any]] = {}


def _expected_file(module: str) -> dict[str, Any]:
    if module not in _shipped:
        try:
            text = resources.files("coursekit").joinpath("expected", f"{module}.json").read_text()
            _shipped[module] = json.loads(text)
        except (FileNotFoundError, OSError, ValueError):
            _shipped[module] = {}
    return _shipped[module]


def _instructor_judge() -> Any:
    """``autograder.judges`` where the instructor's package is installed; None elsewhere."""
    if _sink is not None:  # inside autograder grade: never judge in the student's process
        return None
    try:
        from autograder import judges  # type: ignore[import-not-found]
    except ImportError:
        return None
    return judges


def expected_for(check: Check, case: Case) -> Any:
    """The shipped expectation of a visible case (or the instructor's judge, at build time)."""
    module = check.name.split(".", 1)[0]
    entry = None if os.environ.get(RECORD_VARIABLE) else _expected_file(module).get(wire.key(check.name, case))
    if entry is not None:
        return wire.decode(entry["expected"])
    judges = _instructor_judge()
    if judges is None:
        raise CheckFailed(
            f"{check.name.split('.', 1)[-1]}: this test's expected values are not in the course kit\n"
            "  likely cause: the notebook's data or test cell was changed; restore it from a fresh copy "
            "of the notebook (or reinstall the course kit)", "kit_mismatch")
    return wire.roundtrip(judges.expectation(check.name, case))


def visible(check: Check, student: Callable, case: Case) -> None:
    """A visible test: observe ``case``, compare with its shipped expectation."""
    case = wire.roundtrip(case)
    observation = wire.roundtrip(observe(check, student, case))
    expected = expected_for(check, case)
    record = os.environ.get(RECORD_VARIABLE)
    if record:
        _record(record, check, case, expected)
    verdict(check, case, observation, expected)


def _record(path: str, check: Check, case: Case, expected: Any) -> None:
    with open(path, "a") as out:
        out.write(json.dumps({"key": wire.key(check.name, case), "check": check.name,
                              "case": wire.encode(case), "expected": wire.encode(expected)}) + "\n")


# --- hidden tests ------------------------------------------------------------------------------

_sink: Callable[[dict[str, Any]], None] | None = None


def set_sink(sink: Callable[[dict[str, Any]], None] | None) -> None:
    """Where hidden observations go instead of an in-process judge (``autograder grade`` sets it)."""
    global _sink
    _sink = sink


def hidden(check: Check, hidden_name: str, student: Callable, seeds: list[int]) -> None:
    """Hidden tests: observe every case of every seed, then hand the observations to the judge."""
    assert check.cases is not None, f"{check.name} has no hidden cases"
    records = []
    for seed in seeds:
        observations = [wire.encode(observe(check, student, case)) for case in check.cases(int(seed))]
        records.append({"check": hidden_name, "seed": int(seed), "observations": observations})
    if _sink is not None:
        for record in records:
            _sink(record)
        return
    judges = _instructor_judge()
    if judges is None:
        raise RuntimeError("hidden tests are judged by the instructor's grader, not in this notebook")
    for record in records:
        judges.judge_record(json.loads(json.dumps(record)))
