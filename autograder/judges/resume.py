"""Expectations of 06_resume's checks: what the reference functions do on the same case, observed the same way.

Each expectation is the kit's own observation of the answer key's function (the same
objects, files read back the same way, the same stand-ins for train_with_resume), so a
verdict compares like with like.
"""

from __future__ import annotations

from typing import Any

from autograder.reference import resume as ref
from coursekit.checks import engine
from coursekit.checks.engine import Case
from coursekit.checks.resume import LOAD_TRAINING_STATE, SAVE_TRAINING_STATE, TRAIN_WITH_RESUME


class ReferenceFailed(RuntimeError):
    """The answer key itself raised on a case: a bug of the course, never the student's."""


def _observed(check: engine.Check, function: Any, case: Case) -> dict[str, Any]:
    seen = engine.observe(check, function, case)
    runs = [seen, *(seen.get(run) or {} for run in ("fresh", "resumed"))]
    for run in runs:
        if run.get("raised") or run.get("error") or run.get("state_changed"):
            raise ReferenceFailed(f"the reference failed on {check.name} {case}: {run}")
    # The process's global generator is the kernel's own business (the diagnosis compares the
    # student's file with the student's kernel); an expectation must not depend on which process made it.
    seen.pop("global_rng", None)
    return seen


EXPECTATIONS = {
    "save_training_state": lambda case: _observed(SAVE_TRAINING_STATE, ref.save_training_state, case),
    "load_training_state": lambda case: _observed(LOAD_TRAINING_STATE, ref.load_training_state, case),
    "train_with_resume": lambda case: _observed(TRAIN_WITH_RESUME, ref.train_with_resume, case),
}
