"""The gradebook set-up before dispatch (``executors.database``), on a real PostgreSQL server and on SQLite.

nbgrader creates a gradebook's tables the first time it opens it, and two processes doing
so at once fail; ``database.prepare`` does it under a lock that holds across processes.
(Grading into PostgreSQL, on the local pool and on Dask, is in ``test_dask.py``.)
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from autograder.grading.executors import database
from autograder.grading.plan import GradeError
from tests.pg import postgres  # noqa: F401 - the fixture

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dask")]

PROCESSES = 4


def _prepare(url: str, number: int, barrier, results) -> None:  # noqa: ANN001
    barrier.wait(timeout=60)
    try:
        database.prepare(url, "course", [f"s{number}", "shared"])
    except Exception as error:  # noqa: BLE001 - reported to the test
        results.put((number, f"{type(error).__name__}: {error}"))
    else:
        results.put((number, ""))


def _at_once(urls: list[str]) -> list[str]:
    """``prepare`` of each URL, in as many processes, all let go at the same moment."""
    context = multiprocessing.get_context("fork")  # nbgrader is imported already: no seconds per process
    barrier, results = context.Barrier(len(urls)), context.Queue()
    processes = [context.Process(target=_prepare, args=(url, n, barrier, results)) for n, url in enumerate(urls)]
    for process in processes:
        process.start()
    said = dict(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=30)
    return [said[n] for n in range(len(urls))]


def _students(url: str) -> set[str]:
    from nbgrader.api import Gradebook

    with Gradebook(url, "course") as gradebook:
        return {s.id for s in gradebook.students}


def test_first_creation_at_once_on_postgres_with_both_drivers(postgres):  # noqa: F811
    url = postgres.create_database("fresh")
    drivers = [url, url.replace("+psycopg2", "+psycopg")] * (PROCESSES // 2)  # psycopg 2 and psycopg 3
    assert _at_once(drivers) == [""] * PROCESSES
    assert _students(url) == {"shared", *(f"s{n}" for n in range(PROCESSES))}
    assert not database.create_database(url)  # it exists


def test_first_creation_at_once_on_sqlite(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    assert _at_once([url] * PROCESSES) == [""] * PROCESSES
    assert _students(url) == {"shared", *(f"s{n}" for n in range(PROCESSES))}


def test_what_to_do_when_the_server_or_the_driver_is_missing(postgres):  # noqa: F811
    with pytest.raises(GradeError, match=r'database "missing" does not exist.*createdb'):
        database.prepare(postgres.url("missing"), "course")
    with pytest.raises(GradeError, match=r"'pg8000'.*not installed"):
        database.prepare(postgres.url("fresh", driver="pg8000"), "course")
    secret = f"postgresql+psycopg2://grader:s3cret@127.0.0.1:{postgres.port}/course"
    with pytest.raises(GradeError) as raised:
        database.prepare(secret, "course")
    assert "s3cret" not in str(raised.value) and "grader:***@" in str(raised.value)
