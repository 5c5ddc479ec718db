"""This machine's time zone with its daylight-saving rules, for counting an operator's days.

``datetime.astimezone()`` with no argument gives today's UTC offset as a fixed zone: a drill that ended
at 23:30 in winter, looked at in summer, would be dated the next day, and its next test due a day late.
``LOCAL_ZONE`` gives each instant the offset the operating system's rules give *that* instant
(``time.localtime``), so a day is the day the operator lived. Stdlib only and no clock read: the
system's zone rules are read, as ``time.localtime`` reads them.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, tzinfo

__all__ = ["LOCAL_ZONE", "LocalZone"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class LocalZone(tzinfo):
    """The OS's local zone, instant by instant (the ``tzinfo`` recipe of Python's documentation)."""

    def fromutc(self, dt: datetime) -> datetime:
        stamp = (dt.replace(tzinfo=UTC) - _EPOCH).total_seconds()
        offset = time.localtime(stamp).tm_gmtoff
        return (dt + timedelta(seconds=offset)).replace(tzinfo=self)

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(seconds=self._local(dt).tm_gmtoff)

    def dst(self, dt: datetime | None) -> timedelta:
        local = self._local(dt)
        return timedelta(hours=1) if local.tm_isdst > 0 else timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return self._local(dt).tm_zone

    def _local(self, dt: datetime | None) -> time.struct_time:
        if dt is None:
            return time.localtime()
        wall = (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, 0, 0, -1)
        return time.localtime(time.mktime(wall))

    def __repr__(self) -> str:
        return "LocalZone()"


#: The one instance every caller shares (a ``tzinfo`` holds no state).
LOCAL_ZONE = LocalZone()
