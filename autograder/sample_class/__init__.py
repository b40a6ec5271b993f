"""A small bundled class, right and wrong, for the main job and for demos.

Each student is a list of edits to the instructor's notebooks (see
``autograder.submissions``), so the class stays in step with the notebooks.
``BROKEN`` holds files that are not notebooks at all: grading must report them
and go on with everyone else.
"""

from __future__ import annotations

from autograder.submissions import Submission, right, wrong

#: assignment -> the class's submissions of it.
STUDENTS: dict[str, list[Submission]] = {
    "01_tensors": [
        Submission("ada", {}),
        wrong("ben", "to_batch", """
            def to_batch(values):
                return torch.tensor(values).reshape(-1, 1)
            """, why="int64 where float32 is asked for"),
        right("cleo", {"mse": """
            def mse(pred, target):
                if pred.shape != target.shape:
                    raise ValueError(f"{pred.shape} vs {target.shape}")
                return (pred - target).pow(2).mean()
            """}),
        wrong("dev", "mse", """
            def mse(pred, target):
                return ((pred - target) ** 2).mean()
            """, why="no guard against [N] vs [N, 1]"),
    ],
}

#: student -> (assignment, file content) of a submission that is not a valid notebook.
BROKEN: dict[str, tuple[str, str]] = {
    "eve": ("01_tensors", '{"cells": [ this is not JSON'),
}
