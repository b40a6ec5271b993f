"""The warm sandboxed workers on a Dask cluster: a drop-in for the local pool.

``autograder grade ASSIGNMENT --dask tcp://scheduler:8786`` (or ``--dask local:N``, a
``LocalCluster`` of N one-thread workers on this machine) grades as the local pool does,
with the work spread over the cluster:

- :class:`GraderPlugin`, a Dask ``WorkerPlugin`` registered once per run, starts on every
  worker (and every worker that joins later) a :class:`~autograder.grading.pool.Pool` of
  warm sandboxed zygotes, one per worker thread. Its command line (bubblewrap, what to
  hide, the process limit) is worked out on the worker machine by
  :func:`autograder.grading.launch.worker_command`, as the local pool does on this one.
  The zygotes stay warm across submissions: a task hands its job to an idle zygote, which
  forks a fresh child for it; no Python starts per task.
- :class:`DaskExecutor`, on the coordinator, has the local pool's interface (``submit``,
  ``events``, ``timeout``, ``alive``, ``close``, ``abort``): each job is one Dask task,
  whose result (every event of the job) streams back as soon as it is done. The
  coordinator alone writes the gradebook and ``autograded/``; workers never see either.
- Jobs and results cross the network as JSON text: the cells' source and the data files
  out, the outputs (JSON already) back. No Python object of a submission is ever pickled.
- A worker lost mid-submission (its machine, its process) makes the scheduler run the
  task again on another worker (Dask's ``allowed-failures``); past that, the job ends as
  ``lost``, which the coordinator runs once more and never charges to the student.
- ``gpu=True``: each task asks for a ``GPU`` resource (``dask worker ... --resources
  GPU=1``), and the worker's sandbox sees its ``/dev/nvidia*``. When no worker offers
  what the jobs need for ``wait`` seconds the run stops with a message that says so,
  instead of waiting forever.

Every worker needs this package (it holds the plugin), the student kit ``coursekit`` that
the sandbox runs, torch, and bubblewrap. The sandbox hides the instructor package, the
course folder and the gradebook on the worker machine as it does here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import queue
import secrets
import socket
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from distributed import Client, Future, LocalCluster, get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from autograder.grading import launch, limits, pool, sandbox, settings
from autograder.grading.plan import RunStopped

LOG = logging.getLogger("autograder.dask")

#: Seconds a run waits for a worker that can run its jobs (one with a GPU, for ``gpu``).
WAIT_FOR_WORKERS = 120.0
#: Seconds a worker keeps its zygotes warm without a job, after which it lets them go
#: (a coordinator that was killed cannot unregister its plugin); the next job starts them again.
IDLE_SECONDS = 600.0
#: The Dask resource a GPU job asks for.
GPU_RESOURCE = "GPU"
#: Worker environment variable: more folders (``os.pathsep``-separated) every sandbox of the
#: worker hides, besides the course folder, the gradebook and the instructor package: on a
#: machine shared by several courses, the folder that holds them all (``/srv/courses``).
HIDE_VARIABLE = "AUTOGRADER_HIDE"

Log = Callable[[str], None]


# --- the worker side ---


class GraderPlugin(WorkerPlugin):
    """On each Dask worker: a pool of warm sandboxed zygotes, one per worker thread.

    ``settings`` (plain JSON data) is everything the workers need from the coordinator: the
    course folder's path (hidden in the sandbox when the worker machine has it), the
    gradebook's URL (a SQLite file there is hidden too), the limits, the per-cell timeout
    and the warm-up code (the *release* notebook: no solution runs where student code runs).
    """

    idempotent = False

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings

    # Dask calls setup/teardown on the worker's event loop: both return at once.

    def setup(self, worker: Any) -> None:
        self.address = str(getattr(worker, "address", "?"))
        self.size = max(1, int(getattr(getattr(worker, "state", None), "nthreads", 0) or 1))
        self.lock = threading.Lock()
        self.routes: dict[tuple[str, int], queue.Queue[pool.Event]] = {}
        self.pool: pool.Pool | None = None
        self.error: str | None = None
        self.last_used = time.monotonic()
        self.stopped = False
        offered = getattr(getattr(worker, "state", None), "total_resources", None) or {}
        needs = self.settings.get("resources") or {}
        if all(float(offered.get(k, 0)) >= float(v) for k, v in needs.items()):
            self._ensure_pool()  # warm now; a worker that cannot take these jobs starts none until one comes

    def teardown(self, worker: Any) -> None:
        with self.lock:
            self.stopped = True
            workers, self.pool = self.pool, None
        if workers is not None:  # closing waits for a running job: not on the event loop
            threading.Thread(target=workers.abort, name="autograder-teardown", daemon=True).start()

    def _ensure_pool(self) -> pool.Pool | None:
        with self.lock:
            if self.stopped:
                return None
            if self.pool is None:
                try:
                    self.pool = worker_pool(self.settings, self.size, self._log)
                    self.error = None
                except Exception as error:  # noqa: BLE001 - said in every job's result
                    self.error = f"{type(error).__name__}: {error}"
                    LOG.error("autograder: no sandbox on this worker: %s", self.error)
                    return None
                threading.Thread(target=self._route, args=(self.pool,), name="autograder-router",
                                 daemon=True).start()
            self.last_used = time.monotonic()
            return self.pool

    def _log(self, message: str) -> None:
        LOG.warning("autograder: %s", message)

    def _route(self, workers: pool.Pool) -> None:
        """Hand each event of the pool to the task waiting for its job; let idle zygotes go."""
        while True:
            try:
                event = workers.events.get(timeout=5.0)
            except queue.Empty:
                with self.lock:
                    if self.pool is not workers:
                        return
                    if self.routes or time.monotonic() - self.last_used < IDLE_SECONDS:
                        continue
                    self.pool = None
                workers.close()
                return
            box = self.routes.get((event.job_id, event.attempt))
            if box is not None:
                box.put(event)

    def run(self, job: dict[str, Any]) -> dict[str, Any]:
        """Run one job on an idle zygote of this worker; every event of it, as JSON data."""
        workers = self._ensure_pool()
        job_id, attempt = str(job["job_id"]), int(job.get("attempt", 1))
        if workers is None:
            why = self.error or "the worker is shutting down"
            return {"events": [_nostart(job_id, attempt, f"no worker could start on {self.address}: {why}")],
                    "ready": False, "start_errors": [f"{self.address}: {why}"], "worker": self.address}
        box: queue.Queue[pool.Event] = queue.Queue()
        key = (job_id, attempt)
        self.routes[key] = box
        timeout = float(job.get("timeout") or workers.timeout)
        workers.timeout = timeout  # the same for every job of a run
        # The most a job can take: zygotes starting (twice), then each cell with its grace.
        deadline = time.monotonic() + 2 * pool.START_TIMEOUT + len(job["cells"]) * (timeout + 3 + pool.SILENCE_SLACK)
        events: list[dict[str, Any]] = []
        try:
            workers.submit(pool.Job(job_id, list(job["cells"]), dict(job.get("files") or {}), attempt))
            while True:
                try:
                    event = box.get(timeout=1.0)
                except queue.Empty:
                    if time.monotonic() < deadline and workers.alive():
                        continue
                    events.append(_event(job_id, attempt, "lost", f"the worker {self.address} stopped answering"))
                    break
                events.append(dataclasses.asdict(event))
                if event.done:
                    break
        finally:
            self.routes.pop(key, None)
            self.last_used = time.monotonic()
        errors = [f"{self.address}: {e}" for e in workers.start_errors[-3:]]
        return {"events": events, "ready": workers.ever_ready, "start_errors": errors, "worker": self.address}


def worker_pool(config: dict[str, Any], size: int, log: Log) -> pool.Pool:
    """A started pool of ``size`` zygotes on this machine, as ``launch.start_workers`` makes one
    (its sandbox worked out here), from the coordinator's ``config``."""
    root = Path(config["root"])
    sandboxed = bool(config["sandboxed"])
    memory = int(config["memory"])
    processes = int(config["processes"])
    tmp = limits.tmp_bytes(memory) if sandboxed else 0
    argv, env = launch.worker_command(root, str(config["db_url"]), sandboxed, bool(config["figures"]), tmp)
    if sandboxed:
        argv = hide_more(argv, os.environ.get(HIDE_VARIABLE, ""))
    if config.get("gpu") and sandboxed:
        argv = with_gpu_devices(argv)
    cgroups = None
    if sandboxed and processes > 0:
        cgroups = limits.PidsCgroups()
        if not cgroups.available():
            cgroups = None
    cell_output, notebook_output = (int(n) for n in config["output"])
    rules = limits.Limits(memory=memory, processes=processes, cell_output=cell_output,
                          notebook_output=notebook_output, tmp=tmp,
                          rlimit_nproc=sandboxed and processes > 0 and cgroups is None)
    workers = pool.Pool(argv, size, sandboxed=sandboxed, timeout=float(config["timeout"]), memory=memory, log=log,
                        env=env, warmup=[str(c) for c in config["warmup"]], limits=rules, cgroups=cgroups)
    workers.start()
    return workers


