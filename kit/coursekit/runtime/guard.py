"""Keep a submission's monkeypatching away from its test cells (runs inside the sandbox).

Two layers, both set up before any student code runs:

- :class:`Snapshot` records, as immutable tuples, the attributes of builtins, the
  modules grade cells rely on (torch, numpy, math, coursekit, ...) and their
  classes, and the interpreter hooks (``sys.stdout``, ``sys.excepthook``, ...).
  :meth:`Snapshot.restore` puts them back before every test cell and
  :meth:`Snapshot.changes` names what the code under test changed *during* the
  cell, which fails it.
- :func:`install_audit_hook` adds a permanent audit hook (PEP 578; it cannot be
  removed) refusing what honest course code never needs and tampering does:
  tracing and profiling hooks, walking the garbage collector, raw memory through
  ctypes, swapping a function's code, new audit hooks, signals to other
  processes, new processes.

Neither is a security boundary on its own: the sandbox (bubblewrap) is, and the
verdict of each test cell is also checked outside this process (see ``zygote``).
"""

from __future__ import annotations

import sys
import types
import warnings
from collections.abc import Callable, Iterable

#: Modules the grader's own reply path uses: restored after every cell.
CORE_PREFIXES: tuple[str, ...] = (
    "builtins", "os", "posix", "json", "struct", "select", "io", "_io", "signal", "codecs",
    "coursekit.runtime",
)
#: Module name prefixes whose namespaces and classes test cells depend on: restored
#: before every test cell. (Not all of torch: its ~1000 internal modules would make
#: each restore slow; these are the ones course code and checks call.)
PROTECTED_PREFIXES: tuple[str, ...] = CORE_PREFIXES + (
    "math", "cmath", "operator", "functools", "ast", "traceback", "numbers", "warnings", "copy",
    "unittest", "IPython.core.inputtransformer2", "coursekit", "numpy", "numpy.testing",
    "torch", "torch.nn", "torch.nn.functional", "torch.nn.modules", "torch.nn.parameter", "torch.optim",
    "torch.autograd", "torch._tensor", "torch.functional", "torch.utils.data", "torch.testing",
    "torch.random", "torch.serialization", "torch.linalg", "torch.special", "torch.overrides",
)
#: Of those, the ones whose whole subpackage is protected (the rest: the module alone).
_DEEP = ("coursekit", "torch.nn", "torch.optim", "torch.autograd", "torch.utils.data", "torch.testing",
         "numpy.testing", "IPython.core.inputtransformer2")

#: Names that honest code legitimately adds to module namespaces.
_ALWAYS_ALLOWED = frozenset({"__warningregistry__", "_", "__", "___"})

#: ``sys`` attributes restored before each test cell.
_SYS_HOOKS = ("stdout", "stderr", "stdin", "displayhook", "excepthook", "breakpointhook",
              "unraisablehook", "modules", "meta_path", "path_hooks")

#: Audit events refused once student code runs.
_REFUSED_EVENTS = frozenset({
    "sys.settrace", "sys.setprofile", "sys._current_frames", "sys.addaudithook",
    "gc.get_referrers", "gc.get_referents", "gc.get_objects", "gc.is_finalized",
    "os.kill", "os.killpg", "signal.pthread_kill", "os.fork", "os.forkpty", "os.posix_spawn",
    "os.spawn", "os.system", "os.exec", "subprocess.Popen", "pty.spawn", "os.setpgid",
    "socket.connect", "socket.bind", "socket.sendto", "socket.getaddrinfo",
})
#: ctypes events that reach raw memory or call C functions directly.
_REFUSED_CTYPES = frozenset({
    "ctypes.cdata", "ctypes.call_function", "ctypes.string_at", "ctypes.wstring_at",
    "ctypes.addressof", "ctypes.cdata/buffer", "ctypes.dlsym", "ctypes.dlsym/handle",
    "ctypes.set_errno", "ctypes.set_last_error", "ctypes.PyObj_FromPtr",
})
#: Function attributes whose change would swap what a check does (``__code__`` on any
#: function; the defaults only on functions of protected modules: namedtuple sets its own).
_CODE_ATTRIBUTES = frozenset({"__code__", "__defaults__", "__kwdefaults__"})


class TamperError(AssertionError):
    """The code under test changed what the test cells rely on."""


def install_audit_hook() -> None:
    """Refuse, for the rest of this process, the operations named above."""
    refused = _REFUSED_EVENTS
    refused_ctypes = _REFUSED_CTYPES
    code_attributes = _CODE_ATTRIBUTES
    permission_error = PermissionError
    protected = _protected
    get = getattr
    is_str = str

    def hook(event: str, args: tuple) -> None:
        if event in refused or event in refused_ctypes:
            raise permission_error(f"the autograder sandbox does not allow {event}")
        if event == "object.__setattr__" and len(args) >= 2 and args[1] in code_attributes:
            module = get(args[0], "__module__", None)
            if args[1] == "__code__" or (type(module) is is_str and protected(module)):
                raise permission_error(f"the autograder sandbox does not allow replacing {args[1]}")

    sys.addaudithook(hook)


def _protected(name: str, prefixes: tuple[str, ...] = PROTECTED_PREFIXES) -> bool:
    if name in prefixes:
        return True
    return any(name.startswith(p + ".") for p in _DEEP + CORE_PREFIXES if p in prefixes)


def _own_classes(module: types.ModuleType) -> Iterable[type]:
    for value in list(vars(module).values()):
        if isinstance(value, type) and getattr(value, "__module__", None) == module.__name__:
            yield value


