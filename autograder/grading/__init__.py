"""Grading: wrappers around nbgrader's commands, and the fast batch grader."""
