"""The coordinator's side of the workers: start zygotes, hand out jobs, read results.

One thread per worker sends a job and relays that job's events to one queue, which
the coordinator's main thread reads. A worker that dies, stops answering or says
something without its token ends its job with status ``lost`` (not the student's
fault: the coordinator runs the job again) and is replaced by a fresh one; no other
job is affected. A worker that cannot start keeps bubblewrap's own words.
"""

from __future__ import annotations

import collections
import logging
import os
import queue
import secrets
import select
import signal
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.grading.limits import Limits, PidsCgroups
from coursekit.runtime import protocol

#: Where the workers' own stderr goes (the CLI adds its log file to it).
WORKER_LOG = logging.getLogger("autograder.workers")

#: Seconds a zygote may take to import torch and get ready.
START_TIMEOUT = 120.0
#: Seconds over a cell's time limit (and its interrupt grace) that a worker may stay silent.
SILENCE_SLACK = 30.0


@dataclass
class Job:
    """One submission's code cells, to be run in one fresh child."""

    job_id: str
    cells: list[dict[str, Any]]  # {"index", "source", "test"}
    files: dict[str, str] = field(default_factory=dict)  # relative path -> base64
    attempt: int = 1


@dataclass
class Event:
    """A cell's outputs (``index`` set) or the end of a job (``done``).

    ``status`` of a done event: the zygote's (see ``coursekit.runtime.zygote``), or
    ``lost`` (the worker failed) and ``nostart`` (no worker could start).
    """

    job_id: str
    index: int | None = None
    outputs: list[dict[str, Any]] = field(default_factory=list)
    execution_count: int | None = None
    done: bool = False
    status: str = "ok"
    problems: list[str] = field(default_factory=list)
    fault: dict[str, Any] | None = None
    attempt: int = 1


class WorkerFailed(RuntimeError):
    """A zygote could not start, or stopped talking sensibly."""


class Worker:
    """One sandboxed zygote process."""

    def __init__(self, argv: list[str], log: Callable[[str], None], env: dict[str, str] | None = None,
                 cgroups: PidsCgroups | None = None) -> None:
        self.argv = argv
        self.log = log
        self.env = env
        self.cgroups = cgroups
        self.cgroup: Path | None = None
        self.token = secrets.token_hex(16)
        self.process: subprocess.Popen[bytes] | None = None
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=20)
        self._stderr_thread: threading.Thread | None = None

    def start(self, sandboxed: bool, warmup: list[str] | None = None, tasks: int = 0) -> None:
        argv = self.argv
        if self.cgroups is not None:
            self.cgroup = self.cgroups.create()
            if self.cgroup is not None:
                argv = PidsCgroups.wrap(argv, self.cgroup)
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, start_new_session=True, env=self.env)
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_thread.start()
        try:
            self._write({"token": self.token, "sandboxed": sandboxed, "warmup": warmup or []})
            ready = self._read(START_TIMEOUT)
        except (OSError, ValueError, protocol.ProtocolError, WorkerFailed):
            ready = None
        if ready is None or not ready.get("ready"):
            raise WorkerFailed(self._start_failure())
        if self.cgroup is not None:
            PidsCgroups.limit(self.cgroup, tasks)

    def _start_failure(self) -> str:
        """Why the worker did not start, in bubblewrap's (or Python's) own words."""
        assert self.process is not None
        try:
            self.process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            pass
        if self._stderr_thread is not None:
            self._stderr_thread.join(timeout=1)
        said = [line for line in self.stderr_tail if line.strip()]
        code = self.process.poll()
        how = "it is still running" if code is None else _exit_words(code)
        return f"{' / '.join(said[-3:])} ({how})" if said else f"it stopped without a word ({how})"

    def _drain_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        for line in self.process.stderr:
            text = line.decode(errors="replace").rstrip()
            if text:  # chatter (warnings at import), not a problem of any submission
                self.stderr_tail.append(text)
                WORKER_LOG.info("worker %s: %s", self.process.pid, text)

    def _write(self, message: dict[str, Any]) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(protocol.encode(message))
        self.process.stdin.flush()

    def _read(self, timeout: float) -> dict[str, Any] | None:
        assert self.process is not None and self.process.stdout is not None
        fd = self.process.stdout.fileno()
        if not select.select([fd], [], [], timeout)[0]:
            raise WorkerFailed(f"the worker said nothing for {timeout:g} s")
        message = protocol.read_fd(fd)
        if message is not None and message.get("token") != self.token:
            raise WorkerFailed("a message without the worker's token")
        return message

    def run(self, job: Job, timeout: float, memory: int, limits: Limits, emit: Callable[[Event], None]) -> None:
        """Run ``job``, emitting its events; a broken worker ends it with status ``lost``."""
        pending = {cell["index"] for cell in job.cells}
        silence = timeout + 3 + SILENCE_SLACK
        try:
            self._write({"op": "job", "job": job.job_id, "cells": job.cells, "files": job.files,
                         "timeout": timeout, "memory": memory, "limits": limits.for_job()})
            while True:
                message = self._read(silence)
                if message is None:
                    raise WorkerFailed(f"the worker stopped ({self._exit_status()})")
                if message.get("job") != job.job_id:
                    raise WorkerFailed("a message about another job")
                if message.get("done"):
                    fault = message.get("fault")
                    emit(Event(job.job_id, done=True, status=str(message.get("status", "ok")),
                               problems=[str(p) for p in message.get("problems", [])],
                               fault=fault if isinstance(fault, dict) else None, attempt=job.attempt))
                    return
                index = message.get("index")
                if index not in pending:
                    raise WorkerFailed(f"a result for cell {index!r}, which was not pending")
                pending.discard(index)
                outputs = message.get("outputs")
                emit(Event(job.job_id, index=index, outputs=outputs if isinstance(outputs, list) else [],
                           execution_count=message.get("execution_count"), attempt=job.attempt))
        except Exception as error:  # noqa: BLE001 - whatever broke, the job ends and says why
            emit(Event(job.job_id, done=True, status="lost", problems=[f"the worker failed: {error}"],
                       attempt=job.attempt))
            self.stop()
            raise WorkerFailed(str(error)) from error

    def _exit_status(self) -> str:
        assert self.process is not None
        try:
            code = self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            return "it closed its output"
        return _exit_words(code)

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
            self.kill()

    def kill(self) -> None:
        """Stop the worker and everything in its sandbox now."""
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        if self.cgroup is not None:
            PidsCgroups.remove(self.cgroup)
            self.cgroup = None


