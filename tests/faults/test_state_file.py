"""The state file (``autograded/.autograder_state.json``) damaged, emptied, missing or from an
older version: the next run rebuilds it from the gradebook and the graded notebooks, grades
only what needs it, and never crashes; ``--force`` works too. Every later write is atomic."""

from __future__ import annotations

import json

import pytest

from autograder.grading import batch
from autograder.grading.state import STATE_FILE
from tests.faults.conftest import (
    ASSIGNMENT,
    FULL,
    assert_consistent,
    make_class,
    needs_bwrap,
    reference,
    scores,
    submit,
    with_cells,
)

pytestmark = [pytest.mark.slow, needs_bwrap, pytest.mark.xdist_group("faults_state")]

DAMAGE = {
    "empty": b"",
    "garbage": b"{\"assignments\": {\"01_tens",
    "older_version": None,  # filled in from the graded class: {student: fingerprint}
    "missing": None,
}


def test_a_damaged_state_file_is_rebuilt_and_a_changed_submission_regraded(tmp_path, template):
    """One class through every damage in turn (one test: xdist cannot split it into classes graded twice)."""
    root = make_class(tmp_path / "course", template,
                      {"ann": reference(), "bob": reference(), "cy": with_cells("print('hi')")})
    assert {r.status for r in batch.grade(batch.Options(ASSIGNMENT, root, workers=1))} == {"graded"}
    state = root / "autograded" / STATE_FILE
    good = json.loads(state.read_text())
    for damage, raw in DAMAGE.items():
        if damage == "missing":
            state.unlink()
        elif damage == "older_version":
            state.write_text(json.dumps({s: e["fingerprint"] for s, e in good["assignments"][ASSIGNMENT].items()}))
        else:
            state.write_bytes(raw)
        log: list[str] = []
        again = batch.grade(batch.Options(ASSIGNMENT, root, workers=1), log=log.append)
        assert {r.status for r in again} == {"skipped"}, (damage, log)
        assert any("rebuilt from the gradebook (3 of 3" in line for line in log), (damage, log)
        assert json.loads(state.read_text()) == good, damage
        assert_consistent(root)

    # A changed submission with the state file emptied: only it is graded; --force works on garbage.
    submit(root, "cy", with_cells("print('changed')"))
    state.write_bytes(b"")
    again = {r.student: r.status for r in batch.grade(batch.Options(ASSIGNMENT, root, workers=1))}
    assert again == {"ann": "skipped", "bob": "skipped", "cy": "graded"}
    state.write_bytes(b"\0\0\0")
    forced = batch.grade(batch.Options(ASSIGNMENT, root, workers=1, force=True))
    assert {r.status for r in forced} == {"graded"}
    assert scores(root) == {"ann": FULL, "bob": FULL, "cy": FULL}
    assert_consistent(root)
