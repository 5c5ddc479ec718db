"""DRS's service model, read from botocore at run time, and the HTTP router built from it.

The simulator never hand-copies shapes: whatever botocore release is installed defines the operations,
their URIs and their input/output shapes, so upgrading botocore upgrades the simulator (the native
Recovery Plan operations arrived that way). The model is loaded once per process and shared; it is
immutable after loading, so threads may read it freely.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from urllib.parse import unquote

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

logger = logging.getLogger(__name__)

SERVICE_NAME = "drs"

_LABEL = re.compile(r"^\{([A-Za-z0-9_]+)(\+?)\}$")


@dataclass(frozen=True)
class Segment:
    """One ``/``-separated piece of a ``requestUri``: a literal, a ``{label}`` or a greedy ``{label+}``."""

    literal: str | None = None
    label: str | None = None
    greedy: bool = False


@dataclass(frozen=True)
class Route:
    operation: str
    method: str
    segments: tuple[Segment, ...]
    # Constant query parameters some models put in requestUri ("/things?type=x"); DRS has none today.
    query: tuple[tuple[str, str], ...] = ()

    @property
    def specificity(self) -> tuple[int, int]:
        """Literal segments win over labels, and plain labels over greedy ones (Smithy's rule)."""
        literals = sum(1 for s in self.segments if s.literal is not None)
        greedy = sum(1 for s in self.segments if s.greedy)
        return (literals, -greedy)


@dataclass(frozen=True)
class RouteMatch:
    """Result of routing a request: either an operation with its decoded URI labels, or nothing.

    ``allowed_methods`` is non-empty when the path exists but not for this method (a 405, not a 404).
    """

    operation: str | None
    labels: dict[str, str]
    allowed_methods: frozenset[str] = frozenset()


def _parse_request_uri(uri: str) -> tuple[tuple[Segment, ...], tuple[tuple[str, str], ...]]:
    path, _, query = uri.partition("?")
    segments: list[Segment] = []
    for part in path.strip("/").split("/"):
        if part == "":
            continue
        m = _LABEL.match(part)
        if m:
            segments.append(Segment(label=m.group(1), greedy=bool(m.group(2))))
        else:
            segments.append(Segment(literal=part))
    constants: list[tuple[str, str]] = []
    for item in filter(None, query.split("&")):
        key, _, value = item.partition("=")
        constants.append((key, value))
    return tuple(segments), tuple(constants)


def _match_segments(segments: tuple[Segment, ...], raw_parts: list[str]) -> dict[str, str] | None:
    """Match raw (still percent-encoded) path parts; labels are URL-decoded after matching.

    Matching before decoding is what lets ``/tags/arn%3Aaws%3A...%3Ajob%2Fdrsjob-...`` route as one label:
    boto3 percent-encodes the whole ARN, ``/`` included. An unencoded ``/`` inside a plain label does not
    match, as in the Smithy routing rules.
    """
    labels: dict[str, str] = {}
    i = 0
    for index, seg in enumerate(segments):
        if seg.greedy:
            rest_segments = len(segments) - index - 1
            take = len(raw_parts) - i - rest_segments
            if take < 1:
                return None
            labels[seg.label or ""] = "/".join(unquote(p, errors="strict") for p in raw_parts[i : i + take])
            i += take
            continue
        if i >= len(raw_parts):
            return None
        part = raw_parts[i]
        if seg.literal is not None:
            if unquote(part) != seg.literal:
                return None
        else:
            if part == "":
                return None
            labels[seg.label or ""] = unquote(part, errors="strict")
        i += 1
    if i != len(raw_parts):
        return None
    return labels


class DrsModel:
    """The DRS service model plus a router over its operations' ``http`` traits."""

    def __init__(self, service_model: ServiceModel) -> None:
        self.service_model = service_model
        self.operation_names: tuple[str, ...] = tuple(service_model.operation_names)
        routes = []
        for name in self.operation_names:
            http = service_model.operation_model(name).http
            segments, query = _parse_request_uri(http.get("requestUri", "/"))
            routes.append(Route(name, http.get("method", "POST").upper(), segments, query))
        # Most specific first, so a literal path beats a label that could also match it.
        self.routes: tuple[Route, ...] = tuple(sorted(routes, key=lambda r: r.specificity, reverse=True))
        self._error_shapes: dict[str, StructureShape] = {
            shape.name: shape for shape in service_model.error_shapes
        }

    def operation(self, name: str) -> OperationModel:
        return self.service_model.operation_model(name)

    def error_shape(self, code: str) -> StructureShape | None:
        """The modeled exception named ``code``; botocore looks errors up service-wide, so do we."""
        return self._error_shapes.get(code)

    @property
    def error_codes(self) -> tuple[str, ...]:
        return tuple(self._error_shapes)

    def shape(self, name: str) -> Shape:
        return self.service_model.shape_for(name)

    def match(self, method: str, raw_path: str, query: dict[str, list[str]] | None = None) -> RouteMatch:
        """Route ``method`` + raw path. Undecodable escapes in a label count as no match."""
        raw_parts = [p for p in raw_path.split("/") if p != ""] if raw_path.strip("/") else []
        allowed: set[str] = set()
        for route in self.routes:
            try:
                labels = _match_segments(route.segments, raw_parts)
            except UnicodeDecodeError:
                labels = None
            if labels is None:
                continue
            if route.query and not all(v in (query or {}).get(k, []) for k, v in route.query):
                continue
            if route.method == method.upper():
                return RouteMatch(route.operation, labels)
            allowed.add(route.method)
        return RouteMatch(None, {}, frozenset(allowed))


@functools.cache
def load_model() -> DrsModel:
    """Load botocore's DRS model once per process (it takes ~100 ms; every request needs it)."""
    session = botocore.session.get_session()
    service_model = session.get_service_model(SERVICE_NAME)
    model = DrsModel(service_model)
    logger.debug(
        "Loaded DRS model %s with %d operations", service_model.api_version, len(model.operation_names)
    )
    return model


def operation_names() -> tuple[str, ...]:
    """Every operation in the installed botocore's DRS model."""
    return load_model().operation_names
