"""The warm worker inside one sandbox: imports torch once, forks a child per submission.

Run as ``python -m coursekit.runtime.zygote`` by :mod:`autograder.grading.pool`
under bubblewrap. It speaks frames (see ``protocol``) on its stdin/stdout:

- in: ``{"op": "job", "job": id, "cells": [...], "files": {...}, "timeout": s, "memory": bytes}``
- out: ``{"token", "job", "index", "outputs", "execution_count"}`` per cell, then
  ``{"token", "job", "done": true, "status", "problems"}``.

The zygote never runs student code. Its child does, one cell at a time: the
zygote sends each cell with a fresh random nonce and accepts exactly one reply
carrying that nonce. A reply that is late (the per-cell timeout), malformed,
duplicated or missing (the child exited, crashed or ran out of memory) fails
that cell and every cell after it; it never passes one. Every message to the
coordinator carries a token that only the zygote knows.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import select
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from coursekit.runtime import protocol

WORK_ROOT = Path("/tmp/autograder-work")
#: What notebooks import from the student kit. The instructor's package (answer key, judges)
#: is never imported here, and the sandbox hides its files.
WARM_PACKAGES = ("coursekit.checks", "coursekit.data", "coursekit.probes", "coursekit.demos")
#: Seconds a child gets to come back after SIGINT (like stock nbgrader's interrupt).
INTERRUPT_GRACE = 3.0


def _warm_imports(warmup: list[str] | None = None) -> dict[str, Any]:
    """Import what every notebook needs, once; return the pieces the children reuse."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import importlib
    import pkgutil

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    import torch

    torch.set_num_threads(1)
    import coursekit

    for module in pkgutil.walk_packages(coursekit.__path__, "coursekit."):
        if not module.name.startswith(WARM_PACKAGES):
            continue
        try:
            importlib.import_module(module.name)
        except Exception:  # noqa: BLE001 - a broken module fails where a notebook uses it
            pass
    from coursekit.checks import engine
    from coursekit.runtime import guard, kernel

    # Hidden checks hand their observations to the test cell's outputs; the judge is outside.
    engine.set_sink(kernel.emit_observation)
    seed, dtype = torch.initial_seed(), torch.get_default_dtype()
    # Always, release notebook or not: torch's first optimizer step and first torch.func call
    # set globals (torch.autograd.profiler's, torch.manual_seed's wrapper) that the tamper
    # guard would otherwise see change inside a student's test cell.
    _warm_up(torch)
    shell = kernel.make_shell()
    _run_instructor_code(warmup or [])
    torch.manual_seed(seed)  # a fresh kernel's random numbers, as under stock nbgrader
    torch.set_default_dtype(dtype)
    with shell.builtin_trap:  # taken once here; every child starts from exactly this state
        snapshot = guard.Snapshot()
    return {"shell": shell, "guard": guard, "kernel": kernel, "snapshot": snapshot}


def _warm_up(torch: Any) -> None:
    """Train a tiny model once so that torch's lazy imports happen here, not per submission.

    One thread only: the children are forked from this process, and a forked
    OpenMP thread pool would hang them.
    """
    from torch import nn, optim

    x = torch.linspace(0, 1, 8).reshape(-1, 1)
    y = 2 * x + 1
    for model, make in ((nn.Sequential(nn.Linear(1, 1)), optim.SGD),
                        (nn.Sequential(nn.Linear(1, 4), nn.ReLU(), nn.Linear(4, 1)), optim.Adam)):
        optimizer = make(model.parameters(), lr=0.01)
        loss_fn = nn.MSELoss()
        for _ in range(3):
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            model(x)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=4, shuffle=True)
    for _ in loader:
        pass
    # Each optimizer class wraps its own ``step`` at its first instance: all of them, now.
    for cls in vars(optim).values():
        if isinstance(cls, type) and issubclass(cls, optim.Optimizer) and cls is not optim.Optimizer:
            try:
                cls([torch.zeros(1, requires_grad=True)], lr=0.01)
            except Exception:  # noqa: BLE001, S112 - one that needs more arguments is set up at its first use
                continue
    import torch.func

    torch.func.grad(lambda t: (t * t).sum())(torch.ones(2))


