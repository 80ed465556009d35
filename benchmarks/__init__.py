"""Benchmarks and test-data generators; they print figures and assert nothing."""
