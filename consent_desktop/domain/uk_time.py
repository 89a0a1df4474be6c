"""Times shown to users: UK time with its zone named (``10:42 GMT``, ``10:42 BST``), whatever the workstation's
own time zone is set to.

Staff compare what the app says with the clock on the wall, the GP system and Spine (whose timestamps are UK local
time). A bare ``10:42`` from a workstation whose zone is wrong (a virtual desktop left on UTC) would be an hour out
for half the year with nothing to show it; a named zone makes the slip visible, and naive times are refused.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


def require_aware(moment: datetime, what: str) -> None:
    """Refuse a time without a zone: it would be read as the workstation's local time, whatever was meant."""
    if moment.utcoffset() is None:
        raise ValueError(f"{what} must carry its time zone")


def uk_clock_time(moment: datetime) -> str:
    """``10:42 BST``: hours and minutes in UK time, and the zone's name."""
    require_aware(moment, "a time shown to a user")
    local = moment.astimezone(UK)
    return f"{local:%H:%M} {local.tzname()}"
