"""Identifiers, ARNs and timestamp strings in the forms DRS uses.

Every random choice in the simulator comes from a ``random.Random`` seeded from the scenario's seed and
a stream name, so the same seed gives the same IDs, timings and faults in the same order. Streams are
separate so that, say, an extra throttled call does not shift the IDs of the next job.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from typing import Literal

TimestampStyle = Literal["offset", "zulu"]


def stream(seed: int, name: str) -> random.Random:
    """An independent, reproducible random stream for ``name`` under ``seed``."""
    return random.Random(f"{seed}:{name}")


def stable_hex(*parts: object, length: int = 17) -> str:
    """Lower-case hex derived from ``parts``: the same inputs always give the same digits."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()
    return digest[:length]


def stable_fraction(*parts: object) -> float:
    """A number in [0, 1) derived from ``parts``; used for per-server fault decisions."""
    return int(stable_hex(*parts, length=13), 16) / float(16**13)


class IdFactory:
    """Unique DRS/EC2 identifiers (17 lower-case hex digits, as real DRS shows them) from one stream."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._seen: set[str] = set()

    def _unique(self, prefix: str) -> str:
        while True:
            value = f"{prefix}{self._rng.getrandbits(68):017x}"[: len(prefix) + 17]
            if value not in self._seen:
                self._seen.add(value)
                return value

    def source_server(self) -> str:
        return self._unique("s-")

    def job(self) -> str:
        return self._unique("drsjob-")

    def launch_template(self) -> str:
        return self._unique("lt-")

    def prefixed(self, prefix: str) -> str:
        """Any other ``<prefix><17 hex>`` ID (recovery plans ``rp-``, executions ``rpe-``...)."""
        return self._unique(prefix)

    def uuid(self) -> str:
        value = f"{self._rng.getrandbits(128):032x}"
        # Version 4, RFC 4122 variant: what boto3 and DRS produce for action and run IDs.
        value = value[:12] + "4" + value[13:16] + "89ab"[int(value[16], 16) % 4] + value[17:]
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


def format_ts(ts: float, style: TimestampStyle = "offset") -> str:
    """A DRS timestamp string.

    Real DRS answers ``2024-09-16T04:42:46.324841+00:00`` (microseconds, ``+00:00``) although the model's
    pattern and the docs show ``2024-06-15T15:00:00.000Z``; ``style`` picks one so clients get exercised
    on both (drs_api.md §5, §12).
    """
    moment = datetime.fromtimestamp(ts, UTC)
    if style == "zulu":
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.isoformat(timespec="microseconds")


def parse_ts(text: str) -> float:
    """Parse an ISO 8601 timestamp in either form (``...Z`` or ``...+00:00``) to POSIX seconds."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_instant_us(text: str) -> int:
    """An ISO 8601 timestamp (``...Z`` or ``...+00:00``) as whole microseconds since the epoch, exactly:
    integer arithmetic, where ``parse_ts``'s float can land a hair either side of a boundary."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // timedelta(microseconds=1)


def format_duration(seconds: float) -> str:
    """An ISO 8601 duration such as ``PT42S`` or ``P12DT3H4M5S`` (DRS's lagDuration form)."""
    total = max(0, int(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    out = "P"
    if days:
        out += f"{days}D"
    time_part = ""
    if hours:
        time_part += f"{hours}H"
    if minutes:
        time_part += f"{minutes}M"
    if secs or not (days or hours or minutes):
        time_part += f"{secs}S"
    if time_part:
        out += "T" + time_part
    return out


class Arns:
    """ARN builder for one account and region, in the forms of DRS's service reference."""

    def __init__(self, region: str, account_id: str, partition: str = "aws") -> None:
        self.region = region
        self.account_id = account_id
        self._prefix = f"arn:{partition}:drs:{region}:{account_id}:"

    def source_server(self, server_id: str) -> str:
        return f"{self._prefix}source-server/{server_id}"

    def job(self, job_id: str) -> str:
        return f"{self._prefix}job/{job_id}"

    def recovery_instance(self, instance_id: str) -> str:
        return f"{self._prefix}recovery-instance/{instance_id}"

    def recovery_plan(self, plan_id: str) -> str:
        return f"{self._prefix}recovery-plan/{plan_id}"

    def recovery_plan_step(self, plan_id: str, step_id: str) -> str:
        return f"{self._prefix}recovery-plan/{plan_id}/step/{step_id}"

    def recovery_plan_execution(self, execution_id: str) -> str:
        return f"{self._prefix}recovery-plan-execution/{execution_id}"

    def recovery_plan_execution_step(self, execution_id: str, index: int) -> str:
        return f"{self._prefix}recovery-plan-execution/{execution_id}/step/{index}"

    def split(self, arn: str) -> tuple[str, str] | None:
        """``(resource type, resource path)`` of an ARN of this account and region, else None."""
        if not arn.startswith(self._prefix):
            return None
        resource = arn[len(self._prefix) :]
        kind, sep, rest = resource.partition("/")
        if not sep or not rest:
            return None
        return kind, rest