def _exit_words(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


class Pool:
    """``size`` workers draining a job queue in parallel; events arrive on :attr:`events`."""

    def __init__(self, argv: list[str], size: int, *, sandboxed: bool, timeout: float, memory: int,
                 log: Callable[[str], None], env: dict[str, str] | None = None,
                 warmup: list[str] | None = None, limits: Limits | None = None,
                 cgroups: PidsCgroups | None = None) -> None:
        self.argv, self.size, self.sandboxed, self.env = argv, size, sandboxed, env
        self.warmup = warmup or []
        self.timeout, self.memory, self.log = timeout, memory, log
        self.limits = limits or Limits(memory=memory)
        self.cgroups = cgroups
        self.jobs: queue.Queue[Job | None] = queue.Queue()
        self.events: queue.Queue[Event] = queue.Queue()
        self.threads: list[threading.Thread] = []
        self.start_errors: list[str] = []
        self.live: list[Worker] = []
        self.closing = False
        self.ever_ready = False

    def submit(self, job: Job) -> None:
        self.jobs.put(job)

    def start(self) -> None:
        for number in range(self.size):
            thread = threading.Thread(target=self._serve, name=f"worker-{number}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def alive(self) -> bool:
        """Whether any worker thread is still serving."""
        return any(thread.is_alive() for thread in self.threads)

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

    def abort(self) -> None:
        """Stop everything now: queued jobs are dropped, running ones killed."""
        self.closing = True
        while True:
            try:
                self.jobs.get_nowait()
            except queue.Empty:
                break
        for _ in self.threads:
            self.jobs.put(None)
        for worker in list(self.live):
            worker.kill()
        for thread in self.threads:
            thread.join(timeout=5)

    def _new_worker(self) -> Worker | None:
        """A started worker; a second fresh one if the first does not start; None if neither does."""
        return self._start_one() or self._start_one()

    def _start_one(self) -> Worker | None:
        if self.closing:
            return None
        worker = Worker(self.argv, self.log, self.env, self.cgroups)
        self.live.append(worker)
        try:
            worker.start(self.sandboxed, self.warmup, self.limits.processes)
        except (WorkerFailed, OSError, ValueError, protocol.ProtocolError) as error:
            worker.kill()
            self._forget(worker)
            if not self.closing:
                if str(error) not in self.start_errors:  # each different reason once
                    self.log(f"could not start a worker: {error}")
                self.start_errors.append(str(error))
            return None
        self.ever_ready = True
        return worker

    def _forget(self, worker: Worker) -> None:
        try:
            self.live.remove(worker)
        except ValueError:
            pass

    def _serve(self) -> None:
        worker = self._new_worker()
        while True:
            job = self.jobs.get()
            if job is None:
                break
            if self.closing and worker is None:
                continue
            if worker is None:
                worker = self._new_worker()
            if worker is None:
                self.events.put(Event(job.job_id, done=True, status="nostart", attempt=job.attempt,
                                      problems=["no worker could start: " + "; ".join(self.start_errors[-1:])]))
                continue
            try:
                worker.run(job, self.timeout, self.memory, self.limits, self.events.put)
            except WorkerFailed as error:
                if not self.closing:
                    self.log(f"worker replaced after job {job.job_id}: {error}")
                self._forget(worker)
                worker = None
            except Exception as error:  # noqa: BLE001 - a bug here must not leave the job unanswered
                self.log(f"worker thread error on job {job.job_id}: {type(error).__name__}: {error}")
                self.events.put(Event(job.job_id, done=True, status="lost", attempt=job.attempt,
                                      problems=[f"the grader failed: {type(error).__name__}: {error}"]))
                worker.kill()
                self._forget(worker)
                worker = None
        if worker is not None:
            worker.stop()
            self._forget(worker)


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
