"""Faults of the machine, not of any submission: a full disk, a locked or read-only gradebook.

:func:`environment_fault` recognises one in an exception (an ``OSError``, or SQLite's
words inside nbgrader's and SQLAlchemy's wrappers) and words it in one or two lines:
what happened, where, and what to do.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat as stats
from dataclasses import dataclass
from pathlib import Path

_FULL = (errno.ENOSPC, errno.EDQUOT)
_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)


@dataclass
class Fault:
    """A fault of the machine: ``reason`` (disk_full | too_large | gradebook_locked | read_only) and the words."""

    reason: str
    message: str


def environment_fault(error: BaseException, *, gradebook: Path | None, writing: Path | None = None,
                      need: int = 0) -> Fault | None:
    """The machine's fault behind ``error``, or None when it is something else.

    ``gradebook``: the sqlite file (None for another database); ``writing``: the file or
    folder being written when it happened; ``need``: bytes the rest of the run should need.
    """
    for link in _chain(error):
        if isinstance(link, OSError) and link.errno in _FULL:
            where = Path(link.filename) if link.filename else (writing or gradebook)
            return Fault("disk_full", disk_full(where, need))
        if isinstance(link, OSError) and link.errno == errno.EFBIG:
            where = Path(link.filename) if link.filename else (writing or gradebook)
            return Fault("too_large", too_large(where))
        if isinstance(link, OSError) and link.errno in _DENIED:
            where = Path(link.filename) if link.filename else (writing or gradebook)
            return Fault("read_only", read_only(where, link.strerror or "permission denied"))
        text = str(link).lower()
        if "database or disk is full" in text or ("disk i/o error" in text and _nearly_full(gradebook)):
            return Fault("disk_full", disk_full(gradebook, need, what="the gradebook"))
        if "database is locked" in text or "database table is locked" in text:
            return Fault("gradebook_locked", locked(gradebook))
        if "readonly database" in text or "read-only database" in text or "unable to open database file" in text:
            return Fault("read_only", read_only(gradebook, "SQLite cannot write it", gradebook=True))
    return None


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _size(count: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{int(count)} bytes"


def _existing(path: Path | None) -> Path | None:
    while path is not None and not path.exists() and path != path.parent:
        path = path.parent
    return path


def _nearly_full(path: Path | None) -> bool:
    folder = _existing(path)
    try:
        return folder is not None and shutil.disk_usage(folder).free < (1 << 20)
    except OSError:
        return False


def disk_full(where: Path | None, need: int, what: str = "") -> str:
    folder = _existing(where.parent if where is not None and where.suffix else where) or Path(".")
    try:
        free = f"{_size(shutil.disk_usage(folder).free)} free"
    except OSError:
        free = "free space unknown"
    need_text = f"free at least {_size(max(need, 1 << 20))} there" if need else "free some space there"
    writing = f" writing {what or where}" if (what or where) else ""
    return (f"the disk is full{writing} ({free} on the disk holding {folder}): {need_text}, then run the same "
            f"command again to grade the rest")


def too_large(where: Path | None) -> str:
    """A file that may not grow any more: this process's ``RLIMIT_FSIZE``, or the file system's largest file."""
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY:
        limit = (f"the largest file this process may write ({_size(soft)}, `ulimit -f`): raise that limit, then run "
                 f"the same command again to grade the rest")
    else:
        limit = "the largest file its file system can hold: move the course to another file system"
    return f"cannot write {where or 'a file'}: it would grow over {limit}"


def read_only(where: Path | None, why: str, gradebook: bool = False) -> str:
    """Why ``where`` cannot be written (the file, its folder, or a read-only file system)."""
    path = _existing(where) or Path(".")
    what = "the gradebook " if gradebook else ""
    if _read_only_fs(path):
        return (f"cannot write {what}{where}: its file system is mounted read-only; grade on a writable copy of "
                f"the course, or remount it writable")
    details = []
    if path.is_file():
        details.append(f"the file is {describe_mode(path)}")
    folder = path if path.is_dir() else path.parent
    details.append(f"its folder is {describe_mode(folder)}")
    fix = f"make {'it and its folder' if path.is_file() else 'the folder'} writable by you (chmod u+w)"
    note = " (SQLite writes a journal beside the gradebook)" if gradebook else ""
    return f"cannot write {what}{where}: {why}; {', '.join(details)}{note}: {fix}, then run the same command again"


def locked(gradebook: Path | None) -> str:
    holders = lock_holders(gradebook) if gradebook is not None else []
    who = ", ".join(holders) if holders else "another program (not found: another user's, or it let go since)"
    return (f"the gradebook {gradebook} is locked by {who}: close it or wait for it to finish, then run the same "
            f"command again to grade the rest")


def lock_holders(path: Path) -> list[str]:
    """The processes holding a lock on (or, failing that, having open) the sqlite file ``path``."""
    me = os.getpid()
    inodes = set()
    for suffix in ("", "-journal", "-wal", "-shm"):
        try:
            inodes.add(os.stat(f"{path}{suffix}").st_ino)
        except OSError:
            pass
    pids: list[int] = []
    try:
        for line in Path("/proc/locks").read_text().splitlines():
            fields = line.split()
            if "->" in fields or len(fields) < 6:
                continue
            pid, where = fields[4], fields[5]
            if pid.isdigit() and int(pid) != me and where.rsplit(":", 1)[-1].isdigit() \
                    and int(where.rsplit(":", 1)[-1]) in inodes and int(pid) not in pids:
                pids.append(int(pid))
    except OSError:
        pass
    if not pids:
        pids = _openers(path, me)
    return [f"PID {pid} ({_command(pid)})" for pid in pids[:3]]


def _openers(path: Path, me: int) -> list[int]:
    names = {str(path.resolve()) + suffix for suffix in ("", "-journal", "-wal")}
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) in names:
                    found.append(int(entry.name))
                    break
        except OSError:
            continue
    return found


def _command(pid: int) -> str:
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    text = " ".join(Path(words[0].decode(errors="replace")).name if i == 0 else w.decode(errors="replace")
                    for i, w in enumerate(words) if w)
    return text if len(text) <= 60 else text[:57] + "..."


def _read_only_fs(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def describe_mode(path: Path) -> str:
    """A path's permissions and owner, for a message: ``-rw-r--r-- (owner ada)``."""
    try:
        stat = path.stat()
    except OSError as error:
        return error.strerror or "missing"
    import pwd

    try:
        owner = pwd.getpwuid(stat.st_uid).pw_name
    except KeyError:
        owner = str(stat.st_uid)
    return f"{stats.filemode(stat.st_mode)} (owner {owner})"
