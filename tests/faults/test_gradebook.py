"""The gradebook locked by another program mid-class, or read-only: one or two lines that say
who holds it (its PID and command) or what is read-only and why, never a traceback; the
submissions graded before stay; a rerun once the cause is gone grades the rest."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

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

pytestmark = [pytest.mark.slow, needs_bwrap, pytest.mark.xdist_group("faults_gradebook")]

STUDENTS = [f"s{i}" for i in range(4)]
LOCKER = ("import sqlite3, sys\n"
          "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
          "db.execute('BEGIN EXCLUSIVE')\n"
          "print('locked', flush=True)\n"
          "sys.stdin.read()\n")


def test_a_gradebook_locked_mid_class_names_its_holder(tmp_path, template):
    root = make_class(tmp_path / "course", template, {s: with_cells("import time\ntime.sleep(0.6)") for s in STUDENTS})
    holder: list[subprocess.Popen] = []

    def lock_after_the_first() -> None:
        while not graded_students(root):
            threading.Event().wait(0.05)
        locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(root / "gradebook.db")], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        locker.stdout.readline()
        holder.append(locker)

    thread = threading.Thread(target=lock_after_the_first, daemon=True)
    thread.start()
    try:
        done = autograder_cli(root, "--workers", "1")
        thread.join(timeout=60)
        out = " ".join(done.stdout.split())
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"stopped: the gradebook {root / 'gradebook.db'} is locked by PID {holder[0].pid} (python" in out
        assert "close it or wait for it to finish" in out
        assert "Traceback" not in done.stdout + done.stderr
    finally:
        for locker in holder:
            locker.stdin.close()
            locker.wait()
    graded = graded_students(root)
    assert 1 <= len(graded) < len(STUDENTS)
    assert scores(root) == dict.fromkeys(graded, FULL)
    assert_consistent(root)
    rerun = autograder_cli(root, "--workers", "1")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert scores(root) == dict.fromkeys(STUDENTS, FULL)
    assert_consistent(root)


@needs_mounts
def test_a_read_only_gradebook_says_what_is_read_only(tmp_path, template):
    root = make_class(tmp_path / "course", template, {"ann": reference()})
    database = root / "gradebook.db"
    subprocess.run(["mount", "--bind", str(database), str(database)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(database)], check=True)
        done = autograder_cli(root, "--workers", "1")
    finally:
        subprocess.run(["umount", str(database)], check=False)
    out = " ".join(done.stdout.split())
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"stopped: cannot write the gradebook {database}: its file system is mounted read-only" in out
    assert "Traceback" not in done.stdout + done.stderr and len(done.stdout.splitlines()) < 30
    assert scores(root) == {}
    rerun = autograder_cli(root, "--workers", "1")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert scores(root) == {"ann": FULL}
    assert_consistent(root)
