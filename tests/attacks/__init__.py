"""Attacks on the batch grader: each must score 0 on the test cells it targets."""
