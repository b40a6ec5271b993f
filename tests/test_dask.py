"""``autograder grade --dask``: the warm sandboxes on a real Dask cluster, into SQLite or PostgreSQL.

Real components only, started here: a ``LocalCluster``; a ``dask scheduler`` and two
``dask worker`` processes on 127.0.0.1; a PostgreSQL server (``tests/pg.py``). One class of
``01_tensors`` (the reference, the blank release notebook and the corpus's mistakes) is
graded by the local pool first; every other way of grading it must give the same per-cell
scores, whatever fails on the way.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from autograder.course import NOTEBOOKS
from autograder.grading import sandbox
from autograder.grading.gradebook import cell_scores
from autograder.grading.nbgrader_commands import generate_assignments, new_course
from autograder.grading.plan import Options
from autograder.grading.run import grade_assignment
from autograder.grading.state import STATE_FILE
from tests import dask_cluster
from tests.corpus import Submission, write_submissions
from tests.corpus.registry import submissions_for
from tests.pg import free_port, postgres, unavailable  # noqa: F401 - postgres: the fixture

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "01_tensors"
NOTEBOOK = f"{NOTEBOOKS[ASSIGNMENT]}.ipynb"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("dask"),
]
if dask_cluster.MISSING:
    unavailable(dask_cluster.MISSING)
if sandbox.find_bwrap() is None:
    unavailable("bubblewrap (bwrap) is not installed: sudo apt-get install bubblewrap (scripts/setup.sh does it)")


def make_course(folder: Path, db_url: str | None = None, students: list[Submission] | None = None,
                blank: bool = True) -> Path:
    """A course of 01_tensors at ``folder``: its gradebook at ``db_url`` (default: SQLite in it)."""
    course = new_course(folder, ROOT, [ASSIGNMENT])
    if db_url:
        with open(course / "nbgrader_config.py", "a") as config:
            config.write(f"\nc.CourseDirectory.db_url = {db_url!r}\n")
    generate_assignments(course, [ASSIGNMENT])
    chosen = students if students is not None else [Submission("reference", {}), *submissions_for(ASSIGNMENT)]
    write_submissions(course / "source" / ASSIGNMENT / NOTEBOOK, course / "submitted", ASSIGNMENT, chosen)
    if blank:
        (course / "submitted" / "blank" / ASSIGNMENT).mkdir(parents=True)
        shutil.copy(course / "release" / ASSIGNMENT / NOTEBOOK, course / "submitted" / "blank" / ASSIGNMENT)
    return course


def db_url_of(course: Path, url: str | None = None) -> str:
    return url or f"sqlite:///{course / 'gradebook.db'}"


def class_scores(course: Path, url: str | None = None) -> dict[str, dict[str, float]]:
    students = sorted(p.name for p in (course / "submitted").iterdir())
    return {s: cell_scores(db_url_of(course, url), ASSIGNMENT, s) for s in students}


def graded(run) -> dict[str, str]:  # noqa: ANN001
    assert run.stopped is None, run.stopped
    return {r.student: r.status for r in run.results}


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """The class, graded by the local pool (two warm sandboxes on this machine): the scores to match."""
    course = make_course(tmp_path_factory.mktemp("dask") / "local")
    run = grade_assignment(Options(ASSIGNMENT, course, force=True, workers=2))
    assert set(graded(run).values()) == {"graded"}, run.problems
    scores = class_scores(course)
    for submission in submissions_for(ASSIGNMENT):  # and they are the right ones
        lost = {cell for cell, points in scores[submission.student].items() if points == 0}
        assert lost == set(submission.loses), submission.student
    return course, scores


@pytest.fixture(scope="module")
def cluster():
    """A scheduler and two one-thread workers, separate processes on 127.0.0.1."""
    with dask_cluster.running(2) as started:
        yield started


def copy_course(local_course: Path, folder: Path, db_url: str | None = None) -> Path:
    """The local class's course and submissions, ungraded, with its gradebook at ``db_url``."""
    if db_url is None:
        course = folder
        shutil.copytree(local_course, course, ignore=shutil.ignore_patterns("autograded", "*.log", ".autograder*"))
        return course
    return make_course(folder, db_url)


