"""The course's assignments: the one list every tool reads (notebooks, checks, judges, corpus).

Each assignment names its notebook and its *module*: the name its code goes by
everywhere (``coursekit.checks.<module>``, ``autograder.reference.<module>``,
``autograder.judges.<module>``, ``authoring/nbNN_<module>.py``, ``tests/corpus/<module>.py``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Assignment:
    """One assignment of the contract."""

    name: str  # the folder, e.g. "01_tensors"
    notebook: str  # the notebook file without .ipynb
    module: str  # the name of its code modules

    @property
    def number(self) -> str:
        return self.name.split("_", 1)[0]

    @property
    def authoring_module(self) -> str:
        return f"authoring.nb{self.number}_{self.module}"


#: In teaching order.
ASSIGNMENTS: tuple[Assignment, ...] = (
    Assignment("01_tensors", "tensors", "tensors"),
    Assignment("02_autograd", "autograd", "autograd"),
    Assignment("03_single_neuron", "delivery", "single_neuron"),
    Assignment("04_training_loop", "training_loop", "training_loop"),
    Assignment("05_devices_checkpoints", "devices_checkpoints", "devices"),
    Assignment("06_resume", "resume", "resume"),
)

BY_NAME: dict[str, Assignment] = {a.name: a for a in ASSIGNMENTS}
BY_MODULE: dict[str, Assignment] = {a.module: a for a in ASSIGNMENTS}


def get(name: str) -> Assignment:
    """The assignment called ``name``, or a ValueError that lists the course's assignments."""
    try:
        return BY_NAME[name]
    except KeyError:
        known = ", ".join(BY_NAME)
        raise ValueError(f"unknown assignment {name!r}; the course has {known}") from None
