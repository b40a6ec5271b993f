"""The bubblewrap command line a zygote runs under, and the check that bubblewrap exists.

What the sandbox gives each worker: a read-only view of the machine's system
folders, the Python it runs and the student kit, and nothing else of the disk (no
home folders, no other checkouts of the course); the course folder (submissions,
autograded notebooks, the gradebook) and the instructor's package hidden behind
empty folders; its own /tmp, /dev/shm, PID namespace and no network; no
capabilities; it dies with the grader. Student notebooks reach it only through the zygote's
stdin, one submission at a time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

INSTALL_HINT = (
    "bubblewrap (bwrap) is not installed, and the grader runs student code only inside it.\n"
    "Install it with your package manager, for example:\n"
    "  sudo apt-get install bubblewrap     (Debian, Ubuntu)\n"
    "  sudo dnf install bubblewrap         (Fedora, RHEL)\n"
    "then run the command again. To grade without any sandbox (student code then runs\n"
    "with your rights and can read or change the gradebook), pass --unsafe-no-sandbox."
)


#: Said after bubblewrap's own error when no sandbox could start.
START_HINT = (
    "bubblewrap needs user namespaces (or root), which containers and nested sandboxes often forbid: "
    "allow them, or run with --unsafe-no-sandbox only where the container itself is the sandbox."
)


#: The machine's folders a worker sees, read-only: programs, libraries, configuration, and
#: /sys (torch reads the CPU's layout there). Everything else on the disk is absent.
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or does not work here."""


def find_bwrap() -> str | None:
    """The path of the bwrap executable, or None."""
    return shutil.which("bwrap")


def require_bwrap() -> str:
    """The path of bwrap, or :class:`SandboxUnavailable` with install instructions."""
    found = find_bwrap()
    if found is None:
        raise SandboxUnavailable(INSTALL_HINT)
    return found


def hidden_paths(course_root: Path, package_dir: Path, kit_dir: Path | None = None) -> list[Path]:
    """What the sandbox must not see: the course folder and the instructor's package.

    The instructor's package (``package_dir``: answer key, judges) is always hidden. The
    course folder is hidden whole, unless the student kit the sandbox runs (``kit_dir``)
    lives inside it (a course kept in this repository): then every entry except the one
    holding the kit and the virtual environments.
    """
    course_root = course_root.resolve()
    package_dir = package_dir.resolve()
    hidden = {package_dir}
    kit_dir = kit_dir.resolve() if kit_dir is not None else None
    if kit_dir is None or course_root not in kit_dir.parents:
        hidden.add(course_root)
    else:
        keep = {course_root / kit_dir.relative_to(course_root).parts[0]}
        keep |= {p for p in course_root.iterdir() if p.name.startswith(".venv") or p.name in ("venv", ".env")}
        hidden |= {p for p in course_root.iterdir() if p not in keep}
    # A folder inside a hidden one is hidden with it.
    return sorted(p for p in hidden if not any(h in p.parents for h in hidden))


def bwrap_command(bwrap: str, command: list[str], *, hide: Iterable[Path], env: dict[str, str],
                  tmp_size: int = 0, shm_size: int = 0, show: Iterable[Path] = ()) -> list[str]:
    """The full argv that runs ``command`` inside the sandbox.

    ``hide``: paths to cover where they lie inside a folder the sandbox sees (elsewhere they
    are absent already). ``show``: more folders to see, read-only (caches, never code).
    ``tmp_size``/``shm_size``: bytes /tmp and /dev/shm may hold (0: the kernel's default,
    half the machine's memory). Files there are memory outside the submission's own limit.
    """
    argv = [
        bwrap,
        *_system_folders(),
        "--dev", "/dev",
        "--proc", "/proc",
        *_size(tmp_size), "--tmpfs", "/tmp",
        *_code_folders(),
        *[arg for path in show if path.is_dir() for arg in ("--ro-bind", str(path), str(path))],
        *_size(shm_size), "--tmpfs", "/dev/shm",
        "--unshare-all",  # network, PIDs, IPC, UTS, cgroups
        "--die-with-parent",
        "--new-session",
        "--cap-drop", "ALL",
        "--clearenv",
    ]
    seen = [*visible_folders(), *show]
    for path in hide:
        if not any(path == folder or folder in path.parents for folder in seen):
            continue
        if path.is_dir() and not path.is_symlink():
            argv += ["--tmpfs", str(path), "--remount-ro", str(path)]
        elif path.exists() or path.is_symlink():
            argv += ["--ro-bind", "/dev/null", str(path)]
    argv += ["--remount-ro", "/"]  # the sandbox's own root: no files outside /tmp's limit
    for key, value in sorted(env.items()):
        argv += ["--setenv", key, value]
    argv += ["--chdir", "/tmp", "--", *command]
    return argv


def _size(size: int) -> list[str]:
    return ["--size", str(int(size))] if size > 0 else []


def _system_folders() -> list[str]:
    """Read-only binds of :data:`SYSTEM_FOLDERS` (symbolic links, as in merged-/usr systems, kept as links)."""
    argv: list[str] = []
    for name in SYSTEM_FOLDERS:
        path = Path(name)
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            argv += ["--ro-bind", name, name]
    return argv


def code_folders() -> list[Path]:
    """The folders of code a worker needs besides the system's: this Python (its virtual
    environment and the installation it was made from) and the student kit. Never the
    folder the grader was started from, nor anything on ``sys.path`` by chance: a checkout
    of the course there would hold the answer key."""
    import coursekit

    kit = Path(coursekit.__file__).resolve().parents[1]
    found = sorted({Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), kit})
    # A folder inside another one is bound with it.
    return [p for p in found if not any(q in p.parents for q in found)]


def _system_dirs() -> list[Path]:
    """The :data:`SYSTEM_FOLDERS` this machine has as real folders (links point into them)."""
    return [Path(name) for name in SYSTEM_FOLDERS if Path(name).is_dir() and not Path(name).is_symlink()]


def visible_folders() -> list[Path]:
    """Every folder of the disk a worker sees (system and code), resolved."""
    return sorted({*(p.resolve() for p in _system_dirs()), *code_folders()})


def _code_folders() -> list[str]:
    """Read-only binds of :func:`code_folders` that the system folders do not already hold.

    Bound after the empty /tmp, so that a checkout or virtual environment kept under /tmp
    (as CI clones often are) stays visible.
    """
    system = _system_dirs()
    binds: list[str] = []
    for path in code_folders():
        if not any(path == s or s in path.parents for s in system):
            binds += ["--ro-bind", str(path), str(path)]
    return binds


def probe(argv: list[str], timeout: float = 30.0) -> str | None:
    """Run ``argv`` (a sandbox around a command that does nothing): None when it works, else
    bubblewrap's own words (its last lines of stderr and its exit status)."""
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    if done.returncode == 0:
        return None
    said = [line for line in done.stderr.decode(errors="replace").splitlines() if line.strip()]
    return f"{' / '.join(said[-3:]) or 'no message'} (exit status {done.returncode})"


def zygote_command() -> list[str]:
    """How a zygote is started: this Python, this package."""
    return [sys.executable, "-I", "-m", "coursekit.runtime.zygote"]
