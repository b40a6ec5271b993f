"""bubblewrap cannot start (here: nested in another sandbox without privileges, as in some
containers). The run stops at once with bubblewrap's own words and the hint for containers;
nothing is written; the same command where bubblewrap works grades the class.

The class also holds a submission that cannot be graded (its notebook is not JSON): once the
sandbox works, the run lists it among the problems, exits 1, writes nothing for it, and the
run after it is fixed grades only it."""

from __future__ import annotations

import os
import subprocess

import pytest

from autograder.grading import sandbox
from tests.faults.conftest import (
    FULL,
    assert_consistent,
    autograder_cli,
    make_class,
    needs_bwrap,
    reference,
    scores,
    submit,
)

pytestmark = [pytest.mark.slow, needs_bwrap, pytest.mark.xdist_group("faults_sandbox")]


def _nested() -> tuple[list[str] | None, str]:
    """An outer sandbox in which bubblewrap cannot set up its own (no capabilities, and no new user
    namespace: bubblewrap 0.8's ``--disable-userns``; without it, only root is refused by the outer
    sandbox alone); or None and why not."""
    bwrap = sandbox.find_bwrap()
    if bwrap is None:
        return None, "bubblewrap (bwrap) is not installed"
    said = subprocess.run([bwrap, "--help"], capture_output=True, text=True, check=False)
    if "--disable-userns" in said.stdout + said.stderr:
        outer = [bwrap, "--unshare-user", "--disable-userns", "--dev-bind", "/", "/", "--cap-drop", "ALL", "--"]
    elif os.geteuid() == 0:
        outer = [bwrap, "--dev-bind", "/", "/", "--cap-drop", "ALL", "--"]
    else:
        return None, "this bubblewrap has no --disable-userns: an unprivileged nested sandbox would start"
    if subprocess.run([*outer, "true"], capture_output=True, check=False).returncode != 0:
        return None, "cannot start the outer sandbox here"
    return outer, ""


NESTED, WHY_NOT = _nested()
pytestmark.append(pytest.mark.skipif(NESTED is None, reason=WHY_NOT))


def test_a_sandbox_that_cannot_start_says_why_and_writes_nothing(tmp_path, template):
    root = make_class(tmp_path / "course", template, {"ann": reference(), "bob": reference(), "cy": "{not json"})
    done = autograder_cli(root, "--workers", "1", prefix=NESTED)
    assert done.returncode == 2, done.stdout + done.stderr
    out = " ".join(done.stdout.split())
    assert "the sandbox could not start: bwrap:" in out  # bubblewrap's own message
    assert "--unsafe-no-sandbox only where the container itself is the sandbox" in out
    assert "Traceback" not in done.stdout + done.stderr
    assert "3 not graded" in out
    assert scores(root) == {}
    assert_consistent(root)

    rerun = autograder_cli(root, "--workers", "1")
    assert rerun.returncode == 1, rerun.stdout + rerun.stderr
    out = " ".join(rerun.stdout.split())
    assert "problem(s) logged in" in out and "- cy: cannot read" in out  # the problems, printed
    assert "1 submission(s) could not be graded: cy. Nothing was written for them" in out
    assert "Traceback" not in rerun.stdout + rerun.stderr
    assert scores(root) == {"ann": FULL, "bob": FULL}
    assert_consistent(root)

    submit(root, "cy", reference())
    fixed = autograder_cli(root, "--workers", "1")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "2 skipped" in " ".join(fixed.stdout.split())
    assert scores(root) == {"ann": FULL, "bob": FULL, "cy": FULL}
    assert_consistent(root)