def hide_more(argv: list[str], paths: str) -> list[str]:
    """A bubblewrap command line that also hides ``paths`` (``os.pathsep``-separated), where the
    sandbox would see them: what a worker machine shared by several courses must keep from every
    sandbox when their folders lie inside one it shows (all of them and the virtual environment
    under ``/srv/courses``, say). A folder that holds the Python or the kit the sandbox runs is
    hidden entry by entry, those aside."""
    code = sandbox.code_folders()
    seen = sandbox.visible_folders()
    extra: list[str] = []
    for text in filter(None, paths.split(os.pathsep)):
        for path in _hideable(Path(text).resolve(), code):
            if not any(path == folder or folder in path.parents for folder in seen):
                continue  # outside what the sandbox shows: absent there already
            if path.is_dir() and not path.is_symlink():
                extra += ["--tmpfs", str(path), "--remount-ro", str(path)]
            elif path.exists() or path.is_symlink():
                extra += ["--ro-bind", "/dev/null", str(path)]
    # Before the sandbox's root is made read-only (and its working folder set): as bwrap_command hides.
    at = next((i for i in range(len(argv) - 1) if argv[i:i + 2] == ["--remount-ro", "/"]), None)
    if at is None:
        at = argv.index("--chdir") if "--chdir" in argv else None
    if not extra or at is None:
        return argv
    return [*argv[:at], *extra, *argv[at:]]


