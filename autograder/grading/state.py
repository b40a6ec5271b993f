"""What a rerun needs to know, kept so that a crash never loses it: the state file, atomic writes.

``autograded/.autograder_state.json`` records, per assignment and student, the
fingerprint of the submission that was graded and the notebooks written for it.
Every file the grader writes goes through :func:`atomic_write` (a temporary file,
then a rename), so a full disk or a killed run leaves the old file or the new
one, never a half-written one. A state file that is damaged anyway (or from an
older version) is rebuilt from the gradebook by the coordinator.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

STATE_FILE = ".autograder_state.json"
VERSION = 2
#: Notebook metadata key holding the fingerprint a graded notebook was made from.
METADATA_KEY = "autograder"


def fingerprint(folder: Path) -> str:
    """A digest of every file of a submission (what a rerun compares)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def atomic_write(path: Path, data: bytes, mode: int | None = None, sync: bool = False) -> None:
    """Write ``data`` to ``path`` all at once: a temporary file beside it, then a rename."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


class State:
    """The state file of one course's ``autograded/`` folder."""

    def __init__(self, path: Path, data: dict[str, Any] | None = None, damaged: str | None = None,
                 legacy: dict[str, str] | None = None) -> None:
        self.path = path
        self.data: dict[str, Any] = data or {"version": VERSION, "assignments": {}}
        #: Why the file could not be used as it is (None: it could, or there was none).
        self.damaged = damaged
        #: student -> fingerprint, from a state file of version 1 (assignments not told apart).
        self.legacy = legacy or {}

    @classmethod
    def load(cls, autograded: Path) -> State:
        path = autograded / STATE_FILE
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            # No state but graded notebooks: the file was lost; rebuild rather than regrade all.
            has_graded = autograded.is_dir() and any(p.is_dir() and not p.name.startswith(".")
                                                     for p in autograded.iterdir())
            return cls(path, damaged="missing" if has_graded else None)
        except OSError as error:
            return cls(path, damaged=f"unreadable ({error.strerror})")
        try:
            data = json.loads(raw)
        except ValueError:
            return cls(path, damaged="empty" if not raw.strip() else "not valid JSON")
        if isinstance(data, dict) and data.get("version") == VERSION and isinstance(data.get("assignments"), dict):
            if all(isinstance(v, dict) and all(_valid_entry(e) for e in v.values())
                   for v in data["assignments"].values()):
                return cls(path, data)
            return cls(path, damaged="malformed entries")
        if isinstance(data, dict) and all(isinstance(v, str) for v in data.values()):
            return cls(path, damaged="from an older version", legacy=data)
        return cls(path, damaged="not a state file")

    def entries(self, assignment: str) -> dict[str, dict[str, Any]]:
        return self.data["assignments"].setdefault(assignment, {})

    def get(self, assignment: str, student: str) -> dict[str, Any] | None:
        return self.data["assignments"].get(assignment, {}).get(student)

    def record(self, assignment: str, student: str, fingerprint: str, notebooks: list[str]) -> None:
        self.entries(assignment)[student] = {"fingerprint": fingerprint, "notebooks": sorted(notebooks)}

    def forget(self, assignment: str, student: str) -> None:
        self.entries(assignment).pop(student, None)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, json.dumps(self.data, indent=1, sort_keys=True).encode())
        self.damaged = None


def _valid_entry(entry: Any) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str)
            and isinstance(entry.get("notebooks"), list) and all(isinstance(n, str) for n in entry["notebooks"]))


def is_current(state: State, assignment: str, student: str, fingerprint_now: str, dest: Path) -> bool:
    """Whether ``student``'s graded copy in ``dest`` is of the submission as it is now."""
    entry = state.get(assignment, student)
    return bool(entry and entry["fingerprint"] == fingerprint_now
                and all((dest / f"{name}.ipynb").exists() for name in entry["notebooks"]))


def stale_files(folder: Path) -> Iterator[Path]:
    """Temporary files and folders a killed run left in ``folder`` (``.name.xxxx.tmp``)."""
    if folder.is_dir():
        for path in folder.iterdir():
            if path.name.startswith(".") and path.name.endswith(".tmp"):
                yield path
