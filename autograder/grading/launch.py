"""Start the sandboxed workers early, before the coordinator imports nbgrader (seconds).

Light imports only: the workers import torch while the coordinator imports nbgrader.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from autograder.course import NOTEBOOKS
from autograder.grading import limits, pool, sandbox, settings
from autograder.grading.plan import RunStopped

#: Worker environment variable: "1" draws plots into the autograded notebooks, "0" does not.
FIGURES_VARIABLE = "AUTOGRADER_FIGURES"

def worker_command(root: Path, database: str, sandboxed: bool, figures: bool = False,
                   tmp_size: int = 0, command: list[str] | None = None) -> tuple[list[str], dict[str, str] | None]:
    """The argv (and, without a sandbox, the environment) that starts one worker (or ``command``
    in the same sandbox)."""
    env = pool.default_env({FIGURES_VARIABLE: "1" if figures else "0"})
    command = command or sandbox.zygote_command()
    if not sandboxed:
        return command, {**os.environ, **env}
    bwrap = sandbox.require_bwrap()
    hide = sandbox.hidden_paths(root, pool.package_dir(), pool.kit_dir())
    if database.startswith("sqlite:///"):
        path = Path(database.removeprefix("sqlite:///"))
        if path.exists() and not any(h == path or h in path.parents for h in hide):
            hide.append(path)
    caches = [Path(env["AUTOGRADER_MPL_CACHE"])] if "AUTOGRADER_MPL_CACHE" in env else []
    return sandbox.bwrap_command(bwrap, command, hide=hide, env=env, tmp_size=tmp_size,
                                 shm_size=limits.SHM_BYTES, show=caches), None


def warmup_cells(root: Path, assignment: str) -> list[str]:
    """The code of the released (student) notebook: each worker runs it once, so that the lazy
    imports it triggers are paid once per worker instead of once per submission. Never the
    instructor's copy: no solution may run where student code runs."""
    folder = root / "release" / assignment
    names = [f"{NOTEBOOKS[assignment]}.ipynb"] if assignment in NOTEBOOKS else []
    paths = [folder / n for n in names if (folder / n).exists()] or sorted(folder.glob("*.ipynb"))[:1]
    cells: list[str] = []
    for path in paths:
        try:
            nb = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "code":
                source = cell.get("source", "")
                cells.append("".join(source) if isinstance(source, list) else str(source))
    return cells


def start_workers(root: Path, assignment: str, *, size: int, sandboxed: bool, memory_gb: float,
                  log: Callable[[str], None], figures: bool = False,
                  output: tuple[int, int] = (limits.CELL_OUTPUT, limits.NOTEBOOK_OUTPUT),
                  processes: int = limits.PROCESSES) -> pool.Pool:
    """A started pool of ``size`` workers for grading ``assignment`` of the course at ``root``.

    ``output``: characters kept per cell and per notebook; ``processes``: processes and
    threads each submission may start.
    """
    root = Path(root).resolve()
    config = settings.load_config(root)
    memory = int(memory_gb * (1 << 30))
    tmp = limits.tmp_bytes(memory) if sandboxed else 0
    argv, env = worker_command(root, settings.db_url(config, root), sandboxed, figures, tmp)
    if sandboxed:  # a sandbox that cannot start says so at once, in bubblewrap's words
        check, _ = worker_command(root, settings.db_url(config, root), sandboxed, figures, tmp,
                                  command=[sys.executable, "-I", "-S", "-c", "pass"])
        failure = sandbox.probe(check)
        if failure is not None:
            raise RunStopped(f"the sandbox could not start: {failure}\n{sandbox.START_HINT}", "sandbox")
    cgroups = None
    if sandboxed and processes > 0:
        cgroups = limits.PidsCgroups()
        if not cgroups.available():
            cgroups = None
        if cgroups is None and os.geteuid() == 0:
            log("no process limit: the grader runs as root, which RLIMIT_NPROC does not bind, and cannot "
                "create a pids cgroup here")
    rules = limits.Limits(memory=memory, processes=processes, cell_output=output[0], notebook_output=output[1],
                          tmp=tmp, rlimit_nproc=sandboxed and processes > 0 and cgroups is None)
    workers = pool.Pool(argv, max(1, size), sandboxed=sandboxed, timeout=settings.cell_timeout(config),
                        memory=memory, log=log, env=env, warmup=warmup_cells(root, assignment),
                        limits=rules, cgroups=cgroups)
    workers.start()
    return workers


def count_submissions(root: Path, assignment: str, students: list[str]) -> int:
    """How many submission folders there are (to size the pool before reading them)."""
    found = [p.parent.name for p in (Path(root) / "submitted").glob(f"*/{assignment}") if p.is_dir()]
    return len([s for s in found if not students or s in students])
