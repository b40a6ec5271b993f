"""What the hidden tests of a notebook are, so that nothing the grader shows gives them away.

Hidden tests are the lines between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``
of a grade cell (as nbgrader writes them into the autograded notebook), the numbers in
those lines (seeds, sizes), and the data the hidden checks build from them
(``coursekit.checks.<module>.HIDDEN[...].cases(seed)``, for assignments judged outside
the kernel).

:class:`HiddenTests` strips the blocks from a cell's source, and :meth:`HiddenTests.redact`
masks any number of the hidden data in a text: a student's function can print its inputs,
keep them for a later cell, or raise with them in its message, and all of that reaches the
autograded notebook. A number is masked when, as printed, it has at least four significant
digits (or is a whole number of three digits or more) and equals a hidden value to its
printed precision, or when three or more numbers in a row (a printed list or tensor) follow
a hidden sequence, unless the notebook itself shows those numbers in that order (the
student's own data, ``visible``).
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

BEGIN = "### BEGIN HIDDEN TESTS"
END = "### END HIDDEN TESTS"
PLACEHOLDER = "# (hidden tests: not shown)"
MASK = "‹hidden›"

_BLOCK = re.compile(r"^([ \t]*)### BEGIN HIDDEN TESTS.*?(?:^[ \t]*### END HIDDEN TESTS[^\n]*(?:\n|\Z)|\Z)", re.M | re.S)
_INT = re.compile(r"(?<![\w.])\d+(?![\w.])")
#: A printed number: 3, 3., -0.25, 1.5e-03 (never part of a word).
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?(?![\w])")
_SEPARATOR = re.compile(r"^[\s,;\[\]()]+$")


class LeakError(RuntimeError):
    """A page about to be written holds a line of a hidden-test block (nothing is written)."""


def has_hidden(source: str) -> bool:
    return BEGIN in source


def hidden_blocks(source: str) -> list[str]:
    """The text of every hidden-test block of ``source``, markers included."""
    return [m.group(0) for m in _BLOCK.finditer(source)]


def strip_hidden(source: str, placeholder: str | None = PLACEHOLDER) -> str:
    """``source`` with each hidden-test block replaced by ``placeholder`` (or removed when None)."""

    def replace(match: re.Match[str]) -> str:
        if placeholder is None:
            return ""
        end = "\n" if match.group(0).endswith("\n") else ""
        return f"{match.group(1)}{placeholder}{end}"

    return _BLOCK.sub(replace, source)


def visible_part(source: str) -> str:
    """The source as the student's notebook has it: hidden blocks removed, no trailing blank lines."""
    return strip_hidden(source, None).rstrip() + ("\n" if source.endswith("\n") else "")