def _hideable(path: Path, code: list[Path]) -> list[Path]:
    """``path``, or (when it holds some of the ``code`` folders) its entries that hold none."""
    if path.is_symlink() or not path.is_dir():
        return [path]
    if path in code:
        return []
    if not any(path in c.parents for c in code):
        return [path]
    return [p for child in sorted(path.iterdir()) for p in _hideable(child, code)]


def with_gpu_devices(argv: list[str]) -> list[str]:
    """A bubblewrap command line that also shows the sandbox this machine's NVIDIA devices
    (and its ``CUDA_VISIBLE_DEVICES``, when the worker has one)."""
    try:
        at = argv.index("--dev") + 2
    except ValueError:
        return argv
    devices = sorted(str(p) for p in Path("/dev").glob("nvidia*") if not p.is_dir())
    binds = [arg for device in devices for arg in ("--dev-bind", device, device)]
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        binds += ["--setenv", "CUDA_VISIBLE_DEVICES", visible]
    return [*argv[:at], *binds, *argv[at:]]


def run_job(payload: str, plugin: str) -> str:
    """The Dask task: one job (JSON text) on this worker's warm zygotes; its events (JSON text)."""
    job = json.loads(payload)
    found = get_worker().plugins.get(plugin)
    if not isinstance(found, GraderPlugin):
        address = get_worker().address
        why = f"{address}: the grader's worker plugin is not set up here (see the worker's log)"
        return json.dumps({"events": [_nostart(job["job_id"], int(job.get("attempt", 1)), why)], "ready": False,
                           "start_errors": [why], "worker": address})
    return json.dumps(found.run(job))


def _event(job_id: str, attempt: int, status: str, problem: str) -> dict[str, Any]:
    return dataclasses.asdict(pool.Event(job_id, done=True, status=status, problems=[problem], attempt=attempt))


def _nostart(job_id: str, attempt: int, problem: str) -> dict[str, Any]:
    return _event(job_id, attempt, "nostart", problem)


# --- the coordinator side ---


