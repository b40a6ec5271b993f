"""What grade cells call: one module per assignment, built on ``expect``."""