def _run_instructor_code(cells: list[str]) -> None:
    """Run the released notebook's code once, in a throwaway namespace, to pay its lazy imports here.

    The coordinator sends the release (student) copy: no solution ever runs in the zygote.

    Its effects on shared state are undone by the caller (seed, dtype); figures are
    rendered once (fonts load here) and closed.
    """
    if not cells:
        return
    import contextlib
    import io

    import matplotlib.pyplot as plt

    namespace: dict[str, Any] = {"__name__": "__warmup__"}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for source in cells:
            if any(line.lstrip().startswith(("%", "!")) for line in source.splitlines()):
                continue
            try:
                exec(compile(source, "<warm-up>", "exec"), namespace)
            except BaseException:  # noqa: BLE001, S110 - a failing cell only warms up less
                pass
        for number in plt.get_fignums():
            try:
                plt.figure(number).savefig(io.BytesIO(), format="png")
            except Exception:  # noqa: BLE001, S110
                pass
    plt.close("all")
    namespace.clear()


def _seed_matplotlib_cache() -> None:
    """Copy matplotlib's font list into the sandbox's (empty) config folder: no rebuild per worker."""
    source, target = os.environ.get("AUTOGRADER_MPL_CACHE"), os.environ.get("MPLCONFIGDIR")
    if not source or not target:
        return
    try:
        Path(target).mkdir(parents=True, exist_ok=True)
        for path in Path(source).glob("fontlist-*.json"):
            shutil.copy(path, Path(target) / path.name)
    except OSError:
        pass


