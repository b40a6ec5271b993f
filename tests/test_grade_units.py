"""Unit tests of the batch grader's parts: frames, sandbox command, settings, guard, test-cell runner."""

from __future__ import annotations

import builtins
import json
import math
import os
import sys
import time
from pathlib import Path

import pytest
import torch

from autograder.grading import faults, limits, plan, sandbox, settings
from autograder.grading.state import STATE_FILE, State, atomic_write
from coursekit.runtime import guard, kernel, protocol


def test_frames_round_trip_through_a_pipe():
    read, write = os.pipe()
    protocol.write_fd(write, {"a": 1, "text": "é" * 10})
    os.close(write)
    assert protocol.read_fd(read) == {"a": 1, "text": "é" * 10}
    assert protocol.read_fd(read) is None


@pytest.mark.parametrize("raw", [b"\x00\x00\x00\x02[]", b"\x00\x00\x00\x03{no", b"\x00\x00\x00\x09{}",
                                 b"\xff\xff\xff\xff"])
def test_bad_frames_are_protocol_errors(raw):
    read, write = os.pipe()
    os.write(write, raw)
    os.close(write)
    with pytest.raises(protocol.ProtocolError):
        protocol.read_fd(read)


def test_bwrap_command_isolates(tmp_path):
    course = tmp_path / "course"
    (course / "submitted").mkdir(parents=True)
    (course / "gradebook.db").write_text("")
    inside = Path(sandbox.code_folders()[0])  # a folder the sandbox shows: hiding takes effect there
    hidden_dir = next(p for p in inside.iterdir() if p.is_dir() and not p.is_symlink())
    hidden_file = next(p for p in hidden_dir.rglob("*") if p.is_file() and not p.is_symlink())
    argv = sandbox.bwrap_command("/usr/bin/bwrap", ["python", "-m", "x"],
                                 hide=[course, course / "gradebook.db", hidden_dir, hidden_file], env={"A": "1"})
    joined = " ".join(argv)
    for flag in ("--ro-bind /usr /usr", "--tmpfs /tmp", "--unshare-all", "--die-with-parent", "--new-session",
                 "--cap-drop ALL", "--clearenv", f"--tmpfs {hidden_dir} --remount-ro {hidden_dir}",
                 f"--ro-bind /dev/null {hidden_file}", "--remount-ro /", "--setenv A 1"):
        assert flag in joined, flag
    assert "--ro-bind / /" not in joined  # only the system's folders, the Python and the kit
    assert str(course) not in joined  # outside every folder shown: absent already, nothing to cover
    assert argv[-4:] == ["--", "python", "-m", "x"]


def test_code_folders_are_the_python_and_the_kit_never_a_checkout():
    import coursekit

    folders = sandbox.code_folders()
    kit = Path(coursekit.__file__).resolve().parents[1]
    assert any(f == kit or f in kit.parents for f in folders)
    assert any(f == Path(sys.prefix).resolve() or f in Path(sys.prefix).resolve().parents for f in folders)
    repo = Path(__file__).resolve().parents[1]
    assert repo not in folders and not any(f in repo.parents for f in folders)  # the checkout itself


@pytest.mark.skipif(sandbox.find_bwrap() is None, reason="bubblewrap (bwrap) is not installed")
def test_a_worker_sees_no_folder_of_the_disk_but_the_system_python_and_kit(tmp_path):
    """Another checkout of the course anywhere (a home folder, /work, /opt) is out of sight."""
    import subprocess

    show = sorted({Path(part).parts[1] for part in map(str, sandbox.code_folders())})
    script = "import os, json; print(json.dumps([sorted(os.listdir('/')), os.path.isdir(os.path.expanduser('~root'))]))"
    argv = sandbox.bwrap_command(sandbox.find_bwrap(), [sys.executable, "-I", "-c", script], hide=[], env={})
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)
    top, _ = json.loads(done.stdout)
    allowed = {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "sys", "dev", "proc", "tmp", *show}
    assert set(top) <= allowed, set(top) - allowed
    repo = Path(__file__).resolve().parents[1]
    check = "import os, sys; print(sorted(os.listdir(sys.argv[1])) if os.path.isdir(sys.argv[1]) else [])"
    argv = sandbox.bwrap_command(sandbox.find_bwrap(), [sys.executable, "-I", "-c", check, str(repo)],
                                 hide=[], env={})
    seen = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True).stdout
    assert "autograder" not in seen and "source" not in seen, seen


