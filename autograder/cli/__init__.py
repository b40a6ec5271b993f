"""The ``autograder`` command line."""