def test_a_local_cluster_gives_the_local_scores(local, tmp_path):
    local_course, expected = local
    course = copy_course(local_course, tmp_path / "localcluster")  # its SQLite gradebook
    run = grade_assignment(Options(ASSIGNMENT, course, force=True), dask="local:1")
    assert set(graded(run).values()) == {"graded"}, run.problems
    assert class_scores(course) == expected


def grade_killing_a_worker(cluster, options: Options) -> tuple:  # noqa: ANN001
    """Grade on ``cluster``, killing its worker w1 while it runs a submission (two are written
    by then); the run and the task that was running there."""
    victim = cluster.worker_address("w1")
    assert victim is not None
    done: list = []
    grading = threading.Thread(target=lambda: done.append(grade_assignment(options, dask=cluster.address)))
    grading.start()
    killed = None
    with cluster.client() as client:
        deadline = time.monotonic() + 240
        while killed is None and grading.is_alive() and time.monotonic() < deadline:
            running = [str(k) for k in client.processing([victim]).get(victim, ()) if "autograder-" in str(k)]
            if running and len(list((options.root / "autograded").glob(f"*/{ASSIGNMENT}"))) >= 2:
                cluster.kill("w1")
                killed = running[0]
            time.sleep(0.02)
    grading.join(timeout=300)
    cluster.add_worker()  # two workers again for the next test
    assert killed is not None, "w1 never ran a submission"
    return done[0], killed


