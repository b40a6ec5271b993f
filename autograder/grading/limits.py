"""The limits each sandbox enforces, and the pids cgroup that holds the process count where it can.

Defaults (see README, "What the sandbox protects"):

- time: the course's ``Execute.timeout`` per cell (interrupt, then kill 3 s later);
- memory: ``--memory`` GB of address space per submission, over the warm kernel;
- processes and threads: ``PROCESSES`` per submission, held by the kernel itself against
  every way of starting one (``fork``, ``_posixsubprocess.fork_exec``, threads): a pids
  cgroup per worker where the grader may create one (as root, or with a delegated cgroup),
  else ``RLIMIT_NPROC`` inside bubblewrap's user namespace, which counts only the
  sandbox's processes (the kernel exempts root from it, hence the cgroup);
- files: ``/tmp`` (the working folder included) is a tmpfs of ``tmp_bytes(memory)``, at
  most 1 GB; ``/dev/shm`` holds ``SHM_BYTES``;
- output: ``CELL_OUTPUT`` characters per cell (the first and last half kept, with a line
  saying how much was cut), ``NOTEBOOK_OUTPUT`` per notebook.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

#: Processes and threads one submission may add (honest course code starts none: the audit
#: hook refuses subprocesses; a few threads at most).
PROCESSES = 128
#: Characters of output kept per cell and per notebook.
CELL_OUTPUT = 1_000_000
NOTEBOOK_OUTPUT = 10_000_000
#: The most /tmp may hold, whatever the memory limit; and /dev/shm.
TMP_CAP = 1 << 30
SHM_BYTES = 64 << 20


def tmp_bytes(memory: int) -> int:
    """The size of a sandbox's /tmp: the memory limit, at most ``TMP_CAP``."""
    return max(16 << 20, min(TMP_CAP, memory or TMP_CAP))


@dataclass(frozen=True)
class Limits:
    """What each submission gets; sent to the zygote with every job."""

    memory: int  # bytes of address space over the warm kernel
    processes: int = PROCESSES
    cell_output: int = CELL_OUTPUT
    notebook_output: int = NOTEBOOK_OUTPUT
    tmp: int = 0  # bytes of /tmp (0: not limited, without a sandbox)
    rlimit_nproc: bool = False  # the child sets RLIMIT_NPROC (no cgroup holds the count)

    def for_job(self) -> dict[str, object]:
        return {"processes": self.processes, "cell_output": self.cell_output,
                "notebook_output": self.notebook_output, "tmp": self.tmp, "rlimit_nproc": self.rlimit_nproc}


class PidsCgroups:
    """pids cgroups, one per worker, under this process's own pids cgroup (v1 or v2).

    :meth:`available` says whether they can be created here (usually: as root, or in a
    delegated subtree). Each worker's command is started inside its cgroup; once the worker
    is ready its ``pids.max`` becomes what it uses plus the submission's allowance.
    """

    PREFIX = "autograder-"

    def __init__(self) -> None:
        self.base = _own_pids_cgroup()
        self.count = 0
        self._checked: bool | None = None

    def available(self) -> bool:
        if self._checked is None:
            self._checked = False
            if self.base is not None and os.access(self.base, os.W_OK):
                _remove_stale(self.base)
                probe = self.create()
                if probe is not None:
                    self._checked = (probe / "pids.max").exists()
                    self.remove(probe)
        return self._checked

    def create(self) -> Path | None:
        assert self.base is not None
        self.count += 1
        path = self.base / f"{self.PREFIX}{os.getpid()}-{self.count}"
        try:
            path.mkdir()
        except OSError:
            return None
        return path

    @staticmethod
    def wrap(argv: list[str], cgroup: Path) -> list[str]:
        """``argv`` started inside ``cgroup`` (a shell joins it, then becomes the command)."""
        return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(cgroup / "cgroup.procs"), *argv]

    @staticmethod
    def limit(cgroup: Path, extra: int) -> None:
        """Allow ``extra`` tasks over what the cgroup holds now."""
        current = int((cgroup / "pids.current").read_text().split()[0])
        (cgroup / "pids.max").write_text(str(current + extra))

    @staticmethod
    def remove(cgroup: Path) -> None:
        """Kill what is left in ``cgroup`` and remove it (best effort)."""
        for _ in range(50):
            try:
                cgroup.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                try:
                    for pid in (cgroup / "cgroup.procs").read_text().split():
                        try:
                            os.kill(int(pid), 9)
                        except (ProcessLookupError, PermissionError, ValueError):
                            pass
                except OSError:
                    return
                time.sleep(0.02)


def _own_pids_cgroup() -> Path | None:
    """The folder of this process's pids cgroup, or None."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        number, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if "pids" in controllers.split(","):
            folder = Path("/sys/fs/cgroup/pids") / path.lstrip("/")
            return folder if folder.is_dir() else None
    for line in lines:
        if line.startswith("0::"):
            folder = Path("/sys/fs/cgroup") / line[3:].strip().lstrip("/")
            try:
                if "pids" in (folder / "cgroup.subtree_control").read_text().split():
                    return folder
            except OSError:
                return None
    return None


def _remove_stale(base: Path) -> None:
    """Empty cgroups left by graders that were killed (their PID is gone)."""
    for path in base.glob(f"{PidsCgroups.PREFIX}*"):
        owner = path.name.removeprefix(PidsCgroups.PREFIX).split("-")[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            try:
                path.rmdir()
            except OSError:
                pass
