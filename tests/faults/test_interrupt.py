"""The run itself interrupted: Ctrl-C stops cleanly and prints what was graded and what was not;
a run killed outright (SIGKILL) leaves whole files and no score-less rows. Either way the
submissions graded before keep their scores and a plain rerun grades the rest.

Both stop the coordinator at the worst moment, deterministically: inside the write of the
second submission, after nbgrader has added its grade rows and before their scores are in (a
wrapper around the command makes the coordinator signal itself there). Ctrl-C waits for the
end of that write; SIGKILL cannot, and the write is rolled back. (Ctrl-C at a random moment:
``benchmarks/chaos.py``.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.faults.conftest import (
    ASSIGNMENT,
    FULL,
    ROOT,
    assert_consistent,
    autograder_cli,
    graded_students,
    make_class,
    needs_bwrap,
    null_rows,
    reference,
    scores,
)

pytestmark = [pytest.mark.slow, needs_bwrap, pytest.mark.xdist_group("faults_interrupt")]

STUDENTS = [f"s{i}" for i in range(4)]

#: ``autograder grade ...`` that sends itself SIGNAL while it writes its second submission's scores.
MID_WRITE = """
import os, signal, sys
from autograder.grading import batch

score, calls, how = batch.nbgrader_steps.score, [], getattr(signal, sys.argv[1])

def interrupted_score(*args, **kwargs):
    calls.append(1)
    if len(calls) == 2:
        os.kill(os.getpid(), how)
    return score(*args, **kwargs)

batch.nbgrader_steps.score = interrupted_score
sys.argv = ["autograder", *sys.argv[2:]]
from autograder.cli.main import app
app()
"""


@pytest.mark.parametrize("how", ["SIGINT", "SIGKILL"])
def test_an_interrupted_run_keeps_what_it_graded(tmp_path, template, how):
    root = make_class(tmp_path / "course", template, dict.fromkeys(STUDENTS, reference()))
    run = subprocess.run([sys.executable, "-c", MID_WRITE, how, "grade", ASSIGNMENT, "--root", str(root),
                          "--workers", "1"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         env={**os.environ, "COLUMNS": "400"}, timeout=300, check=False)
    out = run.stdout
    graded = graded_students(root)
    if how == "SIGINT":  # Ctrl-C waits for the end of the write it lands in
        assert graded == ["s0", "s1"], out
    else:  # nothing can wait for SIGKILL: that write never happened
        assert graded == ["s0"], out
    if how == "SIGINT":
        assert run.returncode == 130, out
        said = " ".join(out.split())
        assert "stopped: interrupted (Ctrl-C)" in said
        assert f"{len(graded)} submission(s) graded and written; {len(STUDENTS) - len(graded)} not graded" in said
        assert "run the same command again" in said
        assert "Traceback" not in out
    else:
        assert run.returncode == -signal.SIGKILL, out
    assert null_rows(root) == 0  # a submission's rows are written whole, or not at all
    assert scores(root) == dict.fromkeys(graded, FULL)
    assert_consistent(root)
    rerun = autograder_cli(root, "--workers", "1")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"{len(graded)} skipped" in " ".join(rerun.stdout.split())
    assert scores(root) == dict.fromkeys(STUDENTS, FULL)
    assert_consistent(root)
