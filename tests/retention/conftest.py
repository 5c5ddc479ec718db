"""The retention tests' DynamoDB: the sync tests' moto server fixture, one per test that asks for it."""

from __future__ import annotations

from tests.sync.conftest import dynamodb

__all__ = ["dynamodb"]
