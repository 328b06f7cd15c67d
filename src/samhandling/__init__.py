"""Samhandling: one door in to mental-health help, and the shared tools around it."""

__version__ = "0.1.0"
