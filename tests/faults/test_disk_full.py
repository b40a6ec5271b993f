"""The course's disk fills up mid-class (a small tmpfs holds the course; root only), or a file
cannot grow any more (``RLIMIT_FSIZE``, anywhere) just as the state file is rewritten.

The run stops with one or two lines that say where and how much is needed (no traceback, no
``--- Logging error ---``); what was graded stays, every file is whole (the state file too),
the gradebook has no score-less rows; once space is freed a plain rerun grades the rest, and
``--force`` works too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from autograder.grading.state import STATE_FILE, VERSION
from tests.faults.conftest import (
    FULL,
    assert_consistent,
    autograder_cli,
    graded_students,
    make_class,
    needs_bwrap,
    needs_mounts,
    reference,
    scores,
    with_cells,
)

pytestmark = [pytest.mark.slow, needs_bwrap, pytest.mark.xdist_group("faults_disk")]

STUDENTS = [f"s{i}" for i in range(5)]
#: ``python -c FSIZE BYTES COMMAND...``: COMMAND may write no file larger than BYTES (``ulimit -f``).
FSIZE = ("import os, resource, sys\n"
         "resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))\n"
         "os.execv(sys.argv[2], sys.argv[2:])\n")


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk) -> None:
    with open(disk / "filler", "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * (1 << 16))
                handle.flush()
        except OSError:
            pass


@needs_mounts
def test_disk_full_mid_class_stops_cleanly_and_the_rerun_finishes(small_disk, template):
    root = make_class(small_disk / "course", template,
                      {s: with_cells("import time\ntime.sleep(0.6)") for s in STUDENTS})

    def fill_after_the_first() -> None:
        while not graded_students(root):
            threading.Event().wait(0.05)
        _fill(small_disk)

    filler = threading.Thread(target=fill_after_the_first, daemon=True)
    filler.start()
    done = autograder_cli(root, "--workers", "1")
    filler.join(timeout=60)
    out = " ".join(done.stdout.split())
    assert done.returncode == 2, done.stdout + done.stderr
    assert "stopped: the disk is full" in out
    assert f"on the disk holding {root}" in out or f"on the disk holding {small_disk}" in out
    assert "free at least" in out and "run the same command again" in out
    assert "Traceback" not in done.stdout + done.stderr and "Logging error" not in done.stdout + done.stderr
    graded = graded_students(root)
    assert 1 <= len(graded) < len(STUDENTS)
    assert scores(root) == dict.fromkeys(graded, FULL)  # no row for the others, none without a score
    assert_consistent(root)

    (small_disk / "filler").unlink()
    rerun = autograder_cli(root, "--workers", "1")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"{len(graded)} skipped" in " ".join(rerun.stdout.split())
    assert scores(root) == dict.fromkeys(STUDENTS, FULL)
    assert_consistent(root)

    _fill(small_disk)  # full again: even --force says what to do, and keeps every score
    forced = autograder_cli(root, "--workers", "1", "--force")
    assert forced.returncode == 2 and "the disk is full" in forced.stdout, forced.stdout + forced.stderr
    assert scores(root) == dict.fromkeys(STUDENTS, FULL)
    assert_consistent(root)


def test_a_state_file_that_cannot_be_rewritten_stays_whole(tmp_path, template):
    """The issue's 0-byte state file: the run may write no file larger than the state file is
    now, so rewriting it after the first submission fails; the old one must stay as it was."""
    students = ["s0", "s1", "s2"]
    root = make_class(tmp_path / "course", template, {s: reference() for s in students})
    state = root / "autograded" / STATE_FILE
    state.parent.mkdir()
    # A long course's state file (another assignment's 8,000 entries), larger than the gradebook.
    other = {f"x{i:05d}": {"fingerprint": "0" * 64, "notebooks": ["other"]} for i in range(8000)}
    before = json.dumps({"version": VERSION, "assignments": {"00_other": other}}, indent=1, sort_keys=True)
    state.write_text(before)
    limit = len(before) + 32
    done = autograder_cli(root, "--workers", "1", prefix=[sys.executable, "-c", FSIZE, str(limit)])
    out = " ".join(done.stdout.split())
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"stopped: cannot write {state}: it would grow over the largest file this process may write" in out
    assert "`ulimit -f`): raise that limit, then run the same command again" in out
    assert "Traceback" not in done.stdout + done.stderr and "Logging error" not in done.stdout + done.stderr
    assert "1 submission(s) graded and written; 2 not graded" in out
    assert state.read_text() == before  # whole: the old file, never a truncated one
    assert scores(root) == {"s0": FULL}
    assert_consistent(root)

    rerun = autograder_cli(root, "--workers", "1")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert scores(root) == dict.fromkeys(students, FULL)
    assert set(json.loads(state.read_text())["assignments"]) == {"00_other", "01_tensors"}
    assert_consistent(root)
