"""Grade one class on the local pool and on a Dask cluster of 1 and 2 workers; compare.

    .venv/bin/python benchmarks/bench_scale.py [--assignment 03_single_neuron] [--students 100]
                                               [--rounds 1] [--pin] [--json results.json]

Builds a temporary course with N submissions (the instructor's notebook and the test
corpus's known mistakes, round-robin), starts a real Dask cluster on this machine (a
``dask scheduler`` and ``dask worker`` processes with one thread each, as on several
machines), and grades the class with ``--force`` four ways, in this order, each round:
the local pool with 1 worker, Dask with 1 worker, the local pool with 2, Dask with 2.

For each it prints the wall time of the whole run (sandboxes started, warmed up, every
submission graded and written), the time to the first written submission (the warm-up),
the steady throughput (submissions per second between the first and the last), the
scaling efficiency of 2 workers over 1 (throughput(2) / 2 x throughput(1)) and Dask's
overhead per submission against the local pool with as many workers, and the CPU time the
coordinator (this process: nbgrader's steps, the judges, the writes) spends per submission,
which bounds how many workers one coordinator can keep busy; the CPU time the sandboxes
spend per submission (warm-up included); and, on Dask, that of the scheduler's and the
workers' own processes (Dask's cost in CPU), and how long a Dask worker waited between the end
of one task and the start of the next (Dask's task stream); and the cores the rest of the machine kept busy
meanwhile (other people's jobs: on a shared machine, the noise of every figure), with the share
of what the CPU left free allowed that each run reached. ``--pin`` starts Dask
worker i under ``taskset -c i``. Exits 1 when any per-cell score differs between runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.course import NOTEBOOKS  # noqa: E402
from autograder.grading.gradebook import cell_scores  # noqa: E402
from benchmarks.bench_grade import build_class  # noqa: E402

CONFIGS = (("local", 1), ("dask", 1), ("local", 2), ("dask", 2))


def _cpu(process) -> float:  # noqa: ANN001 - a psutil.Process
    times = process.cpu_times()
    return times.user + times.system


def machine_busy() -> float:
    """CPU seconds every core of this machine has been busy (anyone's processes, the kernel's)."""
    import psutil

    times = psutil.cpu_times()
    return sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq", "steal"))


def sandbox_cpu(roots: list[int]) -> float:
    """CPU seconds of every sandboxed zygote under ``roots``, with the children it forked and reaped."""
    import psutil

    total = 0.0
    for root in roots:
        try:
            found = psutil.Process(root).children(recursive=True)
        except psutil.NoSuchProcess:
            continue
        for process in found:
            try:
                if "coursekit.runtime.zygote" in " ".join(process.cmdline()):
                    times = process.cpu_times()
                    total += times.user + times.system + times.children_user + times.children_system
            except psutil.NoSuchProcess:
                pass
    return total


def idle_between_tasks(stream: list[dict]) -> tuple[float, float]:
    """From Dask's task stream of a run: the mean seconds a worker waited between the end of one
    task and the start of its next, and the fraction of the workers' time spent so waiting (what
    a slow coordinator or scheduler would show as idle workers)."""
    spans: dict[str, list[tuple[float, float]]] = {}
    for task in stream:
        computed = [s for s in task.get("startstops", ()) if s.get("action") == "compute"]
        if computed:
            spans.setdefault(str(task.get("worker")), []).append((computed[0]["start"], computed[-1]["stop"]))
    gaps: list[float] = []
    total = 0.0
    for found in spans.values():
        found.sort()
        gaps += [max(0.0, b[0] - a[1]) for a, b in zip(found, found[1:], strict=False)]
        total += found[-1][1] - found[0][1]  # from the end of its first task (the warm-up) to its last
    if not gaps:
        return float("nan"), float("nan")
    return sum(gaps) / len(gaps), sum(gaps) / total if total > 0 else float("nan")


def cpu_bound(result: dict[str, float], workers: int, cores: int) -> float:
    """The most submissions a second this run could have graded with the CPU it had: ``workers``
    sandboxes each busy all the time, or every core the rest of the machine left free spent on
    the sandboxes, the coordinator and Dask, whichever is less."""
    need = sum(result[key] for key in ("sandbox_cpu_s_per_sub", "coordinator_cpu_s_per_sub",
                                       "dask_processes_cpu_s_per_sub"))
    return min(workers / result["sandbox_cpu_s_per_sub"], max(0.05, cores - result["others_cores"]) / need)


def grade_once(course: Path, assignment: str, executor: str, workers: int, address: str,
               dask_pids: list[int] | None = None, watcher=None) -> dict[str, float]:  # noqa: ANN001
    """One ``--force`` run: its wall time, warm-up and steady throughput, and where the CPU went:
    the coordinator (this process), the sandboxes (warm-up included) and, on Dask, the
    scheduler's and the workers' own processes (``dask_pids``); on Dask, with ``watcher`` (a
    ``Client`` of the cluster), how long the workers waited between tasks."""
    import psutil

    from autograder.grading.plan import Options
    from autograder.grading.run import grade_assignment

    stamps: list[float] = []
    at_end: dict[str, float] = {}
    options = Options(assignment, course, force=True, workers=workers)
    roots = dask_pids if executor == "dask" and dask_pids else [os.getpid()]
    dask_processes = [psutil.Process(pid) for pid in (dask_pids or [])] if executor == "dask" else []
    dask_before = sum(_cpu(p) for p in dask_processes)
    total = len(list((course / "submitted").iterdir()))

    def progress(result: object) -> None:
        stamps.append(time.perf_counter())
        if len(stamps) == total:  # the sandboxes are still there: measure them now
            at_end["sandboxes"] = sandbox_cpu(roots)
            at_end["dask"] = sum(_cpu(p) for p in dask_processes) - dask_before

    start, cpu, busy, began = time.perf_counter(), time.process_time(), machine_busy(), time.time()
    run = grade_assignment(options, progress=progress, dask=address if executor == "dask" else None)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu  # this process only: the coordinator (its sandboxes are other processes)
    # What the rest of the machine (other people's jobs) used meanwhile, in cores: the noise of these figures.
    others = (machine_busy() - busy - cpu - at_end.get("sandboxes", 0.0) - at_end.get("dask", 0.0)) / wall
    bad = [r.student for r in run.results if r.status not in ("graded", "problems")]
    if run.stopped is not None or bad:
        raise SystemExit(f"{executor} x{workers}: {run.stopped or ''} not graded: {bad[:5]} {run.problems[:3]}")
    gap, idle = float("nan"), float("nan")
    if executor == "dask" and watcher is not None:
        gap, idle = idle_between_tasks(watcher.get_task_stream(start=began))
    count = len(stamps)
    steady = (stamps[-1] - stamps[0]) / (count - 1) if count > 1 else wall
    return {"wall": wall, "first": stamps[0] - start, "steady_s_per_sub": steady, "throughput": 1 / steady,
            "wall_s_per_sub": wall / count, "coordinator_cpu_s_per_sub": cpu / count,
            "sandbox_cpu_s_per_sub": at_end.get("sandboxes", float("nan")) / count,
            "dask_processes_cpu_s_per_sub": at_end.get("dask", 0.0) / count, "others_cores": max(0.0, others),
            "dask_gap_ms": gap * 1000, "dask_idle": idle,
            "submissions": count}


def scores(course: Path, assignment: str) -> dict[str, dict[str, float]]:
    url = f"sqlite:///{course / 'gradebook.db'}"
    return {p.name: cell_scores(url, assignment, p.name) for p in sorted((course / "submitted").iterdir())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", default="03_single_neuron")
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=1, help="repeat the four runs; medians are reported")
    parser.add_argument("--pin", action="store_true", help="Dask worker i runs under taskset -c i")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument("--keep", type=Path, help="build the course here and keep it")
    args = parser.parse_args()
    if not (ROOT / "source" / args.assignment / f"{NOTEBOOKS.get(args.assignment, '?')}.ipynb").exists():
        print(f"no source notebook for {args.assignment}", file=sys.stderr)
        return 2
    from tests.dask_cluster import ProcessCluster

    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    if args.keep and base.exists():
        shutil.rmtree(base)
    print(f"building a class of {args.students} submissions of {args.assignment} in {base} ...", flush=True)
    course = build_class(base / "course", args.assignment, args.students)
    cores = os.cpu_count() or 1
    load_before = os.getloadavg()
    cluster = ProcessCluster(workers=0, folder=base / "cluster")
    from distributed import Client

    watcher = Client(cluster.address, set_as_default=False)
    watcher.get_task_stream(start=time.time())  # the scheduler records the task stream from now on
    pins = [["taskset", "-c", str(i % cores)] if args.pin and shutil.which("taskset") else None for i in range(2)]
    figures: dict[str, list[dict[str, float]]] = {f"{e} x{n}": [] for e, n in CONFIGS}
    reference: dict[str, dict[str, float]] | None = None
    mismatches: list[str] = []
    try:
        for number in range(args.rounds):
            for executor, workers in CONFIGS:
                if executor == "dask":
                    live = cluster.live()
                    for name in live[workers:]:
                        cluster.kill(name)
                    for i in range(len(live), workers):
                        cluster.add_worker(prefix=pins[i])
                print(f"round {number + 1}: {executor} x{workers} ...", end=" ", flush=True)
                pids = [cluster.scheduler.pid, *(cluster.workers[name].pid for name in cluster.live())]
                result = grade_once(course, args.assignment, executor, workers, cluster.address, pids, watcher)
                print(f"{result['wall']:.1f} s", flush=True)
                figures[f"{executor} x{workers}"].append(result)
                now = scores(course, args.assignment)
                if reference is None:
                    reference = now
                elif now != reference:
                    mismatches.append(f"round {number + 1} {executor} x{workers}")
    finally:
        with contextlib.suppress(Exception):
            watcher.close()
        cluster.close()
    load_after = os.getloadavg()

    def median(config: str, key: str) -> float:
        return statistics.median(r[key] for r in figures[config])

    print()
    print(f"{args.students} submissions of {args.assignment}; {cores} cores; load average "
          f"{load_before[0]:.1f} before, {load_after[0]:.1f} after; {args.rounds} round(s), medians")
    print(f"{'':10} {'wall s':>8} {'warm-up s':>10} {'s/sub wall':>11} {'s/sub steady':>13} {'subs/s':>8} "
          f"{'CPU s/sub: coordinator':>23} {'sandboxes':>10} {'Dask':>6} {'others, cores':>14}")
    for config in figures:
        print(f"{config:10} {median(config, 'wall'):8.1f} {median(config, 'first'):10.1f} "
              f"{median(config, 'wall_s_per_sub'):11.3f} {median(config, 'steady_s_per_sub'):13.3f} "
              f"{median(config, 'throughput'):8.2f} {median(config, 'coordinator_cpu_s_per_sub'):23.3f} "
              f"{median(config, 'sandbox_cpu_s_per_sub'):10.3f} {median(config, 'dask_processes_cpu_s_per_sub'):6.3f} "
              f"{median(config, 'others_cores'):14.2f}")
    summary: dict[str, float] = {}
    for executor in ("local", "dask"):
        one, two = f"{executor} x1", f"{executor} x2"
        summary[f"{executor} speed-up 2/1 (steady)"] = median(two, "throughput") / median(one, "throughput")
        summary[f"{executor} speed-up 2/1 (wall)"] = median(one, "wall") / median(two, "wall")
        summary[f"{executor} scaling efficiency (steady)"] = summary[f"{executor} speed-up 2/1 (steady)"] / 2
    for workers in (1, 2):
        local, dask = f"local x{workers}", f"dask x{workers}"
        summary[f"dask overhead per submission x{workers} (steady)"] = (
            median(dask, "steady_s_per_sub") / median(local, "steady_s_per_sub") - 1)
        summary[f"dask overhead per submission x{workers} (wall)"] = (
            median(dask, "wall_s_per_sub") / median(local, "wall_s_per_sub") - 1)
    print()
    for key, value in summary.items():
        shown = f"{value:+.1%}" if "overhead" in key else (f"{value:.0%}" if "efficiency" in key else f"{value:.2f} x")
        print(f"{key:44} {shown}")
    same = "identical in every run" if not mismatches else "DIFFER: " + ", ".join(mismatches)
    for config in figures:
        workers = int(config.rsplit("x", 1)[1])
        used = statistics.median(r["throughput"] / cpu_bound(r, workers, cores) for r in figures[config])
        print(f"{f'{config}: of what its free CPU allowed':44} {used:.0%}")
    for workers in (1, 2):
        config = f"dask x{workers}"
        print(f"{f'{config}: a worker idle between tasks':44} {median(config, 'dask_gap_ms'):.1f} ms each, "
              f"{median(config, 'dask_idle'):.1%} of its time")
    print(f"{'per-cell scores':44} {same}")
    if args.json:
        args.json.write_text(json.dumps({"assignment": args.assignment, "students": args.students, "cores": cores,
                                         "load_before": load_before, "load_after": load_after, "runs": figures,
                                         "summary": summary, "mismatches": mismatches}, indent=1))
    if not args.keep:
        with contextlib.suppress(OSError):
            shutil.rmtree(base)
    return 1 if mismatches else 0


if __name__ == "__main__":
    raise SystemExit(main())