class DaskExecutor:
    """Jobs on a Dask cluster, events on :attr:`events`: the local pool's interface.

    ``address``: a scheduler (``tcp://host:8786``) or ``local:N`` (a ``LocalCluster`` of N
    worker processes with one thread each, closed with the executor). ``settings``: what
    :class:`GraderPlugin` needs (see :func:`start_dask`). ``resources``: what each task asks
    of a worker (``{"GPU": 1}``); ``wait``: seconds without any worker that offers them
    before the run stops.
    """

    def __init__(self, address: str, settings: dict[str, Any], *, log: Log, name: str,
                 resources: dict[str, float] | None = None, wait: float = WAIT_FOR_WORKERS) -> None:
        self.address, self.settings, self.log, self.name = address, settings, log, name
        self.resources = dict(resources or {})
        self.wait = wait
        self.timeout = float(settings["timeout"])
        self.events: queue.Queue[pool.Event] = queue.Queue()
        self.start_errors: list[str] = []
        self.failure: str | None = None  # why the run cannot go on (said by the coordinator)
        self.closing = False
        self.run_token = secrets.token_hex(4)
        self.pending: dict[str, Future] = {}
        self._finished: queue.Queue[Future | None] = queue.Queue()
        self._ready = False
        self._broken: set[str] = set()  # workers whose sandbox could not start
        self._lock = threading.Lock()
        self._seen_suitable = time.monotonic()
        self._workers_cache: tuple[float, dict[str, Any]] = (0.0, {})
        self.cluster: LocalCluster | None = None
        self.client = self._connect(address)
        try:
            answers = self.client.register_plugin(GraderPlugin(settings), name=name)
        except Exception:
            self._shutdown()
            raise
        for worker, answer in (answers or {}).items():
            if isinstance(answer, dict) and answer.get("status") not in (None, "OK"):
                self.log(f"Dask worker {worker} could not set up the grader: {answer.get('exception') or answer}")
        self.monitor = threading.Thread(target=self._monitor, name="autograder-dask", daemon=True)
        self.monitor.start()

    def _connect(self, address: str) -> Client:
        try:
            if address.startswith("local:"):
                count = int(address.removeprefix("local:") or 0) or (os.cpu_count() or 1)
                with warnings.catch_warnings():  # "Port 8787 is already in use": no dashboard is asked for
                    warnings.simplefilter("ignore", UserWarning)
                    self.cluster = LocalCluster(n_workers=count, threads_per_worker=1, processes=True,
                                                dashboard_address=None, memory_limit=0, silence_logs=logging.ERROR)
                return Client(self.cluster, set_as_default=False)
            return Client(address, timeout=f"{max(1.0, min(30.0, self.wait)):g}s", set_as_default=False)
        except ValueError as error:
            self._shutdown()
            raise RunStopped(f"--dask {address}: expected a scheduler's address (tcp://host:8786) or local:N "
                             f"({error})", "error") from None
        except (OSError, TimeoutError) as error:
            self._shutdown()
            raise RunStopped(f"cannot reach the Dask scheduler at {address}: {error}: start it (`dask scheduler`) "
                             f"or fix --dask", "error") from None

    # --- the pool's interface ---

    @property
    def ever_ready(self) -> bool:
        """Whether some worker's sandbox started, or may yet (a worker not known to be broken)."""
        if self._ready:
            return True
        return bool(set(self._workers()) - self._broken)

    def submit(self, job: pool.Job) -> None:
        if self.failure is not None or self.closing:
            return
        payload = json.dumps({"job_id": job.job_id, "cells": job.cells, "files": job.files,
                              "attempt": job.attempt, "timeout": self.timeout})
        key = f"autograder-{self.run_token}-{job.job_id}-{job.attempt}"
        try:
            future = self.client.submit(run_job, payload, self.name, key=key, pure=False,
                                        resources=self.resources or None)
        except Exception as error:  # noqa: BLE001 - the cluster is gone: say so, stop the run
            self.failure = f"lost the Dask scheduler at {self.address}: {type(error).__name__}: {error}"
            return
        with self._lock:
            self.pending[key] = future
        future.add_done_callback(self._finished.put)

    def alive(self) -> bool:
        return self.failure is None and self.monitor.is_alive()

    def close(self) -> None:
        """Let the workers' zygotes go, and the cluster when it is this run's own."""
        if self.closing:
            return
        self.closing = True
        with contextlib.suppress(Exception):
            self.client.unregister_worker_plugin(self.name)
        self._shutdown()

    def abort(self) -> None:
        """Cancel every job not finished, then close."""
        if self.closing:
            return
        with self._lock:
            futures = list(self.pending.values())
            self.pending.clear()
        if futures:
            with contextlib.suppress(Exception):
                self.client.cancel(futures)
        self.close()

    def _shutdown(self) -> None:
        self.closing = True
        self._finished.put(None)
        client = getattr(self, "client", None)
        if client is not None:
            with contextlib.suppress(Exception):
                client.close(timeout=10)
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close(timeout=10)

    # --- results ---

    def _monitor(self) -> None:
        while not self.closing:
            try:
                future = self._finished.get(timeout=1.0)
            except queue.Empty:
                self._check_workers()
                if self.failure is not None:
                    return
                continue
            if future is None:
                return
            with self._lock:
                known = self.pending.pop(future.key, None)
            if known is None:
                continue  # cancelled by abort
            self._deliver(future)

    def _deliver(self, future: Future) -> None:
        job_id, attempt = _job_of(future.key, self.run_token)
        try:
            result = json.loads(future.result())
        except Exception as error:  # noqa: BLE001 - a lost worker (KilledWorker), a cancelled task...
            if self.closing:
                return
            self.events.put(pool.Event(job_id, done=True, status="lost", attempt=attempt,
                                       problems=[f"the Dask task failed: {type(error).__name__}: {error}"]))
            return
        for error in result.get("start_errors", []):
            if error not in self.start_errors:
                self.start_errors.append(error)
                self.log(f"could not start a worker: {error}")
        if result.get("ready"):
            self._ready = True
        fields = {f.name for f in dataclasses.fields(pool.Event)}
        for data in result.get("events", []):
            event = pool.Event(**{k: v for k, v in data.items() if k in fields})
            if event.done and event.status == "nostart" and not result.get("ready"):
                self._broken.add(str(result.get("worker")))
            self.events.put(event)

    def _workers(self) -> dict[str, Any]:
        """The cluster's workers (address -> info), asked at most once a second."""
        when, workers = self._workers_cache
        if time.monotonic() - when > 1.0:
            try:
                try:  # every worker: some versions list 5 by default, older ones take no n_workers
                    info = self.client.scheduler_info(n_workers=-1)
                except TypeError:
                    info = self.client.scheduler_info()
                workers = dict(info.get("workers", {}))
            except Exception:  # noqa: BLE001 - an unreachable scheduler: none known
                workers = {}
            self._workers_cache = (time.monotonic(), workers)
        return workers

    def _check_workers(self) -> None:
        """Stop the run when, for ``wait`` seconds, no worker could run the jobs still to run."""
        with self._lock:
            waiting = bool(self.pending)
        if self.client.status not in ("running", "connecting", "newly-created"):
            self.failure = f"lost the Dask scheduler at {self.address} (the client is {self.client.status})"
            return
        suitable = [address for address, info in self._workers().items()
                    if all(float((info.get("resources") or {}).get(k, 0)) >= v for k, v in self.resources.items())]
        if suitable or not waiting:
            self._seen_suitable = time.monotonic()
            return
        if time.monotonic() - self._seen_suitable < self.wait:
            return
        what = (f"offers a {' and a '.join(self.resources)} resource" if self.resources else "has joined")
        start = (f"start GPU workers with `dask worker {self.address} --nthreads 1 --resources {GPU_RESOURCE}=1`"
                 if self.resources else f"start workers with `dask worker {self.address}`")
        self.failure = (f"no Dask worker at {self.address} {what} after {self.wait:g} s: {start}, then run the "
                        f"same command again to grade the rest")
        with self._lock:
            futures = list(self.pending.values())
            self.pending.clear()
        with contextlib.suppress(Exception):
            self.client.cancel(futures)


