"""The Dask executor's pieces that need no cluster: the worker's sandbox command line, names, keys."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from autograder.grading import launch, sandbox
from tests import dask_cluster
from tests.pg import unavailable

if dask_cluster.MISSING:
    unavailable(dask_cluster.MISSING)

from autograder.grading.executors import dask as dask_executor  # noqa: E402 - only where dask is installed


@pytest.mark.skipif(sandbox.find_bwrap() is None, reason="bubblewrap (bwrap) is not installed")
def test_a_worker_hides_the_folders_its_operator_names(tmp_path):
    """Another course's folder inside one the sandbox shows (the virtual environment here, as
    when all courses and their Python live under /srv/courses) is hidden when named; naming a
    folder that holds the Python hides the rest of it, not the Python."""
    try:
        other = Path(tempfile.mkdtemp(prefix="other-course-", dir=sys.prefix))
    except OSError as error:
        pytest.skip(f"cannot make a folder in this Python's environment {sys.prefix}: {error}")
    try:
        (other / "gradebook.db").write_text("another course's")
        (other / "source").mkdir()
        show = [sys.executable, "-I", "-S", "-c", f"import os; print(sorted(os.listdir({str(other)!r})))"]
        argv, _ = launch.worker_command(tmp_path, "sqlite:///nowhere.db", True, command=show)

        def listing(command: list[str]) -> str:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
            assert done.returncode == 0, done.stderr
            return done.stdout.strip()

        assert listing(argv) == "['gradebook.db', 'source']"
        assert listing(dask_executor.hide_more(argv, f"{other}:/no/such/folder")) == "[]"
        assert listing(dask_executor.hide_more(argv, f"{other / 'gradebook.db'}")) == "['gradebook.db', 'source']"
        hidden = dask_executor.hide_more(argv, str(other / "gradebook.db"))
        assert hidden[hidden.index("/dev/null") + 1] == str(other / "gradebook.db")  # an empty file in its place
        # Naming the folder that holds the Python (and this folder) hides the rest of it: the Python still runs.
        assert listing(dask_executor.hide_more(argv, str(Path(sys.prefix).parent))) == "['gradebook.db', 'source']"
        unchanged = dask_executor.hide_more(argv, "/var/tmp")  # the sandbox does not show it anyway
        assert unchanged == argv
    finally:
        shutil.rmtree(other, ignore_errors=True)


def test_a_gpu_sandbox_gets_the_devices_and_cuda_visible_devices(monkeypatch):
    argv = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--chdir", "/tmp", "--", "python"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    changed = dask_executor.with_gpu_devices(argv)
    devices = sorted(str(p) for p in Path("/dev").glob("nvidia*") if not p.is_dir())
    assert changed[:6] == argv[:6]
    assert changed[-6:] == argv[-6:]
    added = changed[6:-6]
    assert added[-3:] == ["--setenv", "CUDA_VISIBLE_DEVICES", "1"]
    assert added[:-3] == [arg for device in devices for arg in ("--dev-bind", device, device)]


def test_task_keys_and_plugin_names():
    token = "0a1b2c3d"
    assert dask_executor._job_of(f"autograder-{token}-s-01/tensors-2", token) == ("s-01/tensors", 2)
    names = {dask_executor.plugin_name(Path(p), a) for p in ("/c/a", "/c/b") for a in ("01_tensors", "02_autograd")}
    assert len(names) == 4
    assert dask_executor.plugin_name(Path("/c/a"), "01_tensors") == dask_executor.plugin_name(Path("/c/a/"),
                                                                                                "01_tensors")


def test_a_worker_without_the_resource_starts_no_sandbox_until_a_job_comes():
    plugin = dask_executor.GraderPlugin({"resources": {"GPU": 1}})
    plugin.setup(SimpleNamespace(address="tcp://w:1", state=SimpleNamespace(nthreads=2, total_resources={})))
    assert plugin.pool is None and plugin.size == 2
    plugin.teardown(None)
    events = plugin.run({"job_id": "s/nb", "attempt": 1, "cells": []})["events"]
    assert [(e["status"], e["done"]) for e in events] == [("nostart", True)]
