"""Bodies too large for one DynamoDB item, split into parts and joined back (docs/sync.md, "Sizes").

An item holds at most 400 KB, so a body whose UTF-8 JSON is over ``PART_BYTES`` travels as parts written
before the head that names them. The head keeps how many parts there are and the whole body's SHA-256, so a
reader that joins them can tell a complete body from a corrupt or partial one and refuse it, never apply it.

Slices are cut on UTF-8 character boundaries: a part is a DynamoDB string (``S``), which must be valid
UTF-8 on its own, so a multi-byte character is never split across two parts.

Part keys carry the change's sequence number as well as the entity's version: ``PART#<version>#<20-digit
seq>#<4-digit n>``. docs/sync.md writes ``PART#<version>#<n>``, which lets two desktops that both push
version ``v + 1`` of one entity overwrite each other's parts: the loser's head write fails on its version
condition, but its parts have already replaced the winner's, and the committed head then names a body that
no longer hashes right (a lost update). A sequence number belongs to one change alone, so parts keyed by it
never collide; the reader finds them from the head's own ``version`` and ``seq``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

#: The largest body (UTF-8 bytes) that stays inline in its item; larger ones are split into parts this big.
PART_BYTES = 350_000
#: Four digits in the part key: 9,999 parts (about 3.5 GB) is the most one body may have.
MAX_PARTS = 9_999


class BodyTooLarge(ValueError):
    """A body that would need more parts than the key format can number."""


class CorruptBody(ValueError):
    """Parts that are missing, malformed or do not hash to the head's ``sha256``."""


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def needs_parts(body: str) -> bool:
    return len(body.encode("utf-8")) > PART_BYTES


def split_body(body: str, limit: int = PART_BYTES) -> list[str]:
    """Slices of ``body`` of at most ``limit`` UTF-8 bytes each, cut between characters."""
    data = body.encode("utf-8")
    slices: list[str] = []
    start = 0
    while start < len(data):
        end = min(start + limit, len(data))
        # Back off over continuation bytes (0b10xxxxxx) so the slice ends on a character boundary.
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1
        slices.append(data[start:end].decode("utf-8"))
        start = end
    if len(slices) > MAX_PARTS:
        raise BodyTooLarge(f"a body of {len(data)} bytes needs {len(slices)} parts; at most {MAX_PARTS}")
    return slices


def part_sk(version: int, seq: int, n: int) -> str:
    return f"PART#{version}#{seq:020d}#{n:04d}"


def part_items(pk: str, version: int, seq: int, body: str) -> list[dict[str, Any]]:
    """The part items (DynamoDB attribute-value maps) for ``body``, in order."""
    return [
        {"pk": {"S": pk}, "sk": {"S": part_sk(version, seq, n)}, "data": {"S": data}}
        for n, data in enumerate(split_body(body))
    ]


def join_parts(entity: str, parts: Sequence[Mapping[str, Any] | None], expected_sha256: str) -> str:
    """The body that ``parts`` (items in order; ``None`` for a missing one) make, checked against its hash.

    ``entity`` names the entity in the error, so an operator learns which plan or execution is damaged.
    """
    slices: list[str] = []
    for n, item in enumerate(parts):
        if item is None:
            raise CorruptBody(f"{entity}: body part {n} of {len(parts)} is missing from the table")
        data = item.get("data")
        if not isinstance(data, Mapping) or not isinstance(data.get("S"), str):
            raise CorruptBody(f"{entity}: body part {n} of {len(parts)} has no string 'data'")
        slices.append(data["S"])
    body = "".join(slices)
    actual = sha256_hex(body)
    if actual != expected_sha256:
        raise CorruptBody(
            f"{entity}: the body joined from {len(parts)} parts has SHA-256 {actual[:12]}..., "
            f"its head says {expected_sha256[:12]}...: refused, nothing applied"
        )
    return body
