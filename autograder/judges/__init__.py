"""The judges: expectations from the answer key, and verdicts on what a student's kernel observed.

One module per assignment (``autograder.judges.<module>``) defines ``EXPECTATIONS``:
check name -> ``expectation(case)``, computed with ``autograder.reference``. This
package runs where the answer key may be: the coordinator of ``autograder grade``
(outside the sandbox), the kit's build, and, under stock nbgrader on the instructor's
machine, the notebook's own kernel.

The coordinator never trusts the kernel about *what* was tested: :func:`hidden_calls`
reads the hidden calls (check and seeds) from the grade cell's source as the gradebook
restored it, and :func:`judge_cell` requires exactly one observation record for each,
rebuilt cases, expectations computed here, and every verdict passed.
"""

from __future__ import annotations

import ast
import importlib
from functools import lru_cache
from typing import Any

from coursekit.assignments import BY_MODULE
from coursekit.checks import engine, wire
from coursekit.checks.expect import CheckFailed


class JudgeError(RuntimeError):
    """The judge itself could not decide (a bug of the grader, never the student's)."""


def _judge_module(module: str) -> Any:
    if module not in BY_MODULE:
        raise JudgeError(f"no assignment has checks called {module!r}")
    return importlib.import_module(f"autograder.judges.{module}")


def _check_module(module: str) -> Any:
    if module not in BY_MODULE:
        raise JudgeError(f"no assignment has checks called {module!r}")
    return importlib.import_module(f"coursekit.checks.{module}")


def expectation(check_name: str, case: engine.Case) -> Any:
    """What the answer key gives on ``case`` for check ``check_name`` ("<module>.<exercise>")."""
    return _cached_expectation(check_name, wire.dumps(case))


@lru_cache(maxsize=4096)
def _cached_expectation(check_name: str, case_json: str) -> Any:
    module, _, exercise = check_name.partition(".")
    try:
        expect = _judge_module(module).EXPECTATIONS[exercise]
    except KeyError:
        raise JudgeError(f"no expectation for check {check_name!r}") from None
    return wire.roundtrip(expect(wire.loads(case_json)))


def hidden_check(hidden_name: str) -> engine.Check:
    """The check behind a hidden call such as ``tensors.to_batch_hidden``."""
    module, _, function = hidden_name.partition(".")
    check = getattr(_check_module(module), "HIDDEN", {}).get(function)
    if check is None or check.cases is None:
        raise JudgeError(f"no hidden check {hidden_name!r}")
    return check


@lru_cache(maxsize=1024)
def _cases(hidden_name: str, seed: int) -> str:
    return wire.dumps(hidden_check(hidden_name).cases(seed))


def judge_record(record: Any, *, trusted: bool = True) -> None:
    """Judge one record ``{"check", "seed", "observations"}``; CheckFailed with the student's message."""
    if not isinstance(record, dict) or not isinstance(record.get("observations"), list):
        raise CheckFailed("the hidden tests could not read what your function did (malformed record)", "malformed")
    name, seed = str(record.get("check")), record.get("seed")
    if not isinstance(seed, int):
        raise CheckFailed("the hidden tests could not read what your function did (malformed seed)", "malformed")
    check = hidden_check(name)
    cases = wire.loads(_cases(name, seed))
    observations = record["observations"]
    if len(observations) != len(cases):
        raise CheckFailed(f"{name}: the hidden tests did not run every case "
                          f"(expected {len(cases)}, found {len(observations)})", "incomplete")
    for case, encoded in zip(cases, observations, strict=True):
        try:
            observation = wire.decode(encoded)
        except wire.WireError as error:
            raise CheckFailed(f"the hidden tests could not read what your function did ({error})",
                              "malformed") from None
        engine.verdict(check, case, observation, expectation(check.name, case), hidden=True)


def hidden_calls(source: str) -> list[tuple[str, int]]:
    """(hidden check, seed) of every hidden call in a grade cell's (trusted) source, in order."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "coursekit.checks":
            for alias in node.names:
                aliases[alias.asname or alias.name] = alias.name
    calls: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id in aliases
                and node.func.attr.endswith("_hidden")):
            continue
        seeds = next((k.value for k in node.keywords if k.arg == "seeds"), None)
        try:
            values = ast.literal_eval(seeds) if seeds is not None else []
        except ValueError:
            values = []
        name = f"{aliases[node.func.value.id]}.{node.func.attr}"
        calls.extend((name, int(v)) for v in values if isinstance(v, int))
    return calls


def judge_cell(source: str, records: list[Any]) -> CheckFailed | None:
    """The first failure of a grade cell's hidden tests, or None when every verdict passed.

    ``records``: the observation records the kernel emitted (untrusted). Each hidden call
    of ``source`` needs exactly one; any other record fails the cell.
    """
    wanted = hidden_calls(source)
    by_call: dict[tuple[str, int], list[Any]] = {}
    for record in records:
        if not isinstance(record, dict):
            return CheckFailed("the hidden tests received something that is not an observation", "malformed")
        by_call.setdefault((str(record.get("check")), record.get("seed")), []).append(record)  # type: ignore[arg-type]
    for call in wanted:
        found = by_call.get(call) or []
        if not found:
            return CheckFailed(f"{call[0].split('.', 1)[-1]}: the hidden tests did not finish "
                               "(no observation came back)", "incomplete")
        record = found.pop(0)
        try:
            judge_record(record)
        except CheckFailed as failure:
            return failure
    extra = sum(len(v) for v in by_call.values())
    if extra:
        return CheckFailed("the hidden tests received observations they did not ask for "
                           f"({extra} extra): only the grader's own checks may report", "forged")
    return None