def test_a_cluster_into_postgres_gives_the_local_scores_though_a_worker_is_killed(local, cluster, postgres,  # noqa: F811
                                                                                  tmp_path):
    """The scheduler and its two worker processes, into a PostgreSQL database; one worker is
    killed mid-class (as when its machine is lost): nothing is lost, no one is charged."""
    _, expected = local
    url = postgres.create_database("course_dask")
    into_postgres = make_course(tmp_path / "postgres", url)
    run, killed = grade_killing_a_worker(cluster, Options(ASSIGNMENT, into_postgres, force=True))
    assert set(graded(run).values()) == {"graded"}, (killed, run.problems)
    assert not any(r.problems for r in run.results)
    # The scheduler retries nothing itself here (tests/dask_cluster.py): the coordinator ran the task again.
    student = killed.removeprefix("autograder-").split("-", 1)[1].split("/", 1)[0]
    log = (into_postgres / "autograder.log").read_text()
    assert f"{student}: not the student's doing (the Dask task failed: KilledWorker" in log, log[-3000:]
    assert class_scores(into_postgres, url) == expected
    assert not (into_postgres / "gradebook.db").exists()

    # Stock nbgrader reads the PostgreSQL gradebook: its CSV export, its feedback and the formgrader's
    # API (what `nbgrader export`, `nbgrader generate_feedback` and the formgrader run, in this process).
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.plugins.export import CsvExportPlugin

    from autograder.grading.settings import load_config

    with Gradebook(url, "pytorch-fundamentals") as gradebook:
        CsvExportPlugin(to=str(into_postgres / "grades.csv")).export(gradebook)
    rows = (into_postgres / "grades.csv").read_text().splitlines()
    assert len(rows) == 1 + len(expected) and all(row.startswith(f"{ASSIGNMENT},") for row in rows[1:])
    api = NbGraderAPI(config=load_config(into_postgres))
    shown = {s["student"]: s["score"] for s in api.get_submissions(ASSIGNMENT)}
    assert shown == pytest.approx({s: sum(cells.values()) for s, cells in expected.items()})
    feedback = api.generate_feedback(ASSIGNMENT, "to_batch_flat")
    assert feedback["success"], feedback.get("error")
    assert (into_postgres / "feedback" / "to_batch_flat" / ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")).exists()


def saved(autograded: Path) -> set[str]:
    """The students whose graded copy the state file in ``autograded`` records."""
    try:
        data = json.loads((autograded / STATE_FILE).read_text())
    except (OSError, ValueError):
        return set()
    return set(data.get("assignments", {}).get(ASSIGNMENT, {}))


def test_two_courses_at_once_into_one_postgres_server_and_a_killed_run_resumes(local, cluster, postgres,  # noqa: F811
                                                                                tmp_path):
    """Course A (the class) and course B (the same student ids, every one handing in the
    reference) are graded at the same time on the same cluster into two databases of one
    server; A's run is killed part way, and its rerun grades only the rest."""
    _, expected = local
    url_a, url_b = postgres.create_database("course_a"), postgres.create_database("course_b")
    course_a = make_course(tmp_path / "a", url_a)
    ids = sorted(expected)[:4]
    course_b = make_course(tmp_path / "b", url_b, [Submission(s, {}) for s in ids], blank=False)
    command = [sys.executable, "-m", "autograder.cli.main", "grade", ASSIGNMENT, "--dask", cluster.address, "--root"]
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    first_a = subprocess.Popen([*command, str(course_a)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    run_b = subprocess.Popen([*command, str(course_b)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    written = course_a / "autograded"
    deadline = time.monotonic() + 240
    while len(saved(written)) < 3 and first_a.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first_a.poll() is None, first_a.communicate()[0].decode()[-3000:]
    os.killpg(first_a.pid, signal.SIGKILL)  # the coordinator, mid-class
    first_a.wait()
    # What the killed run saved (its state file, written at most twice a second) is kept; what it
    # graded since is graded again.
    done_before = saved(written)
    assert 3 <= len(done_before) < len(expected)
    assert done_before <= {p.parent.name for p in written.glob(f"*/{ASSIGNMENT}")}

    output_b = run_b.communicate(timeout=300)[0].decode()
    assert run_b.returncode == 0, output_b[-3000:]
    rerun = grade_assignment(Options(ASSIGNMENT, course_a), dask=cluster.address)
    statuses = graded(rerun)
    assert {s for s, status in statuses.items() if status == "skipped"} == done_before
    assert set(statuses.values()) == {"graded", "skipped"}

    assert class_scores(course_a, url_a) == expected
    full = expected["reference"]
    assert class_scores(course_b, url_b) == dict.fromkeys(ids, full)
    from nbgrader.api import Gradebook

    for url, students in ((url_a, set(expected)), (url_b, set(ids))):
        with Gradebook(url, "pytorch-fundamentals") as gradebook:
            assert {s.id for s in gradebook.students} == students
            assert len(gradebook.find_assignment(ASSIGNMENT).submissions) == len(students)


def test_gpu_jobs_without_a_gpu_worker_stop_with_a_message(local, cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRADER_DASK_WAIT", "3")
    course = copy_course(local[0], tmp_path / "gpu")
    done: list = []
    options = Options(ASSIGNMENT, course, students=["reference"], force=True)
    grading = threading.Thread(target=lambda: done.append(grade_assignment(options, dask=cluster.address, gpu=True)),
                               daemon=True)
    started = time.monotonic()
    grading.start()
    grading.join(timeout=60)
    assert done, "the run still waits for a GPU worker after 60 s"
    run = done[0]
    assert run.stopped is not None and run.stopped.reason == "error"
    assert "no Dask worker" in str(run.stopped) and "GPU" in str(run.stopped)
    assert "--resources GPU=1" in str(run.stopped)
    assert [r.status for r in run.results] == ["not graded"]
    assert time.monotonic() - started < 60


def test_an_unreachable_scheduler_and_gpu_without_dask_are_explained(local, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from autograder.cli.main import app

    monkeypatch.setenv("AUTOGRADER_DASK_WAIT", "1")
    course = copy_course(local[0], tmp_path / "nowhere")
    nowhere = f"tcp://127.0.0.1:{free_port()}"
    run = grade_assignment(Options(ASSIGNMENT, course, students=["reference"]), dask=nowhere)
    assert run.stopped is not None and f"cannot reach the Dask scheduler at {nowhere}" in str(run.stopped)
    result = CliRunner().invoke(app, ["grade", ASSIGNMENT, "--root", str(course), "--gpu"])
    assert result.exit_code == 2 and "--dask" in result.output
