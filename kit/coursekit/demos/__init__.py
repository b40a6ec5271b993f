"""Helpers of the teaching (demo) cells: ready-made models and plots, one module per assignment.

Nothing here answers an exercise: a demo model is one the notebook shows, not one it asks for.
"""
