"""DRS's tag calls on a source server (TagResource, ListTagsForResource), through a ``DrsGateway``.

Kept beside ``drs.py`` (already the largest module of the layer) as ``native_plans.py`` is: the calls go
through the gateway's own plumbing (``DrsGateway.call``), so errors, DRS's clock and an expired role are
handled the same way. TagResource adds or overwrites the keys given and leaves every other tag alone,
which is what copying EC2 tags into DRS needs: a DRS tag is never removed. It is idempotent (sending the
same tags again changes nothing), so it is sent once and a caller may send it again after a failure.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from drs_desktop.aws.drs import DrsGateway
from drs_desktop.domain.drs.errors import DrsUnavailable

logger = logging.getLogger(__name__)


def resource_tags(gateway: DrsGateway, arn: str) -> dict[str, str]:
    """ListTagsForResource: the resource's tags now (an answer without a tag map is an error)."""

    def run(client: Any) -> Mapping[str, Any]:
        return client.list_tags_for_resource(resourceArn=arn)

    answer = gateway.call("ListTagsForResource", "read", run)
    tags = answer.get("tags")
    if not isinstance(tags, Mapping):
        raise DrsUnavailable(
            "DRS's ListTagsForResource answer has no tag map",
            code="MalformedResponse",
            operation="ListTagsForResource",
        )
    return {str(k): "" if v is None else str(v) for k, v in tags.items()}


def tag_resource(gateway: DrsGateway, arn: str, tags: Mapping[str, str]) -> None:
    """TagResource: add or overwrite ``tags`` on ``arn`` (other tags stay)."""
    if not tags:
        return

    def run(client: Any) -> None:
        client.tag_resource(resourceArn=arn, tags={str(k): str(v) for k, v in tags.items()})

    gateway.call("TagResource", "write", run)
    logger.info("Tagged %s with %d tag(s)", arn, len(tags))
