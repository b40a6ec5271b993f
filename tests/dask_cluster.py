"""A real Dask cluster for the tests: ``dask scheduler`` and ``dask worker`` as separate processes.

Everything listens on 127.0.0.1 only. Each process gets a session of its own, so that a
test can kill one worker (and whatever it started) the way a machine is lost. The
workers have one thread each and no nanny (a killed worker stays dead). The scheduler
retries no task itself (``allowed-failures`` 0, Dask's default is 3): a task whose worker is
lost fails at once, so that the tests see the grader's own answer to it (the job ends as
``lost``, the coordinator runs it once more, no one is charged), not only Dask's.
:data:`MISSING` says why no cluster can start here (skip with it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.pg import free_port


def _missing() -> str | None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return "dask.distributed is not installed: pip install -e '.[dask]' (scripts/setup.sh --test)"
    return None


#: Why no cluster can start here (None: one can).
MISSING = _missing()


class ProcessCluster:
    """A scheduler and its workers, each a ``dask`` command of this Python's environment."""

    def __init__(self, workers: int = 2, folder: Path | None = None) -> None:
        self.folder = folder or Path(tempfile.mkdtemp(prefix="autograder-dask-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self.count = 0
        self.scheduler = self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                                   "--no-dashboard"])
        for _ in range(workers):
            self.add_worker(wait=False)
        self.wait_for(workers)

    def _start(self, name: str, args: list[str], prefix: list[str] | None = None) -> subprocess.Popen[bytes]:
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                   PYTHONWARNINGS="ignore", DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="0")
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        command = [*(prefix or []), str(Path(sys.executable).parent / "dask"), *args]
        return subprocess.Popen(command, cwd=self.folder, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def add_worker(self, resources: str = "", wait: bool = True, prefix: list[str] | None = None) -> str:
        """Start one more worker (one thread); its name. ``prefix``: a command to start it under
        (``["taskset", "-c", "1"]``)."""
        self.count += 1
        name = f"w{self.count}"
        args = ["worker", self.address, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny", "--no-dashboard",
                "--memory-limit", "0", "--name", name, "--local-directory", str(self.folder / name),
                "--death-timeout", "120"]
        if resources:
            args += ["--resources", resources]
        self.workers[name] = self._start(name, args, prefix)
        if wait:
            self.wait_for(len(self.live()))
        return name

    def live(self) -> list[str]:
        return [name for name, process in self.workers.items() if process.poll() is None]

    def kill(self, name: str) -> None:
        """Kill a worker and everything it started, at once (as when its machine is lost)."""
        process = self.workers[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def client(self):  # noqa: ANN201 - distributed.Client
        from distributed import Client

        return Client(self.address, timeout="60s", set_as_default=False)

    def wait_for(self, count: int, timeout: float = 180.0) -> None:
        """Until ``count`` workers have joined the scheduler."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.client() as client:
                    if count > 0:
                        client.wait_for_workers(count, timeout=max(1.0, deadline - time.monotonic()))
                    return
            except (OSError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the Dask cluster did not start; logs in {self.folder}") from None
                time.sleep(0.5)

    def worker_address(self, name: str) -> str | None:
        with self.client() as client:
            for address, info in client.scheduler_info()["workers"].items():
                if info.get("name") == name:
                    return address
        return None

    def close(self) -> None:
        for name in list(self.workers):
            self.kill(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.scheduler.pid, signal.SIGKILL)
        self.scheduler.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def running(workers: int = 2) -> Iterator[ProcessCluster]:
    cluster = ProcessCluster(workers)
    try:
        yield cluster
    finally:
        cluster.close()
