"""What grade cells call: one package per assignment, built on ``engine`` and ``expect``."""