@dataclass
class HiddenTests:
    """The hidden tests of one notebook: their lines, their numbers, and their data."""

    lines: frozenset[str] = frozenset()
    numbers: frozenset[int] = frozenset()
    values: list[float] = field(default_factory=list)  # sorted absolute values of the hidden data
    sequences: list[list[float]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # hidden calls whose data could not be built
    visible: frozenset[tuple[float, ...]] = frozenset()  # every 3 numbers in a row the notebook shows

    @classmethod
    def of_sources(cls, sources: Iterable[str], visible: str = "") -> HiddenTests:
        """From the grade cells' sources (as the gradebook restored them); ``visible``: the notebook's own text."""
        lines: set[str] = set()
        numbers: set[int] = set()
        values: list[float] = []
        sequences: list[list[float]] = []
        unknown: list[str] = []
        for source in sources:
            blocks = hidden_blocks(source)
            if not blocks:
                continue
            for block in blocks:
                lines.update(line.strip() for line in block.splitlines() if len(line.strip()) >= 6)
                numbers.update(int(n) for n in _INT.findall(block))
            for call, seed in _hidden_calls(source):
                try:
                    cases = _cases(call, seed)
                except Exception:  # noqa: BLE001 - an unported check: only its lines and seeds are known
                    unknown.append(f"{call}({seed})")
                    continue
                for sequence in _sequences(cases):
                    values.extend(abs(v) for v in sequence)
                    if len(sequence) >= 3:
                        sequences.append(sequence)
        values.extend(float(n) for n in numbers)
        return cls(frozenset(lines), frozenset(numbers), sorted(v for v in values if math.isfinite(v)), sequences,
                   unknown, visible_runs(visible))

    def seen_in(self, visible: str) -> HiddenTests:
        """The same hidden tests, for a notebook whose own text (sources, hidden blocks removed) is ``visible``."""
        return replace(self, visible=visible_runs(visible))

    @property
    def empty(self) -> bool:
        return not self.lines

    # --- masking --------------------------------------------------------------------------

    def redact(self, text: str) -> str:
        """``text`` with every hidden line removed and every number of the hidden data masked."""
        if not text or self.empty:
            return text
        text = "\n".join(line for line in text.split("\n") if line.strip() not in self.lines)
        found = list(_NUMBER.finditer(text))
        if not found:
            return text
        masked = [self._secret_number(m.group(0)) for m in found]
        for run in _runs(text, found):
            for start, length in self._hidden_windows([found[i].group(0) for i in run]):
                for k in range(start, start + length):
                    masked[run[k]] = True
        if not any(masked):
            return text
        pieces, last = [], 0
        for match, hide in zip(found, masked, strict=True):
            if hide:
                pieces += [text[last:match.start()], MASK]
                last = match.end()
        pieces.append(text[last:])
        return "".join(pieces)

    def find_leaks(self, text: str) -> list[str]:
        """The lines of hidden-test blocks that ``text`` contains (a page must have none)."""
        return sorted(line for line in self.lines if len(line) >= 8 and line in text)

    def _secret_number(self, token: str) -> bool:
        token = token.lstrip("-")
        whole = token.isdigit()
        if not (whole and len(token) >= 3) and _significant_digits(token) < 4:
            return False
        return self._matches(token)

    def _matches(self, token: str) -> bool:
        value, tolerance = _parse(token)
        if value is None:
            return False
        i = bisect.bisect_left(self.values, value - tolerance)
        return i < len(self.values) and self.values[i] <= value + tolerance

    def _hidden_windows(self, tokens: list[str]) -> Iterator[tuple[int, int]]:
        """(start, length) of each stretch of ``tokens`` that follows a hidden sequence for 3+ numbers."""
        if len(tokens) < 3 or not self.sequences:
            return
        parsed = [_parse(t.lstrip("-")) for t in tokens]
        index = self._index()
        for i in range(len(tokens) - 2):
            number = parsed[i][0]
            if number is None:
                continue
            bucket = math.floor(number)
            for s, j in (c for b in (bucket - 1, bucket, bucket + 1) for c in index.get(b, ())):
                sequence = self.sequences[s]
                length = 0
                while (i + length < len(tokens) and j + length < len(sequence)
                       and _close(parsed[i + length], abs(sequence[j + length]))):
                    length += 1
                if length >= 3 and _key([p[0] for p in parsed[i:i + 3]]) not in self.visible:
                    yield i, length
                    break

    def _index(self) -> dict[int, list[tuple[int, int]]]:
        """floor(|value|) -> (sequence, position) of every element of every hidden sequence."""
        cached = self.__dict__.get("_index_cache")
        if cached is None:
            cached = {}
            for s, sequence in enumerate(self.sequences):
                for j, value in enumerate(sequence[:-2]):
                    if math.isfinite(value):
                        cached.setdefault(math.floor(abs(value)), []).append((s, j))
            self.__dict__["_index_cache"] = cached
        return cached


def _runs(text: str, found: list[re.Match[str]]) -> Iterator[list[int]]:
    """Indexes of numbers printed one after another (only brackets, commas and spaces between)."""
    run: list[int] = []
    for i, match in enumerate(found):
        if run and not _SEPARATOR.match(text[found[run[-1]].end():match.start()]):
            yield run
            run = []
        run.append(i)
    if run:
        yield run


def visible_runs(text: str) -> frozenset[tuple[float, ...]]:
    """Every three numbers printed in a row in ``text``."""
    shown = set()
    found = list(_NUMBER.finditer(text))
    for run in _runs(text, found):
        numbers = [_parse(found[i].group(0).lstrip("-"))[0] for i in run]
        shown.update(_key(numbers[i:i + 3]) for i in range(len(numbers) - 2))
    return frozenset(shown)


def _key(numbers: list[float | None]) -> tuple[float, ...]:
    return tuple(round(n, 4) if n is not None else math.nan for n in numbers)


def _significant_digits(token: str) -> int:
    mantissa = re.split(r"[eE]", token)[0]
    digits = mantissa.replace(".", "").lstrip("0")
    if "." in mantissa:
        digits = digits.rstrip("0")
    return len(digits)


def _parse(token: str) -> tuple[float | None, float]:
    """A printed number's value and half its last printed digit (the rounding it may hide)."""
    try:
        value = float(token)
    except ValueError:
        return None, 0.0
    mantissa, _, exponent = token.lower().partition("e")
    decimals = len(mantissa.split(".", 1)[1]) if "." in mantissa else 0
    scale = 10.0 ** (int(exponent) if exponent else 0)
    return abs(value), 0.5 * 10.0 ** -decimals * scale * (1 + 1e-9) + 1e-12


def _close(parsed: tuple[float | None, float], value: float) -> bool:
    number, tolerance = parsed
    return number is not None and abs(number - value) <= tolerance


# --- the hidden data ----------------------------------------------------------------------------

def _hidden_calls(source: str) -> list[tuple[str, int]]:
    try:
        from autograder import judges
    except ImportError:
        return []
    return judges.hidden_calls(source)


def _cases(call: str, seed: int) -> list[Any]:
    from autograder import judges

    return list(judges.hidden_check(call).cases(seed))


def _sequences(value: Any, depth: int = 0) -> Iterator[list[float]]:
    """Every run of numbers in a case: tensors and numeric lists flattened, single numbers alone."""
    if depth > 8:
        return
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, (int, float)):
        yield [float(value)]
        return
    try:
        import torch
    except ImportError:  # pragma: no cover - the course always has torch
        torch = None  # type: ignore[assignment]
    if torch is not None and isinstance(value, torch.Tensor):
        if value.numel() <= 200_000 and not value.is_complex():
            yield [float(v) for v in value.detach().cpu().double().flatten().tolist()]
        return
    if torch is not None and isinstance(value, torch.nn.Module):
        for tensor in value.state_dict().values():
            yield from _sequences(tensor, depth + 1)
        return
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # NumPy
        yield from _sequences(value.tolist(), depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if key != "kind":
                yield from _sequences(item, depth + 1)
        return
    if isinstance(value, (list, tuple)):
        flat = _flatten_numbers(value)
        if flat is not None:
            yield flat
            return
        for item in value:
            yield from _sequences(item, depth + 1)


def _flatten_numbers(value: Any) -> list[float] | None:
    out: list[float] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            out.append(float(item))
        else:
            return None
    return out
