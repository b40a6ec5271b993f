"""A real PostgreSQL server for the tests: Debian's ``postgresql`` package, started by the test itself.

:func:`start` runs ``initdb`` into a fresh temporary folder and ``pg_ctl start`` on a free
port of 127.0.0.1 (its unix socket in that folder, under /tmp), with trust authentication
for the ``postgres`` role and without fsync (a test server: fast, thrown away). PostgreSQL
refuses to run as root: under root (as CI runs the tests) the server runs as ``nobody``,
through ``runuser``. :data:`MISSING` says why no server can start here (skip with it,
through :func:`unavailable`: under CI, ``CI=true``, where ``scripts/setup.sh --test`` has
installed everything, a missing component fails the tests instead).

The ``postgres`` fixture (import it into a test module) is one server per test process.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

#: The unprivileged user the server runs as when the tests run as root.
SERVER_USER = "nobody"


def bin_dir() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: Debian keeps them out of PATH, under /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
                      if p.parts[-3].isdigit() else 0)
    return versions[-1].parent if versions else None


def unavailable(why: str) -> NoReturn:
    """Skip the test (or the module, called at import) with ``why``; under CI (``CI=true``) fail it:
    a green CI must have run it."""
    if os.environ.get("CI"):
        pytest.fail(f"{why} (CI=true: scripts/setup.sh --test should have installed it)", pytrace=False)
    pytest.skip(why, allow_module_level=True)


def _missing() -> str | None:
    if bin_dir() is None:
        return ("PostgreSQL is not installed (no initdb): `apt-get install postgresql` "
                "(scripts/setup.sh --test does it as root)")
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "the psycopg2 driver is not installed: pip install -e '.[postgres]' (scripts/setup.sh --test)"
    if os.geteuid() == 0 and not (shutil.which("runuser") and _user_exists(SERVER_USER)):
        return f"running as root, and cannot run PostgreSQL as the unprivileged user {SERVER_USER!r} (runuser)"
    return None


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


#: Why no server can start here (None: one can).
MISSING = _missing()
#: Folders of stopped servers being removed (kept so that no one waits for them).
_REMOVING: list[subprocess.Popen[bytes]] = []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running PostgreSQL server."""

    folder: Path
    port: int
    user: str = "postgres"
    host: str = "127.0.0.1"

    def url(self, database: str, driver: str = "psycopg2") -> str:
        return f"postgresql+{driver}://{self.user}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; its URL."""
        from autograder.grading.executors.database import create_database

        url = self.url(name)
        create_database(url)
        return url

    def stop(self) -> None:
        _as_server_user([str(bin_dir() / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w",
                         "stop"], check=False)
        # Removing a used data folder can take seconds (its WAL): let the OS do it after the tests.
        _REMOVING.append(subprocess.Popen(["rm", "-rf", str(self.folder)], start_new_session=True,
                                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))


def _as_server_user(argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0:
        argv = ["runuser", "-u", SERVER_USER, "--", *argv]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd="/tmp", timeout=180)
    if check and done.returncode != 0:
        raise RuntimeError(f"`{' '.join(argv)}` failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done


def start() -> Server:
    """A new server in a new folder under /tmp (which the server's user can reach)."""
    if MISSING:
        raise RuntimeError(MISSING)
    folder = Path(tempfile.mkdtemp(prefix="autograder-pg-", dir="/tmp"))
    if os.geteuid() == 0:
        import pwd

        entry = pwd.getpwnam(SERVER_USER)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    os.chmod(folder, 0o700)
    tools = bin_dir()
    assert tools is not None
    data = folder / "data"
    _as_server_user([str(tools / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync",
                     "-E", "UTF8", "--locale=C"])
    for _ in range(5):  # a free port may be taken before the server binds it: try another
        port = free_port()
        options = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                   f"-c full_page_writes=off -c max_connections=200")
        done = _as_server_user([str(tools / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"),
                                "-w", "-t", "120", "start"], check=False)
        if done.returncode == 0:
            return Server(folder, port)
        time.sleep(0.2)
    log = (folder / "log").read_text(errors="replace")[-2000:] if (folder / "log").exists() else ""
    shutil.rmtree(folder, ignore_errors=True)
    raise RuntimeError(f"PostgreSQL did not start:\n{done.stdout}{done.stderr}\n{log}")


@contextlib.contextmanager
def running() -> Iterator[Server]:
    server = start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Server]:
    """A PostgreSQL server for this test process (skipped, with the reason, where none can run)."""
    if MISSING:
        unavailable(MISSING)
    with running() as server:
        yield server
