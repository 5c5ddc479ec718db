"""Preflight: the checks before a run, and the calls a run would make."""