def _strict(name: str) -> bool:
    """Namespaces where an added name is tampering too (not only a changed one)."""
    return name == "builtins" or name == "coursekit" or name.startswith("coursekit.")


class Snapshot:
    """Immutable record of the protected interpreter state, taken before student code."""

    def __init__(self) -> None:
        modules = [(name, m) for name, m in list(sys.modules.items())
                   if isinstance(m, types.ModuleType) and _protected(name)]
        self.module_objects: tuple[tuple[str, types.ModuleType], ...] = tuple(modules)
        self.namespaces: tuple[tuple[str, dict, tuple[tuple[str, object], ...]], ...] = tuple(
            (name, vars(m), tuple(vars(m).items())) for name, m in modules
        )
        classes: dict[int, tuple[str, type, tuple[tuple[str, object], ...]]] = {}
        with warnings.catch_warnings():  # after the namespaces: it swaps warnings.filters
            warnings.simplefilter("ignore")
            for name, module in modules:
                for cls in _own_classes(module):
                    if id(cls) not in classes:
                        classes[id(cls)] = (name, cls, tuple(vars(cls).items()))
        self.classes = tuple(classes.values())
        self.sys_hooks: tuple[tuple[str, object], ...] = tuple(
            (attr, getattr(sys, attr)) for attr in _SYS_HOOKS if hasattr(sys, attr))
        self.sys_lists = tuple((attr, tuple(getattr(sys, attr))) for attr in ("meta_path", "path_hooks"))
        self.path: tuple[str, ...] = tuple(sys.path)
        self.core = tuple(entry for entry in self.namespaces if _protected(entry[0], CORE_PREFIXES))

    def restore_core(self, stdout: object, stderr: object) -> None:
        """Put back only what the grader's reply path uses (cheap: after every cell)."""
        for attr, value in self.sys_hooks:
            setattr(sys, attr, value)
        sys.stdout, sys.stderr = stdout, stderr
        modules = sys.modules
        for name, module in self.module_objects:
            if modules.get(name) is not module and _protected(name, CORE_PREFIXES):
                modules[name] = module
        for name, namespace, items in self.core:
            _restore_mapping(namespace, items, delete_added=_strict(name), setter=namespace.__setitem__,
                             deleter=namespace.__delitem__)

    def restore(self, stdout: object, stderr: object) -> None:
        """Put the protected state back; ``stdout``/``stderr`` become the grader's streams."""
        for attr, value in self.sys_hooks:
            setattr(sys, attr, value)
        for attr, items in self.sys_lists:
            getattr(sys, attr)[:] = list(items)
        sys.path[:] = list(self.path)
        sys.stdout, sys.stderr = stdout, stderr
        modules = sys.modules
        for name, module in self.module_objects:
            if modules.get(name) is not module:
                modules[name] = module
        for name, namespace, items in self.namespaces:
            _restore_mapping(namespace, items, delete_added=_strict(name), setter=namespace.__setitem__,
                             deleter=namespace.__delitem__)
        for name, cls, items in self.classes:
            current = vars(cls)
            _restore_mapping(current, items, delete_added=_strict(name) or cls.__module__ == "torch",
                             setter=lambda k, v, c=cls: _set_type_attr(c, k, v),
                             deleter=lambda k, c=cls: _del_type_attr(c, k))

    def changes(self) -> list[str]:
        """What differs from the snapshot now: ``module.name`` strings, empty when intact."""
        found: list[str] = []
        for attr, value in self.sys_hooks:
            if attr in ("stdout", "stderr"):
                continue
            if getattr(sys, attr, None) is not value:
                found.append(f"sys.{attr}")
        if sys.gettrace() is not None or sys.getprofile() is not None:
            found.append("sys.settrace")
        modules = sys.modules
        for name, module in self.module_objects:
            if modules.get(name) is not module:
                found.append(f"sys.modules[{name!r}]")
        for name, namespace, items in self.namespaces:
            found.extend(f"{name}.{key}" for key in _diff(namespace, items, _strict(name)))
        for name, cls, items in self.classes:
            strict = _strict(name) or cls.__module__ == "torch"
            found.extend(f"{name}.{cls.__name__}.{key}" for key in _diff(vars(cls), items, strict))
        return found


def _diff(current: object, items: tuple[tuple[str, object], ...], strict: bool) -> list[str]:
    changed = [key for key, value in items if current.get(key, _MISSING) is not value
               and key not in _ALWAYS_ALLOWED]
    if strict and len(current) != len(items):
        known = {key for key, _ in items}
        changed.extend(key for key in list(current) if key not in known and key not in _ALWAYS_ALLOWED)
    return changed


_MISSING = object()


def _restore_mapping(current: object, items: tuple[tuple[str, object], ...], *, delete_added: bool,
                     setter: Callable[[str, object], None], deleter: Callable[[str], None]) -> None:
    for key, value in items:
        if current.get(key, _MISSING) is not value:
            try:
                setter(key, value)
            except (AttributeError, TypeError):
                pass
    if delete_added and len(current) != len(items):
        known = {key for key, _ in items}
        for key in [k for k in list(current) if k not in known and k not in _ALWAYS_ALLOWED]:
            try:
                deleter(key)
            except (AttributeError, TypeError, KeyError):
                pass


def _set_type_attr(cls: type, key: str, value: object) -> None:
    type.__setattr__(cls, key, value)


def _del_type_attr(cls: type, key: str) -> None:
    type.__delattr__(cls, key)
