"""Benchmark workbench for distributed key-value stores."""

__version__ = "0.1.0"
