"""Run one submission's code cells in a forked child of the zygote (inside the sandbox).

Ordinary cells run in an IPython ``InteractiveShell``, like ipykernel would: magics,
``display``, ``execute_result``, tracebacks as ``error`` outputs, stderr as a
stream. Test cells (nbgrader grade cells) run through :func:`run_test_cell`
instead, never through IPython's hooks: the protected state is restored first,
the cell's exception (if any) is caught here, and a test cell that changed the
protected state while it ran fails.
"""

from __future__ import annotations

import ast
import io
import json
import os
import signal
import sys
from typing import Any

from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from coursekit.checks.engine import OBSERVATION_MIME
from coursekit.runtime.guard import Snapshot, TamperError

Output = dict[str, Any]


class Recorder:
    """The outputs of the cell now running, in nbformat v4 form."""

    def __init__(self) -> None:
        self.outputs: list[Output] = []

    def stream(self, name: str, text: str) -> None:
        if not text:
            return
        last = self.outputs[-1] if self.outputs else None
        if last is not None and last["output_type"] == "stream" and last["name"] == name:
            last["text"] += text
        else:
            self.outputs.append({"output_type": "stream", "name": name, "text": text})

    def display(self, data: dict, metadata: dict | None) -> None:
        self.outputs.append({"output_type": "display_data", "data": _jsonable(data),
                             "metadata": _jsonable(metadata or {})})

    def result(self, count: int, data: dict, metadata: dict | None) -> None:
        self.outputs.append({"output_type": "execute_result", "execution_count": count,
                             "data": _jsonable(data), "metadata": _jsonable(metadata or {})})

    def error(self, ename: str, evalue: str, traceback: list[str]) -> None:
        self.outputs.append({"output_type": "error", "ename": ename, "evalue": evalue,
                             "traceback": [str(line) for line in traceback]})

    def clear(self) -> None:
        self.outputs.clear()


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


class CellStream(io.TextIOBase):
    """``sys.stdout``/``sys.stderr`` while a cell runs: text becomes stream outputs."""

    def __init__(self, name: str, recorder: Recorder) -> None:
        super().__init__()
        self.name_ = name
        self.recorder = recorder

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        self.recorder.stream(self.name_, str(text))
        return len(text)


class _Current:
    """The recorder IPython's display machinery writes to (ordinary cells only)."""

    recorder = Recorder()
    count = 0


#: The recorder of the test cell now running (a one-item list, mutated in place).
_TEST_RECORDER: list[Recorder] = []


def emit_observation(record: dict[str, Any]) -> None:
    """A hidden check's observations become an output of the test cell now running.

    The coordinator takes them out of the notebook and judges them; outside a test
    cell they are dropped (the judge then finds them missing, which fails the cell).
    """
    if _TEST_RECORDER:
        _TEST_RECORDER[0].outputs.append({"output_type": "display_data", "metadata": {},
                                          "data": {OBSERVATION_MIME: _jsonable(record)}})


class RecordingDisplayHook(DisplayHook):
    """The ``Out[n]`` value of an ordinary cell becomes an ``execute_result``."""

    def write_output_prompt(self) -> None:
        pass

    def write_format_data(self, format_dict: dict, md_dict: dict | None = None) -> None:
        _Current.recorder.result(_Current.count, format_dict, md_dict)

    def finish_displayhook(self) -> None:
        pass


class RecordingPublisher(DisplayPublisher):
    """``display(...)`` (plots included) becomes a ``display_data`` output."""

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs) -> None:
        _Current.recorder.display(data, metadata)

    def clear_output(self, wait: bool = False) -> None:
        _Current.recorder.clear()


def make_shell() -> InteractiveShell:
    """The IPython shell every child of a zygote starts from (built once, in the zygote)."""
    config = Config()
    config.HistoryManager.enabled = False
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(
        config=config, displayhook_class=RecordingDisplayHook, display_pub_class=RecordingPublisher,
    )

    def showtraceback(etype: type, evalue: BaseException, stb: list[str]) -> None:
        _Current.recorder.error(etype.__name__, str(evalue), stb)

    shell._showtraceback = showtraceback  # type: ignore[method-assign]
    try:
        shell.run_line_magic("matplotlib", "inline")
        # One draw per figure instead of two (a "tight" box draws twice): figures keep their size.
        shell.run_line_magic("config", "InlineBackend.print_figure_kwargs = {'bbox_inches': None}")
    except Exception:  # noqa: BLE001 - no inline backend: plots are simply not shown
        pass
    if os.environ.get("AUTOGRADER_FIGURES", "1") != "1":
        # Drawing a plot costs ~0.1 s, more than many cells' own code, and never changes a
        # score: without image formatters a plot shows as its text, "<Figure size ...>".
        for mime in ("image/png", "image/jpeg", "image/svg+xml", "application/pdf"):
            shell.display_formatter.formatters[mime].enabled = False
    return shell


