"""Fault injection: ``autograder grade`` under faults of the student's code and of the machine."""