def _make_unreadable() -> None:
    """Keep other processes of the sandbox (the children) out of this one's memory and fds."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0
    except Exception:  # noqa: BLE001 - best effort; the nonce protocol still holds
        pass


#: Exit status of a child whose grader code (not the student's) failed: not the student's fault.
INTERNAL_EXIT = 86
#: Signals a crash of the running code raises itself: the student's code, charged at once.
CRASH_SIGNALS = frozenset({signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGABRT,
                           signal.SIGSYS, signal.SIGTRAP, signal.SIGXCPU, signal.SIGXFSZ})
#: Characters of output one notebook keeps in all (the cells after that keep errors and the
#: hidden checks' observations only), and the most that errors and observations may add.
NOTEBOOK_OUTPUT = 10_000_000
ESSENTIAL_OUTPUT = 64_000_000
#: What a job's "status" can be. The student's doing (scored): ok, timeout, tampered, exited,
#: crashed, memory. Not the student's (the coordinator retries): killed (from outside, as far as
#: the zygote can tell), lost (the grader's own code failed).
STUDENT_FAULTS = ("timeout", "tampered", "exited", "crashed", "memory")


class Zygote:
    """The job loop: one child per job, cells one at a time, results relayed as they come."""

    def __init__(self, inbox: int, outbox: int, token: str, warm: dict[str, Any], sandboxed: bool,
                 work_root: Path) -> None:
        self.inbox, self.outbox, self.token = inbox, outbox, token
        self.warm = warm
        self.sandboxed = sandboxed
        self.work_root = work_root

    def send(self, message: dict[str, Any]) -> None:
        protocol.write_fd(self.outbox, {"token": self.token, **message})

    def serve(self) -> None:
        while True:
            message = protocol.read_fd(self.inbox)
            if message is None or message.get("op") == "quit":
                return
            if message.get("op") == "job":
                self.run_job(message)

    def run_job(self, job: dict[str, Any]) -> None:
        job_id = job["job"]
        cells: list[dict[str, Any]] = job["cells"]
        limits = dict(job.get("limits") or {})
        memory = int(job.get("memory") or 0)
        workdir = self.work_root / f"job-{job_id}"
        cmd_r, cmd_w = os.pipe()
        res_r, res_w = os.pipe()
        rss_start = _resident_bytes()
        pid = _fork()
        if pid is None:  # no process could start (the sandbox is full): not the student's doing
            for fd in (cmd_r, cmd_w, res_r, res_w):
                os.close(fd)
            self.send({"job": job_id, "done": True, "status": "lost", "fault": None,
                       "problems": ["the worker could not start a kernel (no process left in the sandbox)"]})
            return
        if pid == 0:  # the child: never returns
            os.close(cmd_w)
            os.close(res_r)
            _child_main(cmd_r, res_w, workdir, job, self.warm, keep=(self.inbox, self.outbox))
        os.close(cmd_r)
        os.close(res_w)
        child = _Child(pid, res_r, rss_start, memory)
        budget = _Budget(int(limits.get("notebook_output") or NOTEBOOK_OUTPUT), ESSENTIAL_OUTPUT)
        problems: list[str] = []
        status = "ok"
        fault: dict[str, Any] | None = None
        count = 0
        cut: list[int] = []
        for cell in cells:
            index = cell["index"]
            if fault is not None:
                self.send({"job": job_id, "index": index, "outputs": [_error(
                    "KernelDied", f"not run: the kernel stopped earlier ({fault['detail']})")]})
                continue
            nonce = secrets.token_hex(16)
            try:
                protocol.write_fd(cmd_w, {"op": "cell", "index": index, "nonce": nonce,
                                          "source": cell["source"], "test": cell["test"]})
            except OSError:
                kind, detail = child.exit_reason()
                reply, why = None, (kind, f"before this cell ran: {detail}")
            else:
                reply, why = child.await_reply(nonce, index, float(job["timeout"]))
            if reply is None:
                status, detail = why
                fault = {"cell": index, "kind": status, "detail": detail}
                problems.append(f"cell {index}: {status}: {detail}")
                self.send({"job": job_id, "index": index, "outputs": [_error("CellFailed", f"{status}: {detail}")]})
                continue
            outputs, size = reply["outputs"], reply["size"]
            if why[0] == "timeout":
                status = "timeout"
                problems.append(f"cell {index}: timeout: {why[1]}")
            problems.extend(f"cell {index}: {text}" for text in _limits_hit(outputs, limits, memory))
            if reply.get("cut"):
                cut.append(index)
            outputs = budget.take(outputs, size)
            count += 1
            self.send({"job": job_id, "index": index, "outputs": outputs, "execution_count": count})
        child.stop()
        for fd in (cmd_w, res_r):
            os.close(fd)
        if self.sandboxed:
            _clean_sandbox()
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        if cut or budget.cut:
            shown = ", ".join(str(i) for i in cut[:5]) + (f" and {len(cut) - 5} more" if len(cut) > 5 else "")
            where = f"cut in cell{'s' if len(cut) > 1 else ''} {shown}" if cut else ""
            dropped = f"{budget.cut} output(s) dropped" if budget.cut else ""
            problems.append(f"output over the limit: {' and '.join(w for w in (where, dropped) if w)} (the "
                            f"autograder keeps {int(limits.get('cell_output') or 0):,} characters of each cell, "
                            f"{budget.limit:,} of each notebook)")
        self.send({"job": job_id, "done": True, "status": fault["kind"] if fault else status,
                   "problems": problems, "fault": fault})


class _Child:
    """The forked child of one job, seen from the zygote."""

    def __init__(self, pid: int, res_r: int, rss_start: int, memory: int) -> None:
        self.pid, self.res_r, self.rss_start, self.memory = pid, res_r, rss_start, memory
        self.reason: tuple[str, str] | None = None
        try:
            self.pidfd: int | None = os.pidfd_open(pid)
        except (AttributeError, OSError):
            self.pidfd = None

    def await_reply(self, nonce: str, index: int, timeout: float) -> tuple[dict[str, Any] | None, tuple[str, str]]:
        """The child's one valid reply to this cell (or None), and (status, why)."""
        deadline = time.monotonic() + timeout
        interrupted = False
        res_r = self.res_r
        watch = [res_r] if self.pidfd is None else [res_r, self.pidfd]
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                if interrupted:
                    self.kill()
                    self.exit_reason()
                    return None, ("timeout", f"the cell did not finish in {timeout:g} s (the time limit per "
                                             f"cell) and ignored the interrupt: the kernel was stopped")
                interrupted = True
                try:
                    os.kill(self.pid, signal.SIGINT)
                except ProcessLookupError:
                    pass
                deadline = time.monotonic() + INTERRUPT_GRACE
                continue
            ready, _, _ = select.select(watch, [], [], left)
            if not ready:
                continue
            if res_r not in ready:  # the child has exited, and wrote nothing
                if select.select([res_r], [], [], 0)[0]:
                    continue  # ...or it did, just before: read it
                reply = None
            else:
                try:
                    reply, size = protocol.read_frame(res_r)
                except (protocol.ProtocolError, OSError) as error:
                    self.kill()
                    return None, ("tampered", f"a malformed reply ({error})")
            if reply is None:
                kind, detail = self.exit_reason()
                if interrupted and kind in ("killed", "exited"):
                    kind, detail = "timeout", f"the cell did not finish in {timeout:g} s; {detail}"
                return None, (kind, detail)
            if reply.get("nonce") != nonce or reply.get("index") != index:
                self.kill()
                return None, ("tampered", "a reply that the grader did not ask for")
            if select.select([res_r], [], [], 0)[0] and not _pipe_at_eof(res_r):
                self.kill()
                return None, ("tampered", "more than one reply to one cell")
            outputs = reply.get("outputs")
            if not isinstance(outputs, list) or not all(isinstance(o, dict) for o in outputs):
                self.kill()
                return None, ("tampered", "a reply without outputs")
            result = {"outputs": outputs, "size": size, "cut": bool(reply.get("cut"))}
            if interrupted:
                result["outputs"] = [*outputs, _error("TimeoutError", f"cell timed out after {timeout:g} s")]
                return result, ("timeout", f"interrupted after {timeout:g} s (the time limit per cell)")
            return result, ("ok", "")

    def kill(self) -> None:
        _kill_group(self.pid)

    def exit_reason(self) -> tuple[str, str]:
        """Why the child stopped: (status, words). Waits for it briefly; kills it if it lingers."""
        if self.reason is not None:
            return self.reason
        status = usage = None
        for _ in range(200):  # up to 2 s: a child that closed its channel but lives on is killed
            try:
                pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.reason = ("lost", "the kernel was already gone")
                return self.reason
            if pid:
                break
            time.sleep(0.01)
        else:
            self.kill()
            _, status, usage = os.wait4(self.pid, 0)
            self.reason = ("tampered", "the kernel closed the grader's channel")
            return self.reason
        self.reason = _exit_reason(status, usage, self.rss_start, self.memory)
        return self.reason

    def stop(self) -> None:
        self.kill()
        if self.reason is None:
            try:
                os.wait4(self.pid, 0)
            except ChildProcessError:
                pass
            self.reason = ("ok", "")
        if self.pidfd is not None:
            os.close(self.pidfd)


