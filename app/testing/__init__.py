"""Helpers for tests, benchmarks and demos that need models without a hub download."""
