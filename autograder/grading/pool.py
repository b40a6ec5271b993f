"""The coordinator's side of the workers: start zygotes, hand out jobs, read results.

One thread per worker sends a job and relays that job's events to one queue, which
the coordinator's main thread reads. A worker that dies (or says something without
its token) fails the rest of its job and is replaced by a fresh one; no other job is
affected.
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursekit.runtime import protocol

#: Where the workers' own stderr goes (the CLI adds its log file to it).
WORKER_LOG = logging.getLogger("autograder.workers")

#: Seconds a zygote may take to import torch and get ready.
START_TIMEOUT = 120.0


@dataclass
class Job:
    """One submission's code cells, to be run in one fresh child."""

    job_id: str
    cells: list[dict[str, Any]]  # {"index", "source", "test"}
    files: dict[str, str] = field(default_factory=dict)  # relative path -> base64


@dataclass
class Event:
    """A cell's outputs (``index`` set) or the end of a job (``done``)."""

    job_id: str
    index: int | None = None
    outputs: list[dict[str, Any]] = field(default_factory=list)
    execution_count: int | None = None
    done: bool = False
    status: str = "ok"
    problems: list[str] = field(default_factory=list)


class WorkerFailed(RuntimeError):
    """A zygote could not start, or stopped talking sensibly."""


class Worker:
    """One sandboxed zygote process."""

    def __init__(self, argv: list[str], log: Callable[[str], None], env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.log = log
        self.env = env
        self.token = secrets.token_hex(16)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, sandboxed: bool, warmup: list[str] | None = None) -> None:
        self.process = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, start_new_session=True, env=self.env)
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        self._write({"token": self.token, "sandboxed": sandboxed, "warmup": warmup or []})
        ready = self._read()
        if ready is None or not ready.get("ready"):
            raise WorkerFailed(f"a worker did not start (exit status {self.process.poll()})")

    def _drain_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        for line in self.process.stderr:
            text = line.decode(errors="replace").rstrip()
            if text:  # chatter (warnings at import), not a problem of any submission
                WORKER_LOG.info("worker %s: %s", self.process.pid, text)

    def _write(self, message: dict[str, Any]) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(protocol.encode(message))
        self.process.stdin.flush()

    def _read(self) -> dict[str, Any] | None:
        assert self.process is not None and self.process.stdout is not None
        message = protocol.read_fd(self.process.stdout.fileno())
        if message is not None and message.get("token") != self.token:
            raise WorkerFailed("a message without the worker's token")
        return message

    def run(self, job: Job, timeout: float, memory: int, emit: Callable[[Event], None]) -> None:
        """Run ``job``, emitting its events; a broken worker fails the cells it had left."""
        pending = [cell["index"] for cell in job.cells]
        try:
            self._write({"op": "job", "job": job.job_id, "cells": job.cells, "files": job.files,
                         "timeout": timeout, "memory": memory})
            while True:
                message = self._read()
                if message is None:
                    raise WorkerFailed("the worker exited")
                if message.get("job") != job.job_id:
                    raise WorkerFailed("a message about another job")
                if message.get("done"):
                    emit(Event(job.job_id, done=True, status=str(message.get("status", "ok")),
                               problems=[str(p) for p in message.get("problems", [])]))
                    return
                index = message.get("index")
                if index not in pending:
                    raise WorkerFailed(f"a result for cell {index!r}, which was not pending")
                pending.remove(index)
                outputs = message.get("outputs")
                emit(Event(job.job_id, index=index, outputs=outputs if isinstance(outputs, list) else [],
                           execution_count=message.get("execution_count")))
        except (WorkerFailed, protocol.ProtocolError, OSError, ValueError) as error:
            for index in pending:
                emit(Event(job.job_id, index=index, outputs=[{
                    "output_type": "error", "ename": "WorkerDied", "evalue": str(error),
                    "traceback": [f"WorkerDied: {error}"]}]))
            emit(Event(job.job_id, done=True, status="died", problems=[f"worker failed: {error}"]))
            self.stop()
            raise

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            if self.process.poll() is None:
                try:
                    self._write({"op": "quit"})
                    self.process.stdin.close()  # type: ignore[union-attr]
                    self.process.wait(timeout=0.5)
                except (OSError, ValueError, subprocess.TimeoutExpired):
                    pass
        finally:
            if self.process.poll() is None:
                try:
                    os.killpg(self.process.pid, 9)
                except ProcessLookupError:
                    pass
                self.process.wait()