def test_hidden_paths_hide_the_course_and_the_answer_key_but_not_the_kit(tmp_path):
    outside = tmp_path / "course"
    outside.mkdir()
    package = tmp_path / "site-packages" / "autograder"
    kit = tmp_path / "site-packages" / "coursekit"
    assert sandbox.hidden_paths(outside, package, kit) == sorted([outside.resolve(), package.resolve()])
    inside = tmp_path / "repo"
    for name in ("autograder", "kit/coursekit", "source", "submitted", "autograded", ".venv"):
        (inside / name).mkdir(parents=True)
    (inside / "gradebook.db").write_text("")
    hidden = sandbox.hidden_paths(inside, inside / "autograder", inside / "kit" / "coursekit")
    assert {p.name for p in hidden} == {"autograder", "source", "submitted", "autograded", "gradebook.db"}


def test_missing_bwrap_says_how_to_install(monkeypatch):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap"):
        sandbox.require_bwrap()


def test_settings_follow_the_course_config(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.db_url = 'sqlite:///gb.db'\nc.Execute.timeout = 7\n")
    config = settings.load_config(tmp_path)
    assert settings.db_url(config, tmp_path) == f"sqlite:///{tmp_path.resolve() / 'gb.db'}"
    assert settings.cell_timeout(config) == 7.0
    empty = settings.load_config(tmp_path / "nothing")
    assert settings.cell_timeout(empty) == 30.0
    assert settings.absolute_db_url("postgresql://h/db", tmp_path) == "postgresql://h/db"


@pytest.fixture
def snapshot():
    snap = guard.Snapshot()
    yield snap
    snap.restore(sys.stdout, sys.stderr)


def test_snapshot_restores_builtins_and_modules(snapshot):
    real_abs, real_isclose = builtins.abs, math.isclose
    try:
        builtins.abs = lambda x: 0
        math.isclose = lambda *a, **k: True
        assert set(snapshot.changes()) >= {"builtins.abs", "math.isclose"}
        snapshot.restore(sys.stdout, sys.stderr)
        assert builtins.abs is real_abs and math.isclose is real_isclose
        assert snapshot.changes() == []
    finally:
        builtins.abs, math.isclose = real_abs, real_isclose


def test_snapshot_notices_added_builtins_and_class_patches(snapshot):
    try:
        builtins.sneaky = 1
        torch.Tensor.__bool__ = lambda self: True
        changed = snapshot.changes()
        assert "builtins.sneaky" in changed
        assert any(c.endswith("Tensor.__bool__") for c in changed)
    finally:
        snapshot.restore(sys.stdout, sys.stderr)
    assert not hasattr(builtins, "sneaky")
    assert "__bool__" not in vars(torch.Tensor)


def _run(source: str, namespace: dict, snap: guard.Snapshot) -> list[dict]:
    return kernel.run_test_cell(source, namespace, snap, 1, lambda s: s)


def test_test_cell_pass_fail_and_exit(snapshot):
    ns: dict = {}
    assert _run("x = 1\nprint('hi')", ns, snapshot) == [{"output_type": "stream", "name": "stdout", "text": "hi\n"}]
    for source, ename in (("assert False, 'no'", "AssertionError"), ("import sys; sys.exit(0)", "SystemExit"),
                          ("raise KeyboardInterrupt", "KeyboardInterrupt"), ("1/0", "ZeroDivisionError")):
        outputs = _run(source, ns, snapshot)
        assert outputs[-1]["output_type"] == "error" and outputs[-1]["ename"] == ename, source


def test_test_cell_trailing_value_is_an_execute_result(snapshot):
    outputs = _run("x = 0.5\nx", {}, snapshot)
    assert outputs == [{"output_type": "execute_result", "execution_count": 1, "data": {"text/plain": "0.5"},
                        "metadata": {}}]
    assert _run("x = 0.5\nx;", {}, snapshot) == []


def test_test_cell_that_patches_fails_and_is_undone(snapshot):
    real_abs = builtins.abs
    ns = {"f": lambda: setattr(builtins, "abs", lambda x: 0)}
    outputs = _run("f()\nassert abs(-3) == 0", ns, snapshot)
    assert outputs[-1]["ename"] == "TamperError" and "builtins.abs" in outputs[-1]["evalue"]
    assert builtins.abs is real_abs


def test_test_cell_runs_on_restored_state(snapshot):
    real_abs = builtins.abs
    try:
        builtins.abs = lambda x: 0
        outputs = _run("assert abs(-3) == 3", {}, snapshot)
        assert outputs == []
    finally:
        builtins.abs = real_abs


def test_error_line_is_reported_without_frames(snapshot):
    outputs = _run("x = 1\n\nassert x == 2, 'x is not 2'", {}, snapshot)
    assert "line 3" in "\n".join(outputs[-1]["traceback"])


def test_recorder_merges_consecutive_streams():
    recorder = kernel.Recorder()
    recorder.stream("stderr", "a")
    recorder.stream("stderr", "b")
    recorder.stream("stdout", "c")
    assert [o["text"] for o in recorder.outputs] == ["ab", "c"]


def test_audit_policy_names():
    assert "sys.settrace" in guard._REFUSED_EVENTS and "gc.get_referrers" in guard._REFUSED_EVENTS
    assert "ctypes.cdata" in guard._REFUSED_CTYPES
    assert Path(guard.__file__).exists()


def test_sandbox_binds_back_a_python_kept_under_tmp(monkeypatch, tmp_path):
    """A checkout or venv under /tmp must survive the sandbox's empty /tmp (CI clones live there)."""
    from autograder.grading import sandbox

    venv = Path("/tmp") / "some-ci-clone" / ".venv"
    monkeypatch.setattr(sandbox.sys, "prefix", str(venv))
    argv = sandbox.bwrap_command("bwrap", ["python"], hide=[], env={})
    assert argv.index(str(venv)) > argv.index("/tmp")  # bound after the tmpfs that hides /tmp
    assert ["--ro-bind", str(venv), str(venv)] == argv[argv.index(str(venv)) - 1:argv.index(str(venv)) + 2]
    monkeypatch.setattr(sandbox.sys, "prefix", "/usr")
    assert sandbox.bwrap_command("bwrap", ["python"], hide=[], env={}).count("/usr") == 2  # its system bind only


# --- limits, faults and state (issue 11) ---


def test_recorder_collects_many_prints_in_linear_time():
    recorder = kernel.Recorder()
    started = time.perf_counter()
    for _ in range(50_000):
        recorder.stream("stdout", "y" * 100)
        recorder.stream("stdout", "\n")
    outputs = recorder.outputs
    assert time.perf_counter() - started < 2  # 148 s when each print copied the text so far
    assert len(outputs) == 1 and len(outputs[0]["text"]) < recorder.limit + 300


def test_recorder_keeps_head_and_tail_and_says_how_much_was_cut():
    recorder = kernel.Recorder(limit=100)
    recorder.stream("stdout", "a" * 40)
    recorder.stream("stdout", "b" * 1000)
    recorder.display({"text/plain": "big" * 100}, {})
    recorder.stream("stdout", "END")
    recorder.error("ValueError", "x" * 100_000, ["line"] * 10)
    outputs = recorder.outputs
    text = outputs[0]["text"]
    assert text.startswith("a" * 40 + "b" * 10) and text.endswith("END")
    assert "990 characters of stdout and 1 displayed output cut here" in text
    assert outputs[-1]["output_type"] == "error"  # errors are never dropped, only shortened
    assert len(outputs[-1]["evalue"]) < kernel.Limits.error_text + 100
    assert kernel.last_cut() and not kernel.last_cut()


def test_recorder_cut_stderr_stays_stderr_and_observations_are_kept():
    recorder = kernel.Recorder(limit=10)
    recorder.stream("stderr", "e" * 100)
    recorder.observation({"check": "x", "observations": [1] * 100})
    names = [o.get("name") for o in recorder.outputs if o["output_type"] == "stream"]
    assert names == ["stderr"]
    assert any(o["output_type"] == "display_data" for o in recorder.outputs)


def test_lone_surrogates_and_invalid_bytes_are_replaced():
    recorder = kernel.Recorder()
    recorder.stream("stdout", "bad \ud800 text")
    assert recorder.outputs[0]["text"] == "bad \ufffd text"
    read, write = os.pipe()
    protocol.write_fd(write, {"text": "x \udcff y", "keys": {"\ud800": ["\ud83d\ude00", "\udfff"]}})
    body = b'{"raw": "caf\xe9"}'
    os.write(write, len(body).to_bytes(4, "big") + body)
    os.close(write)
    assert protocol.read_fd(read) == {"text": "x \ufffd y", "keys": {"\ufffd": ["\U0001f600", "\ufffd"]}}
    assert protocol.read_fd(read) == {"raw": "caf\ufffd"}


def test_sandbox_tmp_and_shm_have_sizes():
    argv = sandbox.bwrap_command("bwrap", ["python"], hide=[], env={}, tmp_size=1 << 29, shm_size=1 << 26)
    assert argv[argv.index("--tmpfs") - 2:argv.index("--tmpfs") + 2] == ["--size", str(1 << 29), "--tmpfs", "/tmp"]
    shm = argv.index("/dev/shm")
    assert argv[shm - 3:shm + 1] == ["--size", str(1 << 26), "--tmpfs", "/dev/shm"]
    assert limits.tmp_bytes(int(0.5 * (1 << 30))) == 1 << 29
    assert limits.tmp_bytes(8 << 30) == limits.TMP_CAP


def test_atomic_write_leaves_the_old_file_when_it_fails(tmp_path):
    target = tmp_path / "state.json"
    atomic_write(target, b"old")

    with pytest.raises(TypeError):
        atomic_write(target, None)  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


@pytest.mark.parametrize(("raw", "damaged"), [(b"", "empty"), (b"{not json", "not valid JSON"),
                                              (b'{"ann": "abc"}', "from an older version"),
                                              (b'{"version": 2, "assignments": {"a": {"ann": 3}}}',
                                               "malformed entries")])
def test_state_file_damage_is_recognised(tmp_path, raw, damaged):
    (tmp_path / STATE_FILE).write_bytes(raw)
    state = State.load(tmp_path)
    assert state.damaged == damaged
    state.record("a", "ann", "f", ["nb"])
    state.save()
    again = State.load(tmp_path)
    assert again.damaged is None and again.get("a", "ann") == {"fingerprint": "f", "notebooks": ["nb"]}


def test_course_lock_is_held_by_one_run_and_names_it(tmp_path):
    import subprocess

    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\nfrom autograder.grading.plan import course_lock\n"
        f"with course_lock({str(tmp_path)!r}):\n    print('held', flush=True)\n    sys.stdin.read()\n")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(plan.CourseBusy, match=f"PID {holder.pid}"), plan.course_lock(tmp_path):
            pass
    finally:
        holder.stdin.close()
        holder.wait()
    with plan.course_lock(tmp_path), plan.course_lock(tmp_path):  # free again; re-entrant in one thread
        pass


