"""The first line a child process prints, waited for with a deadline: a process that dies or hangs
before it prints fails the test at once with what it said, instead of blocking until pytest's timeout."""

from __future__ import annotations

import selectors
import subprocess

import pytest


def first_line(process: subprocess.Popen[str], timeout: float = 120) -> str:
    """``process``'s first line on standard output (stripped); fails the test when none comes in time."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            process.kill()
            _, stderr = process.communicate(timeout=30)
            pytest.fail(f"the process printed nothing in {timeout} s; its standard error:\n{stderr}")
    line = process.stdout.readline()
    if not line:
        _, stderr = process.communicate(timeout=30)
        pytest.fail(f"the process ended without printing (exit {process.returncode}):\n{stderr}")
    return line.strip()
