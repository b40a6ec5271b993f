"""torch's global state around a student's call: set before, checked after, put back.

A function that switches grad mode off, changes the default dtype, reseeds the
random generator, changes the number of threads or the deterministic flags changes
how every later cell behaves. Each check sets the state the course starts from
before calling the student, names what the call left changed (that costs the
call's own cell) and puts the state back, so no later cell pays for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class TorchState:
    """The global settings a student's function may leave changed."""

    grad_enabled: bool
    default_dtype: torch.dtype
    num_threads: int
    deterministic: bool
    anomaly: bool
    seed: int

    @classmethod
    def now(cls) -> TorchState:
        return cls(torch.is_grad_enabled(), torch.get_default_dtype(), torch.get_num_threads(),
                   torch.are_deterministic_algorithms_enabled(), torch.is_anomaly_enabled(), torch.initial_seed())


#: What each setting is called in a message.
_WORDS = {
    "grad_enabled": "grad mode (torch.set_grad_enabled / torch.no_grad left on)",
    "default_dtype": "the default dtype (torch.set_default_dtype)",
    "num_threads": "the number of threads (torch.set_num_threads)",
    "deterministic": "deterministic algorithms (torch.use_deterministic_algorithms)",
    "anomaly": "anomaly detection (torch.autograd.set_detect_anomaly)",
    "seed": "the random seed (torch.manual_seed)",
}

#: The state every check starts a student's call from (taken when the kit is imported).
COURSE_START = TorchState(True, torch.float32, torch.get_num_threads(), False, False, torch.initial_seed())


def apply(state: TorchState) -> None:
    """Make ``state`` current (the random generator is left alone: checks seed it themselves)."""
    torch.set_grad_enabled(state.grad_enabled)
    torch.set_default_dtype(state.default_dtype)
    if torch.get_num_threads() != state.num_threads:
        torch.set_num_threads(state.num_threads)
    if torch.are_deterministic_algorithms_enabled() != state.deterministic:
        torch.use_deterministic_algorithms(state.deterministic)
    torch.autograd.set_detect_anomaly(state.anomaly)


class Watch:
    """Around one call: start from ``COURSE_START``; afterwards, what changed, and put it back."""

    def __enter__(self) -> Watch:
        self.rng = torch.get_rng_state()
        self.seed = torch.initial_seed()
        apply(COURSE_START)
        self.before = TorchState.now()
        self.changed: list[str] = []
        return self

    def __exit__(self, *exc: object) -> None:
        after = TorchState.now()
        self.changed = [_WORDS[name] for name in _WORDS if getattr(after, name) != getattr(self.before, name)]
        apply(COURSE_START)
        if after.seed != self.before.seed:  # reseeded: the rest of the notebook keeps its own stream
            torch.set_rng_state(self.rng)
            torch.manual_seed(self.seed)
            torch.set_rng_state(self.rng)
