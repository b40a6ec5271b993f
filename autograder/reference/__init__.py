"""The instructor's answer key, one module per assignment.

Grade cells use these for everything but the solution cell under test, so a
mistake in one cell never costs the points of another.
"""
