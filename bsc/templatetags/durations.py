"""Template filters for durations (the lockout page says how long sign-in is paused)."""

from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def minutes(value: timedelta | None) -> int | None:
    """Whole minutes of a timedelta, rounded up (a 90-second pause reads as 2 minutes)."""
    if value is None:
        return None
    return max(1, -(-int(value.total_seconds()) // 60))
