"""Assertions whose failure messages a beginner can act on.

Every failure says three things: what was expected, what was found, and the
likely cause in plain words. Grade cells and the per-assignment check modules
use these instead of bare ``assert`` so that the message is never just
``AssertionError``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import torch

#: How a failure message names its mistake code (its last line); reports read it back with MISTAKE_LINE.
MISTAKE_PREFIX = "mistake code: "
MISTAKE_LINE = re.compile(r"^\s*mistake code: ([a-z0-9_]+)\s*$", re.M)


class CheckFailed(AssertionError):
    """A test failed; the message is written for the student.

    ``code`` names the mistake diagnosed (stable across releases, for reports), when known.
    """

    def __init__(self, message: str, code: str | None = None) -> None:
        if code and not MISTAKE_LINE.search(message):
            message = f"{message}\n  {MISTAKE_PREFIX}{code}"  # the last line: reports count mistakes by it
        super().__init__(message)
        self.code = code


def fail(what: str, expected: Any, found: Any, cause: str | None = None, code: str | None = None) -> None:
    """Raise a :class:`CheckFailed` in the course's three-part format."""
    lines = [what, f"  expected: {expected}", f"  found:    {found}"]
    if cause:
        lines.append(f"  likely cause: {cause}")
    raise CheckFailed("\n".join(lines), code)


def expect(condition: bool, what: str, expected: Any, found: Any, cause: str | None = None,
           code: str | None = None) -> None:
    """Fail with the three-part message unless ``condition`` holds."""
    if not condition:
        fail(what, expected, found, cause, code)


def describe(value: Any) -> str:
    """A short description of a value: type, and dtype/shape for tensors."""
    if isinstance(value, torch.Tensor):
        from coursekit.checks.wire import seen

        return f"tensor of shape {list(value.shape)}, dtype {value.dtype}, on {seen(value).device}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of {len(value)} items"
    return f"{type(value).__name__} {value!r}"[:200]


def expect_tensor(value: Any, what: str, cause: str | None = None, code: str = "not_a_tensor") -> torch.Tensor:
    """The value itself when it is a tensor; fail otherwise."""
    expect(
        isinstance(value, torch.Tensor),
        what,
        "a torch.Tensor",
        describe(value),
        cause or "return the tensor itself (not a list, a NumPy array or None): did you forget `return`?",
        code,
    )
    return value


def expect_shape(value: torch.Tensor, shape: Sequence[int], what: str, cause: str | None = None,
                 code: str = "wrong_shape") -> None:
    """Fail unless the tensor has exactly this shape."""
    found = list(value.shape)
    expected = list(shape)
    if found == expected:
        return
    if cause is None:
        if found == expected[:-1] and expected[-1:] == [1]:
            cause = "the column dimension is missing: [N] is not [N, 1]; try .unsqueeze(1) or .reshape(-1, 1)"
        elif len(found) == 2 and len(expected) == 2 and found == expected[::-1]:
            cause = "rows and columns are swapped: each row should be one sample"
        elif len(found) == 2 and found[0] == found[1] and len(expected) == 2 and expected[1] == 1:
            cause = "an [N] tensor met an [N, 1] tensor and broadcast into an [N, N] grid"
        else:
            cause = "check how the tensor is built, and the order of its dimensions"
    fail(what, f"shape {expected}", f"shape {found}", cause, code)


def expect_dtype(value: torch.Tensor, dtype: torch.dtype, what: str, cause: str | None = None,
                 code: str = "wrong_dtype") -> None:
    """Fail unless the tensor has this dtype."""
    if value.dtype == dtype:
        return
    if cause is None and dtype.is_floating_point and not value.dtype.is_floating_point:
        cause = (
            "a tensor built from whole numbers is int64 by default; "
            "ask for dtype=torch.float32 (or call .float())"
        )
    elif cause is None and dtype == torch.float32 and value.dtype == torch.float64:
        cause = "NumPy arrays and dtype=float give float64; ask for dtype=torch.float32"
    fail(what, f"dtype {dtype}", f"dtype {value.dtype}", cause, code)


