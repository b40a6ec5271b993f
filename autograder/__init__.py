"""The autograder of the PyTorch-fundamentals course.

Sub-packages say what they hold:

- ``reference``: the instructor's answer key, one module per assignment;
- ``data``: the course's data sets and seeded generators of fresh hidden data;
- ``checks``: what grade cells call, with failure messages for beginners;
- ``probes``: instruments that watch *how* student code trains (zero_grad, modes, devices);
- ``grading``, ``reports``, ``cli``: the instructor's tools.
"""

__version__ = "0.1.0"