class _Budget:
    """The output one notebook may still add (the coordinator holds and writes all of it)."""

    def __init__(self, limit: int, essential: int) -> None:
        self.limit = limit
        self.left = limit
        self.essential_left = essential
        self.cut = 0

    def take(self, outputs: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
        if size <= self.left:
            self.left -= size
            return outputs
        kept: list[dict[str, Any]] = []
        dropped = 0
        over = False
        for output in outputs:
            weight = len(json.dumps(output))
            if output.get("output_type") == "error" or _is_observation(output):
                if weight <= self.essential_left:
                    self.essential_left -= weight
                    kept.append(output)
                else:
                    over = True
            elif weight <= self.left:
                self.left -= weight
                kept.append(output)
            else:
                self.left = 0
                dropped += 1
        if dropped:
            self.cut += dropped
            kept.insert(0, {"output_type": "stream", "name": "stdout", "text": (
                f"[... {dropped} output(s) not kept: this notebook's output is over the autograder's limit of "
                f"{self.limit:,} characters ...]\n")})
        if over:
            kept.append(_error("OutputLimit", "this cell's errors and checks are over the autograder's limit "
                                              "for one notebook"))
        return kept


def _is_observation(output: dict[str, Any]) -> bool:
    data = output.get("data")
    return output.get("output_type") == "display_data" and isinstance(data, dict) and any(
        key.startswith("application/vnd.coursekit.observation") for key in data)


def _limits_hit(outputs: list[dict[str, Any]], limits: dict[str, Any], memory: int) -> list[str]:
    """What the cell's errors say about the sandbox's limits (the student's code hit them)."""
    found = []
    for output in outputs:
        if output.get("output_type") != "error":
            continue
        ename, evalue = str(output.get("ename", "")), str(output.get("evalue", ""))
        if ename == "MemoryError":
            found.append(f"MemoryError: the code hit the memory limit ({memory / 1e9:.3g} GB over the kernel)")
        elif "Resource temporarily unavailable" in evalue and limits.get("processes"):
            found.append(f"{ename}: the code hit the limit of {limits['processes']} processes and threads")
        elif "No space left on device" in evalue and limits.get("tmp"):
            found.append(f"{ename}: the code filled /tmp (its limit is {int(limits['tmp']) / 1e6:.3g} MB)")
    return found


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _pipe_at_eof(fd: int) -> bool:
    """True when the readable pipe only holds end of file (the child has exited)."""
    try:
        return os.read(fd, 1) == b""  # a byte here is itself a second reply: caller fails the cell
    except OSError:
        return True


def _error(ename: str, evalue: str) -> dict[str, Any]:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _exit_reason(status: int, usage: Any, rss_start: int, memory: int) -> tuple[str, str]:
    """(status, words) of a child that stopped by itself or was killed."""
    if os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
        if code == INTERNAL_EXIT:
            return "lost", "the grader's side of the kernel failed (details in autograder.log)"
        return "exited", f"the code ended the kernel's process (exit status {code})"
    if not os.WIFSIGNALED(status):
        return "lost", f"the kernel stopped (wait status {status})"
    sig = os.WTERMSIG(status)
    peak = getattr(usage, "ru_maxrss", 0) * 1024
    if memory and peak >= rss_start + 0.8 * memory:
        return "memory", (f"the kernel was killed ({_signal_name(sig)}) using {peak / 1e9:.3g} GB: out of memory "
                          f"(the limit is {memory / 1e9:.3g} GB over the kernel)")
    if sig in CRASH_SIGNALS:
        return "crashed", f"the kernel crashed ({_signal_name(sig)}) while running the code"
    return "killed", f"the kernel was killed by {_signal_name(sig)} (not by the grader)"


def _fork() -> int | None:
    """``os.fork()``, tried again for a moment while the sandbox's process limit is still full of
    the last job's processes (killed, not yet gone); None if it stays full."""
    for _ in range(50):
        try:
            return os.fork()
        except BlockingIOError:
            time.sleep(0.02)
    return None


def _kill_group(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass


def _clean_sandbox() -> None:
    """Kill every other process of the sandbox and empty /tmp: nothing outlives a job.

    Only ever called inside bubblewrap's own PID namespace and private /tmp.
    """
    me = os.getpid()
    keep = (me, 1, os.getppid())
    deadline = time.monotonic() + 2.0
    while True:  # until they are gone (they count against the process limit until then)
        others = [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit() and int(e.name) not in keep]
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG) == (0, 0):
                    break
            except ChildProcessError:
                break
        if not others or time.monotonic() > deadline:
            break
        time.sleep(0.005)
    for entry in Path("/tmp").iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            try:
                entry.unlink()
            except OSError:
                pass


def _child_main(cmd_r: int, res_w: int, workdir: Path, job: dict[str, Any], warm: dict[str, Any],
                keep: tuple[int, ...]) -> None:
    """The child of one job: set limits, then serve cells until told to stop. Never returns.

    It exits 0 when the zygote closes its command pipe, and ``INTERNAL_EXIT`` when the
    grader's own code fails (the zygote then reports a fault that is not the student's).
    """
    code = INTERNAL_EXIT
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # only while a cell runs
        os.setpgid(0, 0)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1):
            os.dup2(devnull, fd)
        for fd in keep:
            if fd > 2:
                os.close(fd)
        limits = job.get("limits") or {}
        kernel = warm["kernel"]
        kernel.Limits.memory = int(job.get("memory") or 0)
        kernel.Limits.processes = int(limits.get("processes") or 0)
        kernel.Limits.tmp = int(limits.get("tmp") or 0)
        if limits.get("cell_output"):
            kernel.Limits.cell_output = int(limits["cell_output"])
        _limit_memory(int(job.get("memory") or 0))
        if limits.get("rlimit_nproc"):
            _limit_processes(int(limits.get("processes") or 0))
        workdir.mkdir(parents=True, exist_ok=True)
        for name, data in (job.get("files") or {}).items():
            target = (workdir / name).resolve()
            if workdir.resolve() in target.parents:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(base64.b64decode(data))
        os.chdir(workdir)
        os.environ["HOME"] = str(workdir)
        sys.path[:] = [p for p in sys.path if p not in ("", ".", str(workdir))]
        shell = warm["shell"]
        guard = warm["guard"]
        namespace = shell.user_ns
        transform = shell.input_transformer_manager.transform_cell
        snapshot = warm["snapshot"]
        guard.install_audit_hook()
        _serve_cells(cmd_r, res_w, shell, namespace, snapshot, transform, kernel)
        code = 0
    except BaseException as error:  # noqa: BLE001 - the zygote sees the exit status
        try:
            os.write(2, f"kernel: the grader's code failed: {type(error).__name__}: {error}\n".encode())
        except BaseException:  # noqa: BLE001, S110
            pass
    os._exit(code)


