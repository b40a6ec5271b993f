"""The student kit of the PyTorch-fundamentals course: everything a notebook's kernel needs, and no answer.

- ``assignments``: the course's one registry of assignments;
- ``data``: the course's data sets and the seeded generators of fresh data;
- ``demos``: ready-made models and plots of the teaching cells;
- ``probes``: instruments that watch *how* code trains (zero_grad, modes, devices);
- ``checks``: what grade cells call. Visible checks compare with expectations shipped
  as data (``expected/``); hidden checks only *observe* the student's functions and hand
  the observations to a judge that lives with the instructor;
- ``runtime``: the half of ``autograder grade`` that runs inside its sandbox.
"""

__version__ = "0.2.0"
