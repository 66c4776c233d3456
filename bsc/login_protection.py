"""Log-in protection: the hooks django-axes calls (settings AXES_USERNAME_CALLABLE and AXES_COOLOFF_TIME).

Failures are counted per account and address pair (AXES_LOCKOUT_PARAMETERS), so a pair's lock-out touches
neither the account from elsewhere nor other accounts from that address. Each lock-out of a pair within a
day lasts twice the one before, so a pair that keeps guessing gets ever fewer guesses.
"""

from __future__ import annotations

from datetime import timedelta

from axes.models import AccessFailureLog, AccessLog
from django.conf import settings
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

# How far back a pair's failures raise its cool-off (bsc.tasks.login_failures_prune keeps about this much).
HISTORY = timedelta(days=1)


def username(request: HttpRequest | None, credentials: dict | None) -> str | None:
    """The email a log-in is for, as the log-in form cleans it (trimmed, lowercased): one counter per
    account whatever the letter case typed."""
    if credentials:
        value = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    elif request is not None:
        value = getattr(request, "POST", {}).get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        value = None
    if not isinstance(value, str):
        return None
    return value.strip().lower()[:255]  # axes keeps at most 255 characters


def cool_off(request: HttpRequest | None) -> timedelta:
    """How long the request's account and address pair stays locked once it reaches AXES_FAILURE_LIMIT.

    The n-th lock-out of a pair within HISTORY (and since its last successful log-in) lasts
    AXES_COOLOFF_MINUTES * 2**(n - 1), at most AXES_COOLOFF_MAX_MINUTES. The level is counted from the
    failures logged *before* the current one lands ((failures - 1) // limit), so it reads the same while
    the failure that locks is being recorded and afterwards: the lock is as long as its expiry says.
    """
    first = timedelta(minutes=settings.AXES_COOLOFF_MINUTES)
    longest = timedelta(minutes=settings.AXES_COOLOFF_MAX_MINUTES)
    account = username(request, None)
    address = getattr(request, "axes_ip_address", None)
    if account is None or address is None:
        return first
    now = getattr(request, "axes_attempt_time", None) or timezone.now()
    since = now - HISTORY
    last_login = AccessLog.objects.filter(username=account, ip_address=address).aggregate(at=Max("attempt_time"))["at"]
    if last_login is not None and last_login > since:
        since = last_login
    failures = AccessFailureLog.objects.filter(username=account, ip_address=address, attempt_time__gt=since).count()
    level = max(0, failures - 1) // settings.AXES_FAILURE_LIMIT
    if level >= 32:  # beyond any sensible maximum; keeps the power small
        return longest
    return min(first * 2**level, longest)
