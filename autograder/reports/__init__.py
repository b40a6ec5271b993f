"""Reports on a graded class: score tables for the terminal."""
