"""The sync tests' DynamoDB: moto's server, one per test that asks for it (``dynamodb_emulator``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sync.dynamodb_emulator import DynamoDbEmulator


@pytest.fixture
def dynamodb() -> Iterator[DynamoDbEmulator]:
    """A fresh moto DynamoDB server for one test, stopped after it."""
    emulator = DynamoDbEmulator()
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()