class Pool:
    """``size`` workers draining a job queue in parallel; events arrive on :attr:`events`."""

    def __init__(self, argv: list[str], size: int, *, sandboxed: bool, timeout: float, memory: int,
                 log: Callable[[str], None], env: dict[str, str] | None = None,
                 warmup: list[str] | None = None) -> None:
        self.argv, self.size, self.sandboxed, self.env = argv, size, sandboxed, env
        self.warmup = warmup or []
        self.timeout, self.memory, self.log = timeout, memory, log
        self.jobs: queue.Queue[Job | None] = queue.Queue()
        self.events: queue.Queue[Event] = queue.Queue()
        self.threads: list[threading.Thread] = []
        self.start_errors: list[str] = []
        self.live: list[Worker] = []
        self.closing = False

    def submit(self, job: Job) -> None:
        self.jobs.put(job)

    def start(self) -> None:
        for number in range(self.size):
            thread = threading.Thread(target=self._serve, name=f"worker-{number}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def close(self) -> None:
        """Stop the workers once their jobs are done; one still starting is killed at once."""
        self.closing = True
        for _ in self.threads:
            self.jobs.put(None)
        for thread in self.threads:
            thread.join(timeout=0.2)
        for worker in list(self.live):
            worker.stop()
        for thread in self.threads:
            thread.join()

    def _new_worker(self) -> Worker | None:
        if self.closing:
            return None
        worker = Worker(self.argv, self.log, self.env)
        self.live.append(worker)
        try:
            worker.start(self.sandboxed, self.warmup)
        except (WorkerFailed, OSError, ValueError, protocol.ProtocolError) as error:
            worker.stop()
            self.live.remove(worker)
            if not self.closing:
                self.start_errors.append(str(error))
                self.log(f"could not start a worker: {error}")
            return None
        return worker

    def _serve(self) -> None:
        worker = self._new_worker()
        failures = 0
        while True:
            job = self.jobs.get()
            if job is None:
                break
            if worker is None:
                worker = self._new_worker()
            if worker is None:
                failures += 1
                for cell in job.cells:
                    self.events.put(Event(job.job_id, index=cell["index"], outputs=[{
                        "output_type": "error", "ename": "WorkerDied", "evalue": "no worker could start",
                        "traceback": []}]))
                self.events.put(Event(job.job_id, done=True, status="failed",
                                      problems=["no worker could start: " + "; ".join(self.start_errors[-1:])]))
                continue
            try:
                worker.run(job, self.timeout, self.memory, self.events.put)
            except (WorkerFailed, protocol.ProtocolError, OSError, ValueError) as error:
                self.log(f"worker replaced after job {job.job_id}: {error}")
                if worker in self.live:
                    self.live.remove(worker)
                worker = None
        if worker is not None:
            worker.stop()
            if worker in self.live:
                self.live.remove(worker)


def default_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a zygote: one thread per worker, no GUI, nothing of the caller's."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
        "NBGRADER_EXECUTION": "autograde",
    }
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "matplotlib"
    if cache.is_dir():  # the zygote copies matplotlib's font list from here instead of rebuilding it
        env["AUTOGRADER_MPL_CACHE"] = str(cache)
    env.update(extra or {})
    return env


def package_dir() -> Path:
    """The folder of the instructor's ``autograder`` package (the sandbox hides it)."""
    import autograder

    return Path(autograder.__file__).resolve().parent


def kit_dir() -> Path:
    """The folder of the student kit's ``coursekit`` package (the sandbox runs it)."""
    import coursekit

    return Path(coursekit.__file__).resolve().parent