def _job_of(key: Any, token: str) -> tuple[str, int]:
    text = str(key).removeprefix(f"autograder-{token}-")
    job_id, _, attempt = text.rpartition("-")
    return job_id, int(attempt) if attempt.isdigit() else 1


def plugin_name(root: Path, assignment: str) -> str:
    """One plugin per course and assignment graded from this machine: a rerun (after a killed
    run, say) replaces the old one, whose zygotes then stop."""
    digest = hashlib.sha1(f"{socket.gethostname()}:{Path(root).resolve()}:{assignment}".encode()).hexdigest()
    return f"autograder-{digest[:16]}"


def start_dask(root: Path, assignment: str, address: str, *, sandboxed: bool, memory_gb: float, log: Log,
               figures: bool = False, output: tuple[int, int] = (limits.CELL_OUTPUT, limits.NOTEBOOK_OUTPUT),
               processes: int = limits.PROCESSES, gpu: bool = False, wait: float | None = None) -> DaskExecutor:
    """A :class:`DaskExecutor` for grading ``assignment`` of the course at ``root`` (the arguments of
    :func:`autograder.grading.launch.start_workers`, the pool's size aside: the cluster's threads).

    ``wait``: seconds without a worker that can run the jobs before the run stops (default:
    ``$AUTOGRADER_DASK_WAIT``, else :data:`WAIT_FOR_WORKERS`).
    """
    if wait is None:
        wait = float(os.environ.get("AUTOGRADER_DASK_WAIT") or WAIT_FOR_WORKERS)
    root = Path(root).resolve()
    config = settings.load_config(root)
    worker_settings = {
        "root": str(root),
        "db_url": settings.db_url(config, root),
        "sandboxed": sandboxed,
        "figures": figures,
        "memory": int(memory_gb * (1 << 30)),
        "processes": processes,
        "output": list(output),
        "timeout": settings.cell_timeout(config),
        "warmup": launch.warmup_cells(root, assignment),
        "gpu": gpu,
        "resources": {GPU_RESOURCE: 1} if gpu else {},
    }
    return DaskExecutor(address, worker_settings, log=log, name=plugin_name(root, assignment),
                        resources=worker_settings["resources"], wait=wait)