def test_machine_faults_are_recognised_in_their_wrappers(tmp_path):
    import errno
    import sqlite3

    database = tmp_path / "gradebook.db"
    sqlite3.connect(database).close()
    full = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x"))
    assert faults.environment_fault(full, gradebook=database, need=5 << 20).reason == "disk_full"
    assert "free at least 5.24 MB" in faults.environment_fault(full, gradebook=database, need=5 << 20).message
    try:
        try:
            raise sqlite3.OperationalError("database is locked")
        except sqlite3.OperationalError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        fault = faults.environment_fault(outer, gradebook=database)
    assert fault.reason == "gradebook_locked" and str(database) in fault.message
    readonly = faults.environment_fault(sqlite3.OperationalError("attempt to write a readonly database"),
                                        gradebook=database)
    assert readonly.reason == "read_only" and "its folder is" in readonly.message
    assert faults.environment_fault(ValueError("something else"), gradebook=database) is None


def test_torch_first_use_changes_nothing_the_guard_watches():
    """torch sets some globals at a process's first use of a feature (each optimizer class wraps
    its ``step``, the profiler's flags, ``torch.func``'s seed wrapper): the zygote's warm-up takes
    them all, so a student's first RMSprop or ``torch.func.grad`` is not a tamper."""
    import subprocess

    script = """
from coursekit.runtime import zygote
parts = zygote._warm_imports(["import torch"])
import torch
for cls in (torch.optim.RMSprop, torch.optim.AdamW, torch.optim.Adagrad, torch.optim.LBFGS, torch.optim.SGD):
    w = torch.zeros(2, requires_grad=True)
    opt = cls([w], lr=0.1)
    def closure():
        opt.zero_grad(); loss = (w ** 2).sum() + w.sum(); loss.backward(); return loss
    opt.step(closure)
torch.func.grad(lambda t: (t ** 3).sum())(torch.ones(3))
print([c for c in parts["snapshot"].changes() if not c.startswith("builtins.")])
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
