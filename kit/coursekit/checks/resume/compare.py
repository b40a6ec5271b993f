"""Small comparisons shared by 06_resume's verdicts (on decoded, untrusted observations)."""

from __future__ import annotations

from typing import Any

import torch

from coursekit.checks.engine import is_hidden


def tolerance(case: dict[str, Any]) -> tuple[float, float]:
    """(rtol, atol) for values a training run computes: tight on the CPU, looser on a GPU.

    On the CPU, a resumed run repeats the uninterrupted one's arithmetic exactly; these
    tolerances only absorb the last bits of another machine's reference numbers. A GPU
    adds up in another order than the CPU reference does.
    """
    if str(case.get("device", "cpu")).startswith("cuda"):
        return 1e-3, 1e-4
    return 1e-5, 1e-6


def close(found: Any, expected: Any, rtol: float, atol: float) -> bool:
    """Two tensors of the same shape (with values) that agree within the tolerances."""
    if not (isinstance(found, torch.Tensor) and isinstance(expected, torch.Tensor)):
        return False
    if found.device.type == "meta" or expected.device.type == "meta":
        return list(found.shape) == list(expected.shape)
    if list(found.shape) != list(expected.shape):
        return False
    return bool(torch.allclose(found.double(), expected.double(), rtol=rtol, atol=atol))


def states_close(found: Any, expected: Any, rtol: float = 0.0, atol: float = 0.0) -> bool:
    """Two state_dicts (name -> tensor) with the same names and values."""
    if not isinstance(found, dict) or not isinstance(expected, dict) or set(found) != set(expected):
        return False
    return all(close(found[k], expected[k], rtol, atol) for k in expected)


def optimizer_states_close(found: Any, expected: Any, rtol: float = 0.0, atol: float = 0.0) -> bool:
    """Two optimizer states (index -> {name: tensor or number}) that agree."""
    if not isinstance(found, dict) or not isinstance(expected, dict) or set(found) != set(expected):
        return False
    for index, entry in expected.items():
        other = found[index]
        if not isinstance(other, dict) or set(other) != set(entry):
            return False
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                if not close(other[key], value, rtol, atol):
                    return False
            elif other[key] != value:
                return False
    return True


def floats_close(found: list[float], expected: list[float], rtol: float, atol: float) -> bool:
    return len(found) == len(expected) and all(
        isinstance(f, (int, float)) and not isinstance(f, bool) and abs(f - e) <= atol + rtol * abs(e)
        for f, e in zip(found, expected, strict=True))


def shown(value: Any, hidden_text: str) -> str:
    """``value`` in a message on a visible test; ``hidden_text`` on a hidden one (its inputs stay hidden)."""
    return hidden_text if is_hidden() else str(value)


def epochs_word(count: int) -> str:
    return f"{count} epoch" + ("" if count == 1 else "s")
