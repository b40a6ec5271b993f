"""Authoring tools: the notebooks of source/ are written from the Python files here.

Each ``nbNN_*.py`` module defines one assignment's cells with the helpers of
``authoring.cells``; ``python -m authoring.build`` writes ``source/`` and
regenerates ``release/`` with ``nbgrader generate_assignment``.
"""