def expect_close(
    found: Any,
    expected: Any,
    what: str,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    cause: str | None = None,
    code: str = "wrong_values",
) -> None:
    """Fail unless two numbers or tensors agree within the tolerances.

    On a hidden test case the message shows no numbers (they would reveal the hidden
    data): how many values differ, and by how much at most.
    """
    if isinstance(expected, torch.Tensor) or isinstance(found, torch.Tensor):
        f = torch.as_tensor(found).detach().cpu().double()
        e = torch.as_tensor(expected).detach().cpu().double()
        if f.shape != e.shape:
            expect_shape(f, list(e.shape), what, cause)
        close = torch.isclose(f, e, rtol=rtol, atol=atol, equal_nan=False)
        ok = bool(close.all())
        if _hidden():
            wrong = int((~close).sum())
            scale = e.abs().max().clamp_min(1e-12) if e.numel() else torch.tensor(1.0)
            gap = float(((f - e).abs() / scale).nan_to_num(float("inf")).max()) if f.numel() else 0.0
            shown_e = f"the reference's values on this case ({f.numel()} numbers)"
            shown_f = f"{wrong} of {f.numel()} numbers differ (off by up to {gap:.0%} of the largest expected value)"
        else:
            shown_f, shown_e = _short(f), _short(e)
    else:
        try:
            f_num, e_num = float(found), float(expected)
        except (TypeError, ValueError):
            fail(what, "a number" if _hidden() else expected, describe(found), cause or "return a number", code)
        ok = math.isclose(f_num, e_num, rel_tol=rtol, abs_tol=atol)
        if _hidden():
            shown_e = "the reference's number on this case"
            shown_f = f"a number off by {abs(f_num - e_num) / max(abs(e_num), 1e-12):.0%}"
        else:
            shown_f, shown_e = f"{f_num:.6g}", f"{e_num:.6g}"
    expect(ok, what, shown_e, shown_f, cause, code)


def _hidden() -> bool:
    from coursekit.checks.engine import is_hidden

    return is_hidden()


def expect_plain_float(value: Any, what: str) -> float:
    """Fail unless the value is a Python float (not a tensor holding a graph)."""
    if isinstance(value, torch.Tensor):
        cause = (
            "a loss kept as a tensor holds on to its whole autograd graph; "
            "turn it into a number with loss.item()"
        )
        fail(what, "a Python float", describe(value), cause)
    expect(
        isinstance(value, float) and not isinstance(value, bool),
        what,
        "a Python float",
        describe(value),
        "convert with float(...) or tensor.item()",
    )
    return value


def expect_float_list(values: Any, length: int, what: str) -> list[float]:
    """Fail unless ``values`` is a list of ``length`` plain floats."""
    expect(
        isinstance(values, list),
        what,
        f"a list of {length} floats",
        describe(values),
        "collect the numbers in a Python list and return it",
    )
    expect(
        len(values) == length,
        what,
        f"{length} values",
        f"{len(values)} values",
        "one value per epoch or step: is the loop running for the number you were given?",
    )
    for i, v in enumerate(values):
        expect_plain_float(v, f"{what} (item {i})")
    return values


def expect_raises(
    exception: type[BaseException], call: Callable[[], Any], what: str, cause: str | None = None
) -> None:
    """Fail unless ``call()`` raises ``exception``."""
    try:
        result = call()
    except exception:
        return
    except Exception as error:  # noqa: BLE001 - shown to the student
        fail(what, f"{exception.__name__} raised", f"{type(error).__name__}: {error}", cause)
    fail(what, f"{exception.__name__} raised", f"no error; it returned {describe(result)}", cause)


def _short(t: torch.Tensor) -> str:
    flat = t.flatten()
    shown = ", ".join(f"{v:.5g}" for v in flat[:6].tolist())
    more = ", ..." if flat.numel() > 6 else ""
    return f"tensor {list(t.shape)} [{shown}{more}]"


def _show_check_failure(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> list[str]:
    """In Jupyter, a failed check shows its message, not a traceback through the checker's code."""
    lines = [f"{etype.__name__}: {line}" if i == 0 else line for i, line in enumerate(str(value).splitlines())]
    shell._showtraceback(etype, value, lines or [etype.__name__])
    return lines


def _install_jupyter_display() -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and hasattr(shell, "set_custom_exc"):
        shell.set_custom_exc((CheckFailed,), _show_check_failure)


_install_jupyter_display()
