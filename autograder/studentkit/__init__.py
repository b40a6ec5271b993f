"""The student kit, built from this repository: visible expectations, the wheel, the hand-out folder.

- ``expectations``: runs each instructor notebook's visible tests with the judge and ships
  what they expect as data in ``kit/coursekit/expected/<module>.json``;
- ``handout``: ``autograder student-kit DIR``: the kit's wheel, the release notebooks and a README.
"""
