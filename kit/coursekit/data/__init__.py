"""The course's data sets, and seeded generators of fresh data for hidden tests."""
