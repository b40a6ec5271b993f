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
    if not warmup:  # the instructor's notebook, when given, warms up exactly what is needed
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
        workdir = self.work_root / f"job-{job_id}"
        cmd_r, cmd_w = os.pipe()
        res_r, res_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(cmd_w)
            os.close(res_r)
            _child_main(cmd_r, res_w, workdir, job, self.warm, keep=(self.inbox, self.outbox))
        os.close(cmd_r)
        os.close(res_w)
        problems: list[str] = []
        status = "ok"
        count = 0
        alive = True
        for cell in cells:
            if not alive:
                self.send({"job": job_id, "index": cell["index"], "outputs": [_error(
                    "KernelDied", f"not run: the kernel stopped earlier ({status})")]})
                continue
            nonce = secrets.token_hex(16)
            try:
                protocol.write_fd(cmd_w, {"op": "cell", "index": cell["index"], "nonce": nonce,
                                          "source": cell["source"], "test": cell["test"]})
            except OSError:
                alive, status = False, "died"
                problems.append(f"the kernel died before cell {cell['index']}")
                self.send({"job": job_id, "index": cell["index"], "outputs": [_error(
                    "KernelDied", "the kernel died before this cell ran")]})
                continue
            reply, why = self._await_reply(pid, res_r, nonce, cell["index"], job["timeout"])
            if reply is None:
                alive = False
                status = why.split(":")[0]
                problems.append(f"cell {cell['index']}: {why}")
                self.send({"job": job_id, "index": cell["index"], "outputs": [_error(
                    "CellFailed", why)]})
                continue
            count += 1
            self.send({"job": job_id, "index": cell["index"], "outputs": reply["outputs"],
                       "execution_count": count})
        _kill_group(pid)
        for fd in (cmd_w, res_r):
            os.close(fd)
        _reap(pid)
        if self.sandboxed:
            _clean_sandbox()
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        self.send({"job": job_id, "done": True, "status": status, "problems": problems})

    def _await_reply(self, pid: int, res_r: int, nonce: str, index: int,
                     timeout: float) -> tuple[dict[str, Any] | None, str]:
        """The child's one valid reply to this cell, or None and why not."""
        deadline = time.monotonic() + timeout
        interrupted = False
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                if interrupted:
                    _kill_group(pid)
                    return None, f"timeout: cell did not finish in {timeout:g} s and ignored the interrupt"
                interrupted = True
                try:
                    os.kill(pid, signal.SIGINT)
                except ProcessLookupError:
                    pass
                deadline = time.monotonic() + INTERRUPT_GRACE
                continue
            ready, _, _ = select.select([res_r], [], [], left)
            if not ready:
                continue
            try:
                reply = protocol.read_fd(res_r)
            except (protocol.ProtocolError, OSError) as error:
                _kill_group(pid)
                return None, f"tampered: malformed reply ({error})"
            if reply is None:
                return None, f"died: the kernel exited or was killed ({_exit_reason(pid)})"
            if reply.get("nonce") != nonce or reply.get("index") != index:
                _kill_group(pid)
                return None, "tampered: a reply that the grader did not ask for"
            if select.select([res_r], [], [], 0)[0] and not _pipe_at_eof(res_r):
                _kill_group(pid)
                return None, "tampered: more than one reply to one cell"
            outputs = reply.get("outputs")
            if not isinstance(outputs, list):
                _kill_group(pid)
                return None, "tampered: a reply without outputs"
            if interrupted:
                outputs = [*outputs, _error("TimeoutError", f"cell timed out after {timeout:g} s")]
            return {"outputs": outputs}, "ok"


def _pipe_at_eof(fd: int) -> bool:
    """True when the readable pipe only holds end of file (the child has exited)."""
    try:
        return os.read(fd, 1) == b""  # a byte here is itself a second reply: caller fails the cell
    except OSError:
        return True


def _error(ename: str, evalue: str) -> dict[str, Any]:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}


def _exit_reason(pid: int) -> str:
    try:
        done, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return "already reaped"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals.__members__.values() else str(sig)
        return f"killed by {name}" + (" - out of memory?" if sig == signal.SIGKILL else "")
    return f"exit status {os.WEXITSTATUS(status)}"


def _kill_group(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _clean_sandbox() -> None:
    """Kill every other process of the sandbox and empty /tmp: nothing outlives a job.

    Only ever called inside bubblewrap's own PID namespace and private /tmp.
    """
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) not in (me, 1, os.getppid()):
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                break
        except ChildProcessError:
            break
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
    """The child of one job: set limits, then serve cells until told to stop. Never returns."""
    try:
        os.setpgid(0, 0)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1):
            os.dup2(devnull, fd)
        for fd in keep:
            if fd > 2:
                os.close(fd)
        _limit_memory(int(job.get("memory") or 0))
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
        kernel = warm["kernel"]
        guard = warm["guard"]
        namespace = shell.user_ns
        transform = shell.input_transformer_manager.transform_cell
        snapshot = warm["snapshot"]
        guard.install_audit_hook()
        _serve_cells(cmd_r, res_w, shell, namespace, snapshot, transform, kernel)
    except BaseException:  # noqa: BLE001 - the zygote sees the exit and fails the cells
        pass
    os._exit(0)


def _serve_cells(cmd_r: int, res_w: int, shell: Any, namespace: dict, snapshot: Any, transform: Any,
                 kernel: Any) -> None:
    count = 0
    read, write = protocol.read_fd, protocol.write_fd
    run_test, run_code = kernel.run_test_cell, kernel.run_code_cell
    restore_core = snapshot.restore_core
    while True:
        message = read(cmd_r)
        if message is None or message.get("op") != "cell":
            return
        count += 1
        if message["test"]:
            outputs = run_test(message["source"], namespace, snapshot, count, transform)
        else:
            outputs = run_code(shell, message["source"], count)
        # Nothing the cell patched may touch the reply or the next command.
        restore_core(sys.__stdout__, sys.__stderr__)
        write(res_w, {"nonce": message["nonce"], "index": message["index"], "outputs": outputs})


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