def _serve_cells(cmd_r: int, res_w: int, shell: Any, namespace: dict, snapshot: Any, transform: Any,
                 kernel: Any) -> None:
    count = 0
    read, encode, write = protocol.read_fd, protocol.encode, os.write
    run_test, run_code = kernel.run_test_cell, kernel.run_code_cell
    restore_core = snapshot.restore_core
    mask, pending, wait = signal.pthread_sigmask, signal.sigpending, signal.sigwait
    interrupt = {signal.SIGINT}
    block, unblock = signal.SIG_BLOCK, signal.SIG_UNBLOCK
    while True:
        message = read(cmd_r)
        if message is None or message.get("op") != "cell":
            return
        count += 1
        try:  # the zygote's interrupt (SIGINT, at the time limit) may only land inside the cell
            mask(unblock, interrupt)
        except KeyboardInterrupt:
            pass
        if message["test"]:
            outputs = run_test(message["source"], namespace, snapshot, count, transform)
        else:
            outputs = run_code(shell, message["source"], count)
        mask(block, interrupt)
        # Nothing the cell patched may touch the reply or the next command.
        restore_core(sys.__stdout__, sys.__stderr__)
        reply = {"nonce": message["nonce"], "index": message["index"], "outputs": outputs,
                 "cut": kernel.last_cut()}
        try:
            frame = encode(reply)
        except (protocol.ProtocolError, ValueError, TypeError, RecursionError) as error:
            frame = encode({"nonce": message["nonce"], "index": message["index"], "cut": True, "outputs": [
                _error("OutputLimit", f"the cell's output could not be sent to the grader ({error})")]})
        view = memoryview(frame)
        while view:
            view = view[write(res_w, view):]
        if interrupt & pending():
            wait(interrupt)  # an interrupt that came too late for the cell: not for the next one


