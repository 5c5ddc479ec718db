"""The orchestration engine: the execution's spec, state and events, ``decide`` and ``apply``."""
