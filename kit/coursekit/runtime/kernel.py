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
from collections import deque
from typing import Any

from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from coursekit.checks.engine import OBSERVATION_MIME
from coursekit.runtime import protocol
from coursekit.runtime.guard import Snapshot, TamperError

Output = dict[str, Any]


class Limits:
    """What one submission may do, set in its child before any student code runs."""

    #: Characters of output a cell keeps: the first half and the last half, with a line
    #: saying how much was cut between them (as Jupyter does with long outputs).
    cell_output = 1_000_000
    #: Characters of an error's message and traceback kept (its head and tail).
    error_text = 20_000
    #: For the messages: the memory (bytes over the warm kernel), tasks, /tmp bytes.
    memory = 0
    processes = 0
    tmp = 0


def _size_text(count: float) -> str:
    """``count`` bytes or characters, for people: 1.5 MB, 200 kB, 12 bytes."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            return f"{count / size:.3g} {unit}"
    return f"{int(count)} bytes"


def _head_tail(text: str, keep: int) -> tuple[str, int]:
    """``text`` cut to its first and last ``keep // 2`` characters, and how many were cut."""
    if len(text) <= keep:
        return text, 0
    half = max(keep // 2, 1)
    cut = len(text) - 2 * half
    return f"{text[:half]}\n[... {cut:,} characters cut ...]\n{text[-half:]}", cut


class _Stream:
    """A stream output being written: its text as chunks (appending is O(1), joined once)."""

    __slots__ = ("chunks", "name", "size")

    def __init__(self, name: str) -> None:
        self.name = name
        self.chunks: deque[str] = deque()
        self.size = 0

    def add(self, text: str) -> None:
        self.chunks.append(text)
        self.size += len(text)

    def drop_front(self, count: int) -> int:
        """Drop up to ``count`` characters from the start; how many were dropped."""
        dropped = 0
        chunks = self.chunks
        while chunks and dropped < count:
            first = chunks[0]
            if len(first) <= count - dropped:
                chunks.popleft()
                dropped += len(first)
            else:
                chunks[0] = first[count - dropped:]
                dropped = count
        self.size -= dropped
        return dropped

    def output(self) -> Output:
        return {"output_type": "stream", "name": self.name, "text": protocol.clean_text("".join(self.chunks))}


class Recorder:
    """The outputs of the cell now running, in nbformat v4 form, within the cell's output limit.

    Output is collected in linear time. Once the cell has written half its limit, the rest
    goes to a tail that keeps only the latest half: the notebook shows the first and the
    last part, and a line saying how much was cut between them. Errors and the hidden
    checks' observations are never cut (an error's text is shortened instead): scores
    never depend on how much a cell printed.
    """

    def __init__(self, limit: int | None = None) -> None:
        self.limit = Limits.cell_output if limit is None else max(int(limit), 2)
        self.clear()

    def clear(self) -> None:
        self._head: list[Output | _Stream] = []
        self._tail: deque[tuple[Output | _Stream, int]] = deque()
        self._late: list[Output] = []  # errors and observations that came once the head was full
        self._head_left = self.limit // 2
        self._tail_budget = self.limit - self.limit // 2
        self._tail_size = 0
        self._tailing = False
        self.cut_chars: dict[str, int] = {}
        self.cut_outputs = 0

    # --- what a cell produces ---

    def stream(self, name: str, text: str) -> None:
        if not text:
            return
        if not self._tailing:
            if len(text) <= self._head_left:
                self._append_text(self._head, name, text)
                self._head_left -= len(text)
                return
            if self._head_left > 0:
                self._append_text(self._head, name, text[:self._head_left])
                text = text[self._head_left:]
                self._head_left = 0
            self._tailing = True
        if len(text) > self._tail_budget:
            self.cut_chars[name] = self.cut_chars.get(name, 0) + len(text) - self._tail_budget
            text = text[-self._tail_budget:]
        last = self._tail[-1][0] if self._tail else None
        if isinstance(last, _Stream) and last.name == name:
            last.add(text)
        else:
            stream = _Stream(name)
            stream.add(text)
            self._tail.append((stream, 0))
        self._tail_size += len(text)
        self._evict()

    def display(self, data: dict, metadata: dict | None) -> None:
        self._rich({"output_type": "display_data", "data": data, "metadata": metadata or {}})

    def result(self, count: int, data: dict, metadata: dict | None) -> None:
        self._rich({"output_type": "execute_result", "execution_count": count, "data": data,
                    "metadata": metadata or {}})

    def error(self, ename: str, evalue: str, traceback: list[str]) -> None:
        ename, evalue = protocol.clean_text(str(ename))[:200], protocol.clean_text(str(evalue))
        evalue = _explain_limit(ename, evalue)
        evalue, _ = _head_tail(evalue, Limits.error_text)
        lines = [protocol.clean_text(str(line)) for line in traceback]
        joined, cut = _head_tail("\n".join(lines), Limits.error_text)
        if cut:
            lines = joined.split("\n")
        self._essential({"output_type": "error", "ename": ename, "evalue": evalue, "traceback": lines})

    def observation(self, record: dict[str, Any]) -> None:
        """A hidden check's observations (never cut: the judge needs them)."""
        self._essential({"output_type": "display_data", "metadata": {},
                         "data": {OBSERVATION_MIME: _jsonable(record)[0]}})

    @property
    def outputs(self) -> list[Output]:
        """The cell's outputs so far (cut as described above)."""
        kept: list[Output] = [part.output() if isinstance(part, _Stream) else part for part in self._head]
        if self.cut_chars or self.cut_outputs:
            kept.append(self._cut_note())
            _CUT[0] = True
        kept += [part.output() if isinstance(part, _Stream) else part for part, _ in self._tail]
        kept += self._late
        merged: list[Output] = []
        for output in kept:
            previous = merged[-1] if merged else None
            if (previous is not None and output["output_type"] == "stream" == previous["output_type"]
                    and previous["name"] == output["name"]):
                merged[-1] = {**previous, "text": previous["text"] + output["text"]}
            else:
                merged.append(output)
        return merged

    # --- how ---

    @staticmethod
    def _append_text(part: list, name: str, text: str) -> None:
        last = part[-1] if part else None
        if isinstance(last, _Stream) and last.name == name:
            last.add(text)
        else:
            stream = _Stream(name)
            stream.add(text)
            part.append(stream)

    def _rich(self, output: Output) -> None:
        output["data"], size = _jsonable(output["data"])
        output["metadata"], meta_size = _jsonable(output["metadata"])
        size += meta_size
        if not self._tailing and size <= self._head_left:
            self._head.append(output)
            self._head_left -= size
            return
        self._tailing = True
        if size > self._tail_budget:
            output, size = _shrunk(output, self._tail_budget)
            if output is None:
                self.cut_outputs += 1
                return
        self._tail.append((output, size))
        self._tail_size += size
        self._evict()

    def _essential(self, output: Output) -> None:
        (self._late if self._tailing else self._head).append(output)

    def _evict(self) -> None:
        tail = self._tail
        while self._tail_size > self._tail_budget and tail:
            part, size = tail[0]
            if isinstance(part, _Stream):
                dropped = part.drop_front(self._tail_size - self._tail_budget)
                self.cut_chars[part.name] = self.cut_chars.get(part.name, 0) + dropped
                self._tail_size -= dropped
                if not part.size:
                    tail.popleft()
            else:
                tail.popleft()
                self._tail_size -= size
                self.cut_outputs += 1

    def _cut_note(self) -> Output:
        parts = [f"{count:,} characters of {name}" for name, count in sorted(self.cut_chars.items())]
        if self.cut_outputs:
            parts.append(f"{self.cut_outputs:,} displayed output{'s' if self.cut_outputs > 1 else ''}")
        # Cut stderr stays stderr, so that a graded cell that wrote to stderr fails as it would uncut.
        name = "stderr" if self.cut_chars.get("stderr") else "stdout"
        return {"output_type": "stream", "name": name,
                "text": f"\n[... {' and '.join(parts)} cut here: the autograder keeps the first and last "
                        f"{self.limit // 2:,} characters of each cell's output ...]\n"}


#: Whether the last cell's output was cut (read once by the zygote's child, with :func:`last_cut`).
_CUT = [False]


def last_cut() -> bool:
    """Whether a cell's output was cut since the last call."""
    cut, _CUT[0] = _CUT[0], False
    return cut


def _explain_limit(ename: str, evalue: str) -> str:
    """An error caused by one of the sandbox's limits says which limit (and its size)."""
    if ename == "MemoryError" and Limits.memory:
        return f"{evalue} (the autograder's memory limit: {_size_text(Limits.memory)} per submission)".lstrip()
    if "Resource temporarily unavailable" in evalue and Limits.processes:
        return f"{evalue} (the autograder's limit: {Limits.processes} processes and threads per submission)"
    if "No space left on device" in evalue and Limits.tmp:
        return f"{evalue} (the autograder's limit: {_size_text(Limits.tmp)} of files in /tmp)"
    return evalue


def _shrunk(output: Output, budget: int) -> tuple[Output | None, int]:
    """A rich output too large for the cell's limit, as its text only (cut), or None."""
    text = output["data"].get("text/plain")
    if isinstance(text, list):
        text = "".join(str(t) for t in text)
    if not isinstance(text, str):
        return None, 0
    text, _ = _head_tail(text, max(budget - 200, 2))
    small = {**output, "data": {"text/plain": text}, "metadata": {}}
    return small, len(text) + 100


def _jsonable(value: Any) -> tuple[Any, int]:
    """``value`` as plain JSON data, and the size of its JSON text."""
    text = json.dumps(value, default=str)
    return json.loads(text), len(text)


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
        _TEST_RECORDER[0].observation(record)


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
