"""The gradebook on a database server (PostgreSQL) or in a SQLite file: set up before dispatch.

nbgrader's ``Gradebook`` creates its tables the first time it opens a database, and two
processes doing that at once fail (on SQLite and on PostgreSQL alike: both create the
same tables and the ``alembic_version`` row). So the coordinator does everything that
creates rows shared by many submissions once, before any job is handed out, under a
lock that holds across processes and machines (a PostgreSQL advisory lock, or an
``flock`` on the SQLite file's folder): the schema, and every student of the run. Each submission
is then written in one transaction of its own (``batch._one_transaction``); a killed run
leaves whole submissions, and the rerun grades the rest.

A course's ``c.CourseDirectory.db_url`` may be ``sqlite:///...``,
``postgresql+psycopg2://user:password@host:5432/database`` (``pip install
'pytorch-fundamentals-autograder[postgres]'``) or ``postgresql+psycopg://...`` (psycopg 3).
One database per course: nbgrader's assignment names are unique within a database.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from unittest import mock

from autograder.grading.plan import GradeError

#: The PostgreSQL advisory lock held while a gradebook's tables are created (any 64-bit number
#: that no other program on the server uses for its own lock).
SCHEMA_LOCK = 0x6E62_6772_6164_6572  # "nbgrader"
#: What to install for each driver SQLAlchemy may ask for.
DRIVERS = {
    "psycopg2": "pip install 'pytorch-fundamentals-autograder[postgres]' (or psycopg2-binary)",
    "psycopg": "pip install 'psycopg[binary]'",
}

_patching = threading.Lock()


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite:")


def describe(url: str) -> str:
    """``url`` without its password, to be shown and logged."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL SQLAlchemy reads: show its scheme only
        return url.split("://", 1)[0] + "://..."


def prepare(url: str, course_id: str, students: Iterable[str] = ()) -> None:
    """Create the gradebook's tables if they are missing, and the ``students``: once, before dispatch.

    Raises :class:`GradeError` with what to do when the database cannot be reached.
    """
    students = sorted(set(students))
    with _creation_lock(url), _no_alembic_process():
        from nbgrader.api import Gradebook

        gradebook = _open(lambda: Gradebook(url, course_id), url)
        try:
            _add_students(gradebook, students)
        finally:
            gradebook.close()


def _open(opener, url: str):  # noqa: ANN001, ANN202 - nbgrader's Gradebook
    try:
        return opener()
    except ModuleNotFoundError as error:
        hint = DRIVERS.get(str(error.name), "install the database driver the URL names")
        raise GradeError(f"the gradebook {describe(url)} needs the Python module {error.name!r}, which is not "
                         f"installed: {hint}") from None
    except Exception as error:
        if is_sqlite(url):
            raise  # a file: the coordinator's fault handling says what is wrong with it (faults.py)
        if type(error).__module__.startswith("sqlalchemy") and "OperationalError" in type(error).__name__:
            said = str(getattr(error, "orig", error)).strip().splitlines()
            raise GradeError(f"cannot open the gradebook {describe(url)}: {said[0] if said else error}: start the "
                             f"database server, create the database (`createdb`), or fix c.CourseDirectory.db_url "
                             f"in nbgrader_config.py") from None
        raise


def _add_students(gradebook, students: list[str]) -> None:  # noqa: ANN001
    """Every student not in the gradebook yet, in one transaction (one at a time when another
    coordinator adds some of the same at the same moment)."""
    if not students:
        return
    from nbgrader.api import Student
    from sqlalchemy.exc import IntegrityError

    session = gradebook.db
    known: set[str] = set()
    for at in range(0, len(students), 500):  # SQLite allows only so many parameters in one statement
        chunk = students[at:at + 500]
        known.update(row[0] for row in session.query(Student.id).filter(Student.id.in_(chunk)))
    missing = [s for s in students if s not in known]
    if not missing:
        return
    try:
        session.add_all([Student(id=s) for s in missing])
        session.commit()
    except IntegrityError:
        session.rollback()
        for student in missing:
            gradebook.update_or_create_student(student)


@contextlib.contextmanager
def _creation_lock(url: str) -> Iterator[None]:
    """Held by one process at a time, across machines, while the gradebook's tables may be created."""
    if is_sqlite(url):
        path = url.split(":///", 1)[-1]
        if not path or path == ":memory:":
            yield
            return
        # Its folder, not the file: closing a descriptor of the file would drop SQLite's own locks.
        try:
            fd = os.open(Path(path).parent, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            yield  # nbgrader says why it cannot open it
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)
        return
    if not url.startswith("postgresql"):
        yield
        return
    from sqlalchemy import create_engine, text

    engine = _open(lambda: create_engine(url, poolclass=_null_pool()), url)
    try:
        connection = _open(engine.connect, url)
        try:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _signed(SCHEMA_LOCK)})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _signed(SCHEMA_LOCK)})
        finally:
            connection.close()
    finally:
        engine.dispose()


def _null_pool():  # noqa: ANN202
    from sqlalchemy.pool import NullPool

    return NullPool


def _signed(number: int) -> int:
    """A 64-bit number as PostgreSQL's bigint holds it."""
    return number - (1 << 64) if number >= 1 << 63 else number


@contextlib.contextmanager
def _no_alembic_process() -> Iterator[None]:
    """nbgrader asks an ``alembic`` process (found on PATH, seconds to start) for the newest migration
    when it creates a gradebook; ask alembic's API in this process instead."""
    import nbgrader.api

    from autograder.grading.nbgrader_commands import alembic_head

    with _patching, mock.patch.object(nbgrader.api, "get_alembic_version", alembic_head):
        yield


def create_database(url: str) -> bool:
    """Create the PostgreSQL database ``url`` names, when it does not exist (connecting to the
    server's ``postgres`` database as the URL's user, who needs CREATEDB). True when created."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    if not target.drivername.startswith("postgresql") or not target.database:
        raise ValueError(f"not a PostgreSQL database URL: {describe(url)}")
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=_null_pool())
    try:
        with admin.connect() as connection:
            if connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                  {"name": target.database}).first():
                return False
            name = target.database.replace('"', '""')
            connection.execute(text(f'CREATE DATABASE "{name}"'))
            return True
    finally:
        admin.dispose()
