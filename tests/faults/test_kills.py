"""Processes killed mid-class: a submission's kernel, a whole worker. Never the student's fault:
the submission runs again in a fresh kernel and gets the score it deserves; the others are
untouched; a plain rerun has nothing left to do. A kernel that kills itself the same way in
two fresh kernels is the code's own doing, and costs what it broke; a crash costs at once.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from autograder.grading import batch, launch
from tests.faults.conftest import (
    ASSIGNMENT,
    FULL,
    assert_consistent,
    kernel_children,
    make_class,
    needs_bwrap,
    score,
    with_cells,
)

pytestmark = [pytest.mark.slow, needs_bwrap, pytest.mark.xdist_group("faults_kills")]

SLOW = "import time\ntime.sleep(1.5)"  # each submission runs long enough to be hit mid-run
HONEST = [f"s{i}" for i in range(5)]


def test_killed_kernels_and_workers_cost_nothing(tmp_path, template):
    students = {s: with_cells(SLOW) for s in HONEST}
    # A kernel that kills itself: the same in a fresh kernel, so the code's own doing (cells after
    # it score 0). A kernel that crashes (SIGABRT): the code's doing at once.
    students["kills_itself"] = with_cells("import signal\nsignal.raise_signal(signal.SIGKILL)", after="mse")
    students["crashes"] = with_cells("import os\nos.abort()", after="linear_forward")
    root = make_class(tmp_path / "course", template, students)
    log: list[str] = []
    workers = launch.start_workers(root, ASSIGNMENT, size=2, sandboxed=True, memory_gb=1.0, log=log.append)
    done: list[str] = []
    killed: list[str] = []

    def killer() -> None:
        """Kill the first kernel that runs a while; once two submissions are done, a whole worker."""
        while len(killed) < 2:
            for worker in list(workers.live):
                if worker.process is None:
                    continue
                if not any(s in HONEST for s in kernel_children(worker.process.pid).values()):
                    continue
                time.sleep(0.4)  # mid-submission
                honest = [pid for pid, s in kernel_children(worker.process.pid).items() if s in HONEST]
                if not honest:
                    continue
                if not killed:
                    os.kill(honest[0], signal.SIGKILL)
                    killed.append("kernel")
                elif len(done) >= 2:
                    os.killpg(worker.process.pid, signal.SIGKILL)
                    killed.append("worker")
                break
            time.sleep(0.05)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    results = batch.grade(batch.Options(ASSIGNMENT, root, workers=2), workers=workers, log=log.append,
                          progress=lambda r: done.append(r.student))
    thread.join(timeout=5)
    assert killed == ["kernel", "worker"]
    by_student = {r.student: r for r in results}
    statuses = {r.student: r.status for r in results}
    for student in HONEST:
        assert score(root, student) == FULL, (student, log)
        assert statuses[student] == "graded", (student, log)
    retried = [line for line in log if "not the student's doing" in line]
    assert len(retried) >= 2, log
    assert any("killed by SIGKILL" in line for line in retried)
    # mse is the last test (3 points): killing itself before it costs exactly that cell
    assert score(root, "kills_itself") == FULL - 3
    assert statuses["kills_itself"] == "problems"
    assert any("killed the same way in two fresh kernels" in p for p in by_student["kills_itself"].problems)
    assert score(root, "crashes") == FULL - 5  # crashed (SIGABRT) before the linear_forward and mse tests
    assert any("crashed (SIGABRT)" in p for p in by_student["crashes"].problems)
    assert statuses["crashes"] == "problems"
    assert_consistent(root)
    again = batch.grade(batch.Options(ASSIGNMENT, root, workers=2))
    assert {r.status for r in again} == {"skipped"}
