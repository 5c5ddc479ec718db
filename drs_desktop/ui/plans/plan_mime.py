"""The drag payload of the plan editor: which servers, groups or waves are being dragged, and from where.

One project MIME type carries JSON, so that a drag between the inventory and the plan, or between two
windows of the app, holds plain data the receiver checks rather than pointers into a model that may have
changed. Dropping never trusts the payload: every reference is checked by the ``domain.plan.edit``
function the drop turns into.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Literal

from PySide6.QtCore import QMimeData

logger = logging.getLogger(__name__)

MIME_TYPE = "application/x-drs-desktop-servers"

Origin = Literal["plan", "inventory"]


@dataclass(frozen=True)
class DragPayload:
    """Dragged entries: ``servers``/``groups`` as (source wave index, key) with -1 for the inventory,
    or whole ``waves`` by index (a wave reorder). ``server_targets``: for an inventory drag, the target
    (its name in the inventory) of each server, in the order of ``servers`` (empty: every server is in
    the connected target)."""

    origin: Origin
    servers: tuple[tuple[int, str], ...] = ()
    groups: tuple[tuple[int, str], ...] = ()
    waves: tuple[int, ...] = ()
    server_targets: tuple[str, ...] = ()

    def target_of(self, position: int) -> str:
        """The target of ``servers[position]`` ("" when the drag did not say)."""
        return self.server_targets[position] if position < len(self.server_targets) else ""

    @property
    def is_empty(self) -> bool:
        return not (self.servers or self.groups or self.waves)


def encode(payload: DragPayload) -> QMimeData:
    document = {
        "origin": payload.origin,
        "servers": [
            {"wave": wave, "id": key, **({"target": target} if (target := payload.target_of(i)) else {})}
            for i, (wave, key) in enumerate(payload.servers)
        ],
        "groups": [{"wave": wave, "name": key} for wave, key in payload.groups],
        "waves": list(payload.waves),
    }
    data = QMimeData()
    data.setData(MIME_TYPE, json.dumps(document).encode("utf-8"))
    ids = [key for _, key in payload.servers]
    if ids:
        data.setText("\n".join(ids))  # dropping on a text editor gives the server IDs
    return data


def decode(data: QMimeData | None) -> DragPayload | None:
    """The payload, or None when ``data`` is not ours or is malformed."""
    if data is None or not data.hasFormat(MIME_TYPE):
        return None
    try:
        document = json.loads(bytes(data.data(MIME_TYPE).data()).decode("utf-8"))
        return _payload(document)
    except (ValueError, TypeError, KeyError) as exc:
        logger.warning("ignored a malformed drag payload: %s", exc)
        return None


def _payload(document: Any) -> DragPayload:
    if not isinstance(document, dict) or document.get("origin") not in ("plan", "inventory"):
        raise ValueError("not a drag payload")
    items = document.get("servers", [])
    servers = tuple((_int(item["wave"]), _str(item["id"])) for item in items)
    groups = tuple((_int(item["wave"]), _str(item["name"])) for item in document.get("groups", []))
    waves = tuple(_int(index) for index in document.get("waves", []))
    targets = tuple(_str(item.get("target", "")) for item in items)
    return DragPayload(document["origin"], servers, groups, waves, targets if any(targets) else ())


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value