def run_code_cell(shell: InteractiveShell, source: str, count: int) -> list[Output]:
    """Run an ordinary cell as ipykernel would; its outputs."""
    recorder = Recorder()
    _Current.recorder = recorder
    _Current.count = count
    sys.stdout, sys.stderr = CellStream("stdout", recorder), CellStream("stderr", recorder)
    shell.execution_count = count
    try:
        shell.run_cell(source, store_history=False, silent=False)
    except BaseException as error:  # noqa: BLE001 - SystemExit and friends cost the cell only
        recorder.error(type(error).__name__, str(error), [f"{type(error).__name__}: {error}"])
    return recorder.outputs


_SIGNALS = [s for s in signal.Signals if s not in (signal.SIGKILL, signal.SIGSTOP)]


def _reset_signals(_signal=signal.signal, _setitimer=signal.setitimer, _signals=tuple(_SIGNALS),
                   _int=signal.default_int_handler) -> None:
    """Default handlers, no pending alarms: a student's handler must not run in a test cell."""
    _setitimer(signal.ITIMER_REAL, 0)
    _setitimer(signal.ITIMER_VIRTUAL, 0)
    _setitimer(signal.ITIMER_PROF, 0)
    for sig in _signals:
        try:
            _signal(sig, _int if sig == signal.SIGINT else signal.SIG_DFL)
        except (OSError, ValueError, RuntimeError):
            pass


def compile_test_cell(source: str, transform) -> tuple[Any, Any]:
    """The cell as (statements, trailing expression or None), like IPython splits it."""
    if any(line.lstrip().startswith(("%", "!")) for line in source.splitlines()):
        source = transform(source)
    tree = ast.parse(source, filename="<test cell>")
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not source.rstrip().endswith(";"):
        last = ast.Expression(tree.body.pop().value)
    body = compile(tree, "<test cell>", "exec")
    return body, (compile(last, "<test cell>", "eval") if last is not None else None)


def run_test_cell(source: str, namespace: dict, snapshot: Snapshot, count: int, transform,
                  _reset=_reset_signals, _repr=repr, _type=type, _str=str, _len=len) -> list[Output]:
    """Run a test cell on restored state; an exception, a tamper or a crash fails it.

    Every name this function uses after the cell starts is bound beforehand (default
    arguments, locals), so that patching a module while the cell runs changes nothing here.
    """
    recorder = Recorder()
    stdout, stderr = CellStream("stdout", recorder), CellStream("stderr", recorder)
    restore, changes = snapshot.restore, snapshot.changes
    add_error, add_result = recorder.error, recorder.result
    restore(stdout, stderr)
    _reset()
    _TEST_RECORDER[:] = [recorder]
    passed = False
    failure: tuple[str, str, int] | None = None
    try:
        body, last = compile_test_cell(source, transform)
        exec(body, namespace)
        if last is not None:
            value = eval(last, namespace)
            if value is not None:
                add_result(count, {"text/plain": _repr(value)}, {})
        changed = changes()
        if changed:
            raise TamperError("the code under test changed what the tests rely on: "
                              + ", ".join(changed[:5]))
        passed = True
    except:  # noqa: E722 - everything, SystemExit and KeyboardInterrupt included, fails the cell
        error = sys.exc_info()[1]
        try:
            failure = (_type(error).__name__, _str(error), _test_cell_line(error))
        except:  # noqa: E722
            failure = ("Exception", "the test raised an exception that cannot be shown", 0)
    restore(stdout, stderr)
    _TEST_RECORDER.clear()
    if not passed:
        ename, evalue, line = failure or ("Exception", "the test did not finish", 0)
        where = f"  in the test cell, line {line}" if line else "  in the test cell"
        add_error(ename, evalue, ["Traceback (most recent call last):", where, f"{ename}: {evalue}"])
    return recorder.outputs


def _test_cell_line(error: BaseException) -> int:
    """The line of the test cell that raised (no frame is touched: only tb_lineno)."""
    tb = error.__traceback__
    tb = tb.tb_next if tb is not None else None  # skip this module's frame
    return tb.tb_lineno if tb is not None else 0