def _limit_processes(extra: int) -> None:
    """At most ``extra`` more processes and threads, where RLIMIT_NPROC counts this sandbox only.

    In a user namespace of its own (bubblewrap's), the kernel counts a user's processes per
    namespace, so the limit holds against every way of starting one (``fork_exec`` included).
    Root (outside) is exempt from RLIMIT_NPROC: there the coordinator uses a pids cgroup.
    """
    if extra <= 0:
        return
    import resource

    try:
        with open("/proc/self/uid_map") as uid_map:
            if uid_map.read().split() == ["0", "0", "4294967295"]:
                return  # the machine's own namespace: the limit would count all of the user's processes
        tasks = sum(len(os.listdir(f"/proc/{entry}/task")) for entry in os.listdir("/proc") if entry.isdigit())
    except OSError:
        return
    resource.setrlimit(resource.RLIMIT_NPROC, (tasks + extra, tasks + extra))


def _limit_memory(extra: int) -> None:
    """Cap the address space at what the warm process uses plus ``extra`` bytes."""
    if extra <= 0:
        return
    import resource

    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[0])
    limit = pages * os.sysconf("SC_PAGE_SIZE") + extra
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main() -> None:
    """Entry point: protocol on the original stdout; anything else printed goes to stderr."""
    outbox = os.dup(1)
    os.dup2(2, 1)
    inbox = os.dup(0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    hello = protocol.read_fd(inbox)
    if hello is None or "token" not in hello:
        sys.exit("zygote: expected a hello frame with a token")
    token = hello["token"]
    started = time.monotonic()
    sandboxed = bool(hello.get("sandboxed"))
    if sandboxed and os.getpid() > 10:
        sys.exit("zygote: told it is sandboxed but it is not in a PID namespace of its own")
    work_root = WORK_ROOT if sandboxed else Path(tempfile.mkdtemp(prefix="autograder-work-"))
    _seed_matplotlib_cache()
    warm = _warm_imports([str(c) for c in hello.get("warmup", [])])
    _make_unreadable()
    work_root.mkdir(parents=True, exist_ok=True)
    protocol.write_fd(outbox, {"token": token, "ready": True, "seconds": time.monotonic() - started,
                               "pid": os.getpid()})
    try:
        Zygote(inbox, outbox, token, warm, sandboxed, work_root).serve()
    finally:
        if not sandboxed:
            shutil.rmtree(work_root, ignore_errors=True)


if __name__ == "__main__":
    main()
