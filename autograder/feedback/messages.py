"""A failed grade cell's error as the course's three-part message, with its mistake code.

Checks raise ``CheckFailed`` with a message of the form::

    to_batch on a hidden test case (whole numbers only): dtype
      expected: dtype torch.float32
      found:    dtype torch.int64
      likely cause: a tensor built from whole numbers is int64 by default; ...
      mistake code: wrong_dtype

Any other error of a grade cell (the exercise not done, a name not defined, a timeout,
the kernel dying) gets a message of the same shape here, and a code of its own, so that
reports count mistakes by code and never by message text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from coursekit.checks.expect import MISTAKE_LINE

_FIELD = re.compile(r"^\s*(expected|found|likely cause|mistake code):\s?(.*)$")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")

#: Codes of grade-cell errors that are not a check's verdict: ename -> (code, expected, likely cause).
_ERRORS: dict[str, tuple[str, str, str]] = {
    "NotImplementedError": ("not_attempted", "your code in place of `raise NotImplementedError()`",
                            "the exercise is not done yet: replace `raise NotImplementedError()` with your code"),
    "NameError": ("name_not_defined", "every name the test uses is defined",
                  "a function or variable the test needs does not exist: is it spelled as the exercise asks, "
                  "and does the cell that defines it run without an error?"),
    "TimeoutError": ("timeout", "the cell finishes within the time limit",
                     "a loop that never ends, or far more work than the exercise needs"),
    "CellFailed": ("kernel_stopped", "the cell finishes",
                   "the notebook stopped here (too slow, too much memory, or it exited); "
                   "run it top to bottom with Restart & Run All"),
    "KernelDied": ("kernel_stopped", "the cell runs",
                   "an earlier cell stopped the notebook (too slow, too much memory, or it exited)"),
    "WorkerDied": ("grader_error", "the cell runs",
                   "the grader could not run this notebook; your instructor has been told"),
    "TamperError": ("tampering", "the tests run on the course's own code",
                    "the code changed something the tests rely on (a library function or the tests themselves)"),
}


@dataclass(frozen=True)
class Message:
    """What a failed grade cell tells the student."""

    title: str  # the first line: what was tested ("to_batch([1, 3]): dtype")
    expected: str = ""
    found: str = ""
    cause: str = ""
    code: str = "unclassified"
    kind: str = "CheckFailed"  # the error's name

    @property
    def text(self) -> str:
        """The message as the course prints it, mistake code included."""
        lines = [self.title]
        for label, value in (("expected", self.expected), ("found", self.found), ("likely cause", self.cause)):
            if value:
                lines.append(f"  {label}:{' ' if label != 'found' else '    '}{value}")
        lines.append(f"  mistake code: {self.code}")
        return "\n".join(lines)

    @property
    def on_hidden_case(self) -> bool:
        return "hidden test case" in self.title

    def redacted(self, redact: Any) -> Message:
        """The message with ``redact`` (text -> text) applied to every part a student sees."""
        return replace(self, title=redact(self.title), expected=redact(self.expected), found=redact(self.found),
                       cause=redact(self.cause))


def from_error(ename: str, evalue: str) -> Message:
    """The message of a grade cell's ``error`` output (``ename``, ``evalue``)."""
    evalue = _ANSI.sub("", evalue or "").strip()
    code_match = MISTAKE_LINE.search(evalue)
    fields: dict[str, str] = {}
    title_lines: list[str] = []
    current = None
    for line in evalue.splitlines():
        match = _FIELD.match(line)
        if match:
            current = match.group(1)
            fields[current] = match.group(2).strip()
        elif current is not None and line.strip():
            fields[current] += " " + line.strip()
        elif line.strip():
            title_lines.append(line.strip())
    title = " ".join(title_lines) or ename
    if "expected" in fields or "found" in fields:
        code = code_match.group(1) if code_match else ("unclassified" if ename == "CheckFailed"
                                                        else _error_code(ename))
        return Message(title, fields.get("expected", ""), fields.get("found", ""), fields.get("likely cause", ""),
                       code, ename)
    code, expected, cause = _ERRORS.get(ename, (_error_code(ename), "the test cell runs without an error",
                                                "read the error: it names what went wrong in your function"))
    if code_match:
        code = code_match.group(1)
    if ename in ("AssertionError", "CheckFailed") and ename not in _ERRORS:
        expected, cause = "the test's condition holds", "compare your function's result with what the exercise asks"
    found = f"{ename}: {title}" if title != ename else ename
    return Message("the test cell stopped with an error", expected, found[:600], cause, code, ename)


def without_output_error(score: float, points: float) -> Message:
    """A cell that lost points without an error (stderr output, a missing notebook, a manual grade)."""
    return Message("this test cell lost points", f"{points:g} points", f"{score:g} points",
                   "the cell wrote to stderr, or your notebook or the cell was missing, or your instructor "
                   "changed the score by hand", "lost_without_error", "")


def _error_code(ename: str) -> str:
    name = re.sub(r"[^A-Za-z0-9]", "", ename) or "Error"
    return "error_" + _SNAKE.sub("_", name).lower()
